import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogProcessor, statusOf } from '../src/processor.js';
import { applyRules, compileRules } from '../src/rules.js';
import type { IntakeLog, ProcessorOptions } from '../src/processor.js';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:fn';
const OPTS: ProcessorOptions = { functionArn: ARN, service: 'fn', tags: ['functionname:fn', 'env:dev'], rules: [], managed: false };
const T = '2026-11-21T10:00:00.000Z';
const ev = (type: string, record: unknown): unknown => ({ time: T, type, record });
const msgs = (logs: IntakeLog[]): string[] => logs.map((l) => l.message.message);
const ids = (logs: IntakeLog[]): (string | null)[] => logs.map((l) => l.message.lambda.request_id);

test('platform lines: INIT_START, START, END with timeout and failure, REPORT with every duration', () => {
  const p = new LogProcessor(OPTS);
  const out = p.process([
    ev('platform.initStart', { initializationType: 'on-demand', phase: 'init', runtimeVersion: 'nodejs:22.v9', runtimeVersionArn: 'arn:rt' }),
    ev('platform.initRuntimeDone', { initializationType: 'on-demand', status: 'success' }),
    ev('platform.start', { requestId: 'r1', version: '$LATEST' }),
    ev('platform.runtimeDone', { requestId: 'r1', status: 'success', metrics: { durationMs: 12.5, producedBytes: 8 } }),
    ev('platform.report', {
      requestId: 'r1',
      status: 'success',
      metrics: { durationMs: 20.25, billedDurationMs: 21, memorySizeMB: 128, maxMemoryUsedMB: 60, initDurationMs: 150.333 },
    }),
    ev('platform.start', { requestId: 'r2' }),
    ev('platform.runtimeDone', { requestId: 'r2', status: 'timeout', metrics: { durationMs: 3000.4 } }),
    ev('platform.start', { requestId: 'r3', version: '7' }),
    ev('platform.runtimeDone', { requestId: 'r3', status: 'error', errorType: 'Runtime.ExitError' }),
    ev('platform.report', { requestId: 'r3', status: 'error', metrics: { durationMs: 5, billedDurationMs: 5, memorySizeMB: 128, maxMemoryUsedMB: 128 } }),
  ]);
  assert.deepEqual(msgs(out), [
    'INIT_START Runtime Version: nodejs:22.v9 Runtime Version ARN: arn:rt',
    'START RequestId: r1 Version: $LATEST',
    'END RequestId: r1',
    'REPORT RequestId: r1 Duration: 20.25 ms Runtime Duration: 12.50 ms Post Runtime Duration: 7.75 ms Billed Duration: 21 ms Memory Size: 128 MB Max Memory Used: 60 MB Init Duration: 150.33 ms',
    'START RequestId: r2 Version: $LATEST',
    'END RequestId: r2 Task timed out after 3.00 seconds',
    'START RequestId: r3 Version: 7',
    'END RequestId: r3 Task failed: "Runtime.ExitError"',
    'REPORT RequestId: r3 Duration: 5.00 ms Billed Duration: 5 ms Memory Size: 128 MB Max Memory Used: 128 MB',
  ]);
  assert.deepEqual(
    out.map((l) => l.message.status),
    ['info', 'info', 'info', 'info', 'info', 'error', 'info', 'error', 'error'],
  );
  assert.deepEqual(ids(out), [null, 'r1', 'r1', 'r1', 'r2', 'r2', 'r3', 'r3', 'r3']);
  assert.deepEqual([...p.oom], [], "platform OOM signals are the lifecycle unit's, not read here");
  const first = out[1] as IntakeLog;
  assert.deepEqual(
    [first.hostname, first.service, first.ddsource, first.ddtags, first.message.lambda.arn, first.message.timestamp],
    [ARN, 'fn', 'lambda', 'functionname:fn,env:dev', ARN, Date.parse(T)],
  );
});

test('request ids: current between start and runtimeDone; lines before START wait for it; JSON logs carry their own', () => {
  const p = new LogProcessor(OPTS);
  const init = p.process([ev('function', 'init line\n'), ev('extension', 'ext says hi')]);
  assert.deepEqual([msgs(init), ids(init)], [['ext says hi'], [null]], 'the function line is held until the next START');
  const out = p.process([
    ev('platform.start', { requestId: 'r1' }),
    ev('function', '2026-11-21T10:00:00.000Z\tr1\tINFO\tin r1'),
    ev('function', { timestamp: T, level: 'WARN', requestId: 'other-id', message: 'json with its own id' }),
    ev('platform.runtimeDone', { requestId: 'r1', status: 'success' }),
    ev('function', 'after the end'),
  ]);
  assert.deepEqual(msgs(out), [
    'init line',
    'START RequestId: r1 Version: $LATEST',
    '2026-11-21T10:00:00.000Z\tr1\tINFO\tin r1',
    '{"timestamp":"2026-11-21T10:00:00.000Z","level":"WARN","requestId":"other-id","message":"json with its own id"}',
    'END RequestId: r1',
  ]);
  assert.deepEqual(ids(out), ['r1', 'r1', 'r1', 'other-id', 'r1']);
  assert.deepEqual(
    out.map((l) => l.message.status),
    ['info', 'info', 'info', 'warn', 'info'],
  );
  const orphan = p.takeOrphans();
  assert.deepEqual([msgs(orphan), ids(orphan)], [['after the end'], [null]]);
  // Managed instances: nothing is held.
  const m = new LogProcessor({ ...OPTS, managed: true });
  assert.deepEqual(ids(m.process([ev('function', 'x')])), [null]);
});

