import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PRICE_PER_GB_S, PRICE_PER_REQUEST } from '../src/enhanced-metrics.js';
import { PROACTIVE_INIT_MS } from '../src/context-store.js';
import { T0, ev, harness, invocationEvents } from './helpers.js';

const close = (a: number | undefined, b: number): void => assert.ok(a !== undefined && Math.abs(a - b) < 1e-9, `${a} ≈ ${b}`);

test('a cold then a warm invocation: every report metric, in its unit, with cold_start tags', () => {
  const h = harness();
  h.p.platform([
    ev('platform.initStart', T0 - 400, { initializationType: 'on-demand', phase: 'init' }),
    ev('platform.initReport', T0 - 100, { initializationType: 'on-demand', phase: 'init', metrics: { durationMs: 300.5 } }),
  ]);
  h.p.invoke('r1', T0);
  const a = invocationEvents('r1', T0, { runtimeMs: 20.25, reportMs: 31.5, billedMs: 32, memMB: 1024, usedMB: 70, initMs: 300.5, bytes: 99 });
  h.p.platform([a.start, a.done, a.report]);
  h.p.invoke('r2', T0 + 1000);
  const b = invocationEvents('r2', T0 + 1000, { runtimeMs: 5, reportMs: 8, billedMs: 8, memMB: 1024, usedMB: 71 });
  h.p.platform([b.start, b.done, b.report]);

  const by = (n: string) => h.named(n).map((p) => [p.value, p.tags.join(','), p.timestamp]);
  assert.deepEqual(by('invocations'), [
    [1, 'cold_start:true', T0 / 1000],
    [1, 'cold_start:false', (T0 + 1000) / 1000],
  ]);
  assert.deepEqual(
    by('init_duration'),
    [[0.3005, 'init_type:on-demand', Math.floor((T0 - 100) / 1000)]],
    "from initReport, once (the report's initDurationMs is not counted again)",
  );
  assert.deepEqual(
    h.named('runtime_duration').map((p) => p.value),
    [20.25, 5],
  );
  assert.deepEqual(
    h.named('produced_bytes').map((p) => p.value),
    [99, 12],
  );
  assert.deepEqual(
    h.named('duration').map((p) => p.value),
    [0.0315, 0.008],
  );
  assert.deepEqual(
    h.named('billed_duration').map((p) => p.value),
    [0.032, 0.008],
  );
  assert.deepEqual(
    h.named('post_runtime_duration').map((p) => p.value),
    [31.5 - 20.25, 3],
  );
  assert.deepEqual(
    h.named('max_memory_used').map((p) => p.value),
    [70, 71],
  );
  assert.deepEqual(
    h.named('memorysize').map((p) => p.value),
    [1024, 1024],
  );
  close(h.named('estimated_cost')[0]?.value, PRICE_PER_REQUEST + 0.032 * 1 * PRICE_PER_GB_S.x86_64);
  assert.equal(h.sums()['errors'], undefined);
  assert.equal(h.sums()['timeouts'], undefined);
  assert.ok(h.points.every((p) => p.kind === 'distribution' && p.name.startsWith('aws.lambda.enhanced.')));
  h.p.shutdown(T0 + 5000);
  assert.deepEqual([h.sums()['shutdowns'], h.sums()['unused_init']], [1, undefined]);
});

test('errors and timeouts: counted once per request whatever reports them; arm64 price', () => {
  const h = harness({ architecture: 'arm64' });
  h.p.invoke('e1', T0);
  const e = invocationEvents('e1', T0, { runtimeMs: 3, reportMs: 4, status: 'error', errorType: 'Runtime.HandlerError', billedMs: 4 });
  h.p.platform([e.start]);
  h.p.startInvocation({ 'lambda-runtime-aws-request-id': 'e1' }, undefined);
  h.p.endInvocation({ 'lambda-runtime-aws-request-id': 'e1', 'x-datadog-invocation-error': 'true' }, undefined);
  h.p.platform([e.done, e.report]);
  h.p.invoke('t1', T0 + 100);
  const t = invocationEvents('t1', T0 + 100, { runtimeMs: 3000, reportMs: 3000, status: 'timeout', billedMs: 3000 });
  h.p.platform([t.start, t.done, t.report]);
  assert.deepEqual([h.sums()['errors'], h.sums()['timeouts'], h.sums()['invocations']], [2, 1, 2]);
  close(h.named('estimated_cost')[0]?.value, PRICE_PER_REQUEST + 0.004 * 0.125 * PRICE_PER_GB_S.arm64);
});

