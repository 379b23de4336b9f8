import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '@dd-lambda/logger';
import { loadConfig } from '@dd-lambda/config';
import type { UnitMessage } from '@dd-lambda/protocol';
import { MAX_BODY } from '../src/listener.js';
import { buildLifecycle } from '../src/lifecycle.js';
import { T0, invocationEvents } from './helpers.js';
import lightMyRequest from 'light-my-request';
import type { InjectOptions, Response } from 'light-my-request';
import type { RawBodyApp } from '@dd-lambda/worker-host/http';

/** fastify-style inject against the listener's node:http handler. */
const inject = (app: RawBodyApp, opts: InjectOptions): Promise<Response> => lightMyRequest(app.handler, opts);

function setup(env: Record<string, string> = {}) {
  const { config } = loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'fn', AWS_REGION: 'us-east-1', DD_API_KEY: 'k', ...env });
  const sent: { to: string; msg: UnitMessage }[] = [];
  let flushes = 0;
  const lc = buildLifecycle({
    config,
    tags: { functionname: 'fn', runtime: 'AWS_Lambda_java21' },
    logger: createLogger({ level: 'silent' }),
    send: (to, msg) => sent.push({ to, msg }),
    requestFlush: () => flushes++,
    sandboxStartMs: Date.now(),
  });
  return { lc, sent, flushes: () => flushes };
}

test('hello and flush answer 200 {} at once; the flush is requested after the answer; other paths 404', async () => {
  const { lc, flushes } = setup();
  const hello = await inject(lc.app, { method: 'GET', url: '/lambda/hello' });
  assert.deepEqual([hello.statusCode, hello.body], [200, '{}']);
  const flush = await inject(lc.app, { method: 'POST', url: '/lambda/flush', payload: '{}', headers: { 'content-type': 'application/json' } });
  assert.deepEqual([flush.statusCode, flush.body, flushes()], [200, '{}', 1]);
  const get = await inject(lc.app, { method: 'GET', url: '/lambda/flush' });
  assert.deepEqual([get.statusCode, flushes()], [200, 2]);
  const other = await inject(lc.app, { method: 'GET', url: '/lambda/other' });
  assert.equal(other.statusCode, 404);
  assert.deepEqual([lc.counters.hellos, lc.counters.flushes, lc.counters.notFound], [1, 2, 1]);
});

test('start-invocation answers the extracted context; end-invocation completes the span, which goes to the trace agent', async () => {
  const { lc, sent } = setup();
  lc.invocation({ kind: 'invoke', requestId: 'r1', deadlineMs: T0 + 3000, invokedFunctionArn: 'arn', receivedAt: T0 });
  const start = await inject(lc.app, {
    method: 'POST',
    url: '/lambda/start-invocation',
    headers: { 'lambda-runtime-aws-request-id': 'r1', 'datadog-meta-lang': 'java' },
    payload: JSON.stringify({ headers: { traceparent: '00-0000000000000000000000000000abcd-00000000000000ef-01' } }),
  });
  assert.deepEqual(
    [start.statusCode, start.body, start.headers['x-datadog-trace-id'], start.headers['x-datadog-sampling-priority'], start.headers['x-datadog-parent-id']],
    [200, '{}', String(0xabcd), '1', undefined],
  );
  const end = await inject(lc.app, {
    method: 'POST',
    url: '/lambda/end-invocation',
    headers: { 'lambda-runtime-aws-request-id': 'r1', 'x-datadog-span-id': '42', 'content-type': 'application/json' },
    payload: '{"statusCode":201}',
  });
  assert.deepEqual([end.statusCode, end.body], [200, '{}']);
  lc.processor.platform(Object.values(invocationEvents('r1', T0, { runtimeMs: 5, reportMs: 6 })));
  const spans = sent.filter((s) => s.msg.t === 'SPANS');
  assert.equal(spans.length, 1);
  assert.equal(spans[0]?.to, 'trace-agent');
  const span = spans[0]?.msg.t === 'SPANS' ? spans[0].msg.spans[0] : undefined;
  assert.deepEqual([span?.traceId, span?.spanId, span?.parentId, span?.meta['http.status_code']], [0xabcdn, 42n, 0xefn, '201']);
  const metrics = sent.filter((s) => s.msg.t === 'METRICS');
  assert.ok(metrics.length > 0 && metrics.every((m) => m.to === 'dogstatsd'));
  assert.ok(
    metrics.every((m) => m.msg.t === 'METRICS' && m.msg.points.every((p) => !p.tags.some((t) => t.startsWith('runtime:')))),
    'the function tags carry runtime already',
  );
});

test('an oversize body is read as {} (the invocation still gets its span); garbage JSON is counted, never a 500', async () => {
  const { lc, sent } = setup();
  lc.invocation({ kind: 'invoke', requestId: 'r1', deadlineMs: T0 + 3000, invokedFunctionArn: 'arn', receivedAt: T0 });
  const big = await inject(lc.app, {
    method: 'POST',
    url: '/lambda/start-invocation',
    headers: { 'content-type': 'application/json' },
    payload: Buffer.alloc(MAX_BODY + 10, 0x20),
  });
  assert.deepEqual([big.statusCode, big.body], [200, '{}']);
  const bad = await inject(lc.app, { method: 'POST', url: '/lambda/end-invocation', headers: { 'content-type': 'text/plain' }, payload: '{{{' });
  assert.equal(bad.statusCode, 200);
  const none = await inject(lc.app, { method: 'POST', url: '/lambda/end-invocation' });
  assert.equal(none.statusCode, 200);
  assert.deepEqual([lc.counters.oversize, lc.processor.counters.badBodies, lc.processor.counters.unpairedEnds], [1, 1, 1]);
  lc.processor.platform(Object.values(invocationEvents('r1', T0, { runtimeMs: 5, reportMs: 6 })));
  assert.equal(sent.filter((s) => s.msg.t === 'SPANS').length, 1);
});

test("messages: OOM from logs and the trace agent's placeholder; SHUTDOWN drains every started invocation", async () => {
  const { lc, sent } = setup();
  lc.invocation({ kind: 'invoke', requestId: 'r1', deadlineMs: T0 + 3000, invokedFunctionArn: 'arn', receivedAt: T0 });
  lc.message({ t: 'OOM', requestId: 'r1', timestamp: T0 / 1000 });
  lc.message({ t: 'OOM', requestId: 'r1', timestamp: T0 / 1000 });
  lc.message({ t: 'TRACER_SPAN', kind: 'placeholder', requestId: 'r1', traceId: 3n, spanId: 4n, parentId: 0n, meta: {}, metrics: {} });
  lc.invocation({ kind: 'shutdown', reason: 'spindown', deadlineMs: T0 + 2000, receivedAt: T0 + 10 });
  await lc.drain(Date.now() + 1000);
  const names = sent.flatMap((s) => (s.msg.t === 'METRICS' ? s.msg.points.map((p) => p.name.replace('aws.lambda.enhanced.', '')) : []));
  // The first invocation's point waits for platform.initStart (the durable tag); SHUTDOWN releases it.
  assert.deepEqual(names, ['out_of_memory', 'invocations', 'shutdowns']);
  const spans = sent.flatMap((s) => (s.msg.t === 'SPANS' ? s.msg.spans : []));
  assert.deepEqual(
    spans.map((s) => [s.name, s.traceId, s.spanId]),
    [['aws.lambda', 3n, 4n]],
  );
});