test('levels and statuses, ddtags lifted, multi-line kept, text formats, OOM strings', () => {
  assert.deepEqual(['FATAL', 'critical', 'Err', 'ERROR', 'warn', 'WARNING', 'info', 'INFORMATION', 'debug', 'TRACE', 'verbose'].map(statusOf), [
    'critical',
    'critical',
    'error',
    'error',
    'warn',
    'warn',
    'info',
    'info',
    'debug',
    'trace',
    undefined,
  ]);
  const p = new LogProcessor(OPTS);
  const out = p.process([
    ev('platform.start', { requestId: 'r1' }),
    ev('function', '{"level":"error","message":"bad thing","ddtags":"team:a,tier:1"}\n'),
    ev('function', { status: 'debug', message: { text: 'nested', ddtags: 'n:1' } }),
    ev('function', 'line one\nline two\n   at frame'),
    ev('function', '[ERROR]\t2026-11-21T10:00:00Z\tr1\tpython error'),
    ev('function', '2026-11-21T10:00:00.000Z\tr1\tERROR\tInvoke Error {"errorType":"Error"}'),
    ev('function', '<--- JS stacktrace --->\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory'),
    ev('function', '{not json'),
    ev('function', '2026-11-21T10:00:00.000Z\tr1\tINFO\t{"level":"debug","msg":"json after the prefix","ddtags":"p:1"}'),
  ]);
  const [, json, nested, multi, py, node, oom, almost, prefixed] = out;
  assert.deepEqual([json?.message.status, json?.ddtags, json?.message.message], ['error', 'functionname:fn,env:dev,team:a,tier:1', '{"level":"error","message":"bad thing"}']);
  assert.deepEqual([nested?.message.status, nested?.ddtags, nested?.message.message], ['debug', 'functionname:fn,env:dev,n:1', '{"status":"debug","message":{"text":"nested"}}']);
  assert.equal(multi?.message.message, 'line one\nline two\n   at frame');
  assert.equal(py?.message.status, 'error');
  assert.equal(node?.message.status, 'error');
  assert.equal(oom?.message.status, 'error');
  assert.deepEqual([...p.oom], ['r1']);
  assert.deepEqual([almost?.message.message, almost?.message.status], ['{not json', 'info']);
  assert.deepEqual(
    [prefixed?.message.status, prefixed?.ddtags, prefixed?.message.message],
    ['debug', 'functionname:fn,env:dev,p:1', '2026-11-21T10:00:00.000Z\tr1\tINFO\t{"level":"debug","msg":"json after the prefix"}'],
  );
});

test("the extension's own informational lines are not shipped; its warnings are", () => {
  const p = new LogProcessor(OPTS);
  const out = p.process([
    ev('platform.start', { requestId: 'r1' }),
    ev('extension', '{"level":30,"time":1,"component":"supervisor","msg":"flush"}'),
    ev('extension', '{"level":40,"time":1,"component":"dogstatsd","msg":"dropped input","code":"DSD_ERR_X","n":3}'),
    ev('extension', '{"level":50,"time":1,"pid":7,"component":"supervisor","msg":"flush failed","err":{"code":"E"}}'),
    ev('extension', 'another extension, plain text'),
  ]);
  // Shaped as Datadog's extension prints its lines; the status from pino's level; no request id.
  assert.deepEqual(msgs(out).slice(1), [
    'DD_EXTENSION | WARN | dropped input component=dogstatsd code=DSD_ERR_X n=3',
    'DD_EXTENSION | ERROR | flush failed component=supervisor err={"code":"E"}',
    'another extension, plain text',
  ]);
  assert.deepEqual(
    out.slice(1).map((e) => e.message.status),
    ['warn', 'error', 'info'],
  );
  assert.equal(p.counters.ownLines, 1);
});

test('processing rules: exclude, include, mask in order; bad rules reported and skipped', () => {
  const { rules, errors } = compileRules([
    { type: 'exclude_at_match', name: 'no_health', pattern: 'GET /health' },
    { type: 'mask_sequences', name: 'cards', pattern: '\\d{4}(?:[ -]?\\d{4}){3}', replace_placeholder: '[masked_card]' },
    { type: 'include_at_match', name: 'orders_only', pattern: 'order' },
    { type: 'mask_sequences', name: 'no placeholder', pattern: 'x' },
    { type: 'exclude_at_match', name: 'broken', pattern: '(' },
    { type: 'drop_it', pattern: 'x' },
  ]);
  assert.equal(rules.length, 3);
  assert.equal(errors.length, 3);
  assert.match(errors.join('\n'), /no placeholder.*replace_placeholder[\s\S]*broken.*does not compile[\s\S]*type must be/);
  assert.equal(applyRules('GET /health order', rules), undefined);
  assert.equal(applyRules('order paid with 4111 1111 1111 1111 and 5500-0000-0000-0004', rules), 'order paid with [masked_card] and [masked_card]');
  assert.equal(applyRules('unrelated line', rules), undefined);
  const p = new LogProcessor({ ...OPTS, rules });
  const out = p.process([ev('platform.start', { requestId: 'r1' }), ev('function', 'order 1 card 4111111111111111'), ev('function', 'GET /health')]);
  assert.deepEqual(msgs(out), ['order 1 card [masked_card]']);
  assert.equal(p.counters.excluded, 2, 'START (no "order") and the health check');
});

test("pino's numeric levels map to statuses (the extension's own warn and error lines ship as such)", async () => {
  const { statusOf } = await import('../src/processor.js');
  assert.deepEqual([statusOf(40), statusOf(50), statusOf(60), statusOf(30), statusOf(35), statusOf('WARN')], ['warn', 'error', 'critical', 'info', undefined, 'warn']);
});