test('out_of_memory: log line, errorType and memory used = size count once per request', () => {
  const h = harness();
  h.p.invoke('o1', T0);
  const o1 = invocationEvents('o1', T0, { runtimeMs: 50, reportMs: 60, status: 'error', errorType: 'Runtime.OutOfMemory', memMB: 128, usedMB: 128 });
  h.p.platform([o1.start]);
  h.p.oom(undefined, T0 + 10);
  h.p.oom('o1', T0 + 11);
  h.p.platform([o1.done, o1.report]);
  h.p.invoke('o2', T0 + 1000);
  const o2 = invocationEvents('o2', T0 + 1000, { runtimeMs: 5, reportMs: 6, memMB: 128, usedMB: 128 });
  h.p.platform([o2.start, o2.done, o2.report]);
  h.p.invoke('ok', T0 + 2000);
  const ok = invocationEvents('ok', T0 + 2000, { runtimeMs: 5, reportMs: 6, memMB: 128, usedMB: 127 });
  h.p.platform([ok.start, ok.done, ok.report]);
  assert.equal(h.sums()['out_of_memory'], 2);
  assert.deepEqual(
    h.named('out_of_memory').map((p) => p.timestamp),
    [Math.floor((T0 + 10) / 1000), Math.floor((T0 + 1006) / 1000)],
  );
});

test('proactive initialization: a first invoke over 10 s after the sandbox started is not a cold start', () => {
  const h = harness({ sandboxStartMs: T0 - PROACTIVE_INIT_MS - 1 });
  h.p.invoke('r1', T0);
  h.p.platform([ev('platform.initStart', T0 - PROACTIVE_INIT_MS, { runtimeVersion: 'nodejs:20.v48' })]);
  assert.deepEqual(h.named('invocations')[0]?.tags, ['cold_start:false', 'proactive_initialization:true']);
  const rt = harness({ runtimeTag: 'provided.al2023' });
  rt.p.invoke('r1', T0);
  rt.p.platform([ev('platform.initStart', T0 - 100, {})]);
  assert.deepEqual(rt.named('invocations')[0]?.tags, ['cold_start:true', 'runtime:provided.al2023']);
});

test('durable functions: a DurableFunction runtime version tags every enhanced metric, the first invocation included (held until initStart)', () => {
  const h = harness();
  h.p.invoke('r1', T0);
  assert.equal(h.named('invocations').length, 0, 'the first point waits for platform.initStart');
  h.p.platform([ev('platform.initStart', T0 - 300, { runtimeVersion: 'python:3.14.DurableFunction.v6' })]);
  const e = invocationEvents('r1', T0, { runtimeMs: 3, reportMs: 4 });
  h.p.platform([e.start, e.done, e.report]);
  h.p.invoke('r2', T0 + 100);
  assert.deepEqual(
    h.named('invocations').map((p) => p.tags.includes('durable_function:true')),
    [true, true],
  );
  assert.ok(h.named('duration').every((p) => p.tags.includes('durable_function:true')));
  // A regular runtime: no tag; without any initStart the point goes out at runtimeDone.
  const plain = harness();
  plain.p.invoke('r1', T0);
  const pe = invocationEvents('r1', T0, { runtimeMs: 3, reportMs: 4 });
  plain.p.platform([pe.start, pe.done]);
  assert.deepEqual(plain.named('invocations')[0]?.tags, ['cold_start:true']);
});

test('SHUTDOWN without an invocation is an unused init; snapstart restore; DD_ENHANCED_METRICS=false emits nothing', () => {
  const h = harness();
  h.p.platform([ev('platform.restoreStart', T0 - 50, {}), ev('platform.restoreReport', T0, { metrics: { durationMs: 42 } })]);
  h.p.shutdown(T0 + 10);
  assert.deepEqual(h.sums(), { snapstart_restore_duration: 0.042, shutdowns: 1, unused_init: 1 });
  const off = harness({ enhancedMetrics: false });
  off.p.invoke('r1', T0);
  const e = invocationEvents('r1', T0, { runtimeMs: 1, reportMs: 2, status: 'timeout' });
  off.p.platform([e.start, e.done, e.report]);
  off.p.shutdown(T0 + 10);
  assert.deepEqual(off.points, []);
});

test('managed instances: platform.start is the invocation, the report its outcome', () => {
  const h = harness({ managed: true });
  h.p.platform([ev('platform.start', T0, { requestId: 'm1' }), ev('platform.start', T0 + 1, { requestId: 'm2' })]);
  h.p.platform([
    ev('platform.report', T0 + 20, { requestId: 'm1', status: 'error', metrics: { durationMs: 20 } }),
    ev('platform.report', T0 + 25, { requestId: 'm2', status: 'success', metrics: { durationMs: 24 } }),
  ]);
  assert.deepEqual([h.sums()['invocations'], h.sums()['errors']], [2, 1]);
  assert.deepEqual(
    h.named('runtime_duration').map((p) => p.value),
    [20, 24],
  );
  assert.deepEqual(
    h.named('invocations').map((p) => p.tags),
    [[], []],
    'no cold_start tag in managed mode, as bottlecap',
  );
});
