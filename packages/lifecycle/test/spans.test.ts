import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TIMEOUT_MESSAGE, maybeBase64 } from '../src/spans.js';
import { T0, byName, ev, event, harness, invocationEvents } from './helpers.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

test("universal instrumentation: start/end-invocation with an error yields one aws.lambda span with the tracer's ids", () => {
  const h = harness();
  h.p.platform([ev('platform.initStart', T0 - 300, { initializationType: 'on-demand' }), ev('platform.initReport', T0 - 50, { metrics: { durationMs: 250 } })]);
  h.p.invoke('r1', T0);
  const e = invocationEvents('r1', T0 + 1, { runtimeMs: 40, reportMs: 45, status: 'error', errorType: 'Runtime.HandlerError' });
  h.p.platform([e.start]);
  const answer = h.p.startInvocation(
    { 'lambda-runtime-aws-request-id': 'r1', 'Datadog-Meta-Lang': 'java' },
    Buffer.from(JSON.stringify({ headers: { 'x-datadog-trace-id': '1111', 'x-datadog-parent-id': '2222', 'x-datadog-sampling-priority': '2' } })),
  );
  assert.deepEqual(answer, { 'x-datadog-trace-id': '1111', 'x-datadog-sampling-priority': '2' });
  h.p.endInvocation(
    {
      'lambda-runtime-aws-request-id': 'r1',
      'x-datadog-trace-id': '1111',
      'x-datadog-span-id': '9999',
      'x-datadog-sampling-priority': '2',
      'x-datadog-invocation-error': 'true',
      'x-datadog-invocation-error-msg': b64('boom'),
      'x-datadog-invocation-error-type': 'java.lang.IllegalStateException',
      'x-datadog-invocation-error-stack': b64('at Handler.handle(Handler.java:10)\n'),
      'x-datadog-tags': '_dd.p.dm=-0,bad=1',
    },
    Buffer.from('{"statusCode":500,"body":"x"}'),
  );
  assert.equal(h.spans.length, 0, 'nothing before runtimeDone: the duration comes from the platform');
  h.p.platform([e.done]);
  const span = byName(h.spans, 'aws.lambda');
  assert.deepEqual([span.traceId, span.spanId, span.parentId, span.resource, span.service, span.type, span.error], [1111n, 9999n, 2222n, 'My-Fn', 'my-fn', 'serverless', 1]);
  assert.equal(span.start, BigInt(T0 + 1) * 1_000_000n);
  assert.equal(span.duration, 40_000_000n);
  assert.deepEqual(
    [
      span.meta['request_id'],
      span.meta['cold_start'],
      span.meta['span.kind'],
      span.meta['http.status_code'],
      span.meta['error.message'],
      span.meta['error.msg'],
      span.meta['error.type'],
      span.meta['error.stack'],
      span.meta['_dd.p.dm'],
      span.meta['bad'],
    ],
    ['r1', 'true', 'server', '500', 'boom', 'boom', 'java.lang.IllegalStateException', 'at Handler.handle(Handler.java:10)\n', '-0', undefined],
  );
  assert.equal(span.metrics['_sampling_priority_v1'], 2);
  // The cold start joins the first invocation's trace, under aws.lambda.
  const cold = byName(h.spans, 'aws.lambda.cold_start');
  assert.deepEqual([cold.traceId, cold.parentId, cold.start, cold.duration], [1111n, 9999n, BigInt(T0 - 300) * 1_000_000n, 250_000_000n]);
  assert.equal(h.spans.length, 2);
  h.p.platform([e.report]);
  h.p.finishAll();
  assert.equal(h.spans.length, 2, 'each span once');
});

test('an API Gateway event: the inferred span parents aws.lambda, its parent is the caller; 128-bit ids propagate', () => {
  const h = harness();
  h.p.invoke('r1', T0);
  const e = invocationEvents('r1', T0, { runtimeMs: 30, reportMs: 31 });
  h.p.platform([e.start]);
  const answer = h.p.startInvocation({}, Buffer.from(JSON.stringify(event('apigw-http'))));
  assert.deepEqual(answer, { 'x-datadog-trace-id': String(0x64fe8b2a57d3eff7n), 'x-datadog-sampling-priority': '2', 'x-datadog-tags': '_dd.p.tid=80f198ee56343ba8' });
  h.p.endInvocation({ 'x-datadog-span-id': '555' }, Buffer.from('{"statusCode":200}'));
  h.p.platform([e.done]);
  const inferred = byName(h.spans, 'aws.httpapi');
  const lambda = byName(h.spans, 'aws.lambda');
  assert.deepEqual(
    [inferred.traceId, inferred.parentId, lambda.parentId, lambda.traceId, lambda.spanId],
    [0x64fe8b2a57d3eff7n, 0xe457b5a2e4d86bd1n, inferred.spanId, 0x64fe8b2a57d3eff7n, 555n],
  );
  assert.deepEqual(
    [lambda.meta['_dd.p.tid'], lambda.meta['function_trigger.event_source'], lambda.meta['http.status_code'], lambda.meta['http.route'], inferred.meta['http.status_code']],
    ['80f198ee56343ba8', 'api-gateway', '200', '/orders/{orderId}', '200'],
  );
  // Sync: the inferred span lasts until the invocation ends.
  assert.equal(inferred.start, 1583348638390n * 1_000_000n);
  assert.equal(inferred.start + inferred.duration, lambda.start + lambda.duration);
  assert.equal(inferred.metrics['_sampling_priority_v1'], 2);
});

test('async triggers end at the invocation start; SNS in SQS chains two inferred spans; a 5xx marks both errors', () => {
  const h = harness();
  h.p.invoke('r1', T0);
  const e = invocationEvents('r1', T0, { runtimeMs: 10, reportMs: 11 });
  h.p.platform([e.start]);
  assert.deepEqual(h.p.startInvocation({ 'lambda-runtime-aws-request-id': 'r1' }, Buffer.from(JSON.stringify(event('sqs-sns')))), {
    'x-datadog-trace-id': '9999',
    'x-datadog-sampling-priority': '1',
  });
  h.p.endInvocation({ 'lambda-runtime-aws-request-id': 'r1' }, Buffer.from('{"statusCode":503}'));
  h.p.platform([e.done]);
  const [sns, sqs, lambda] = h.spans;
  assert.deepEqual([sns?.name, sqs?.name, lambda?.name], ['aws.sns', 'aws.sqs', 'aws.lambda']);
  assert.deepEqual([sns?.parentId, sqs?.parentId, lambda?.parentId, lambda?.traceId], [1234n, sns?.spanId, sqs?.spanId, 9999n]);
  assert.equal((sns?.start ?? 0n) + (sns?.duration ?? 0n), sqs?.start, 'the wrapper ends where the queue span begins');
  assert.equal((sqs?.start ?? 0n) + (sqs?.duration ?? 0n), lambda?.start, 'async: ends when the invocation starts');
  assert.equal(lambda?.error, 1);
  assert.equal(sqs?.meta['http.status_code'], undefined, 'not an HTTP trigger');
});

test('a timeout: error "Datadog detected a Timeout", ids generated, no end-invocation needed', () => {
  const h = harness();
  h.p.invoke('t1', T0);
  const e = invocationEvents('t1', T0, { runtimeMs: 3000, reportMs: 3000, status: 'timeout' });
  h.p.platform([e.start]);
  h.p.startInvocation({ 'lambda-runtime-aws-request-id': 't1' }, Buffer.from('{}'));
  h.p.platform([e.done]);
  const s = byName(h.spans, 'aws.lambda');
  assert.deepEqual([s.error, s.meta['error.msg'], s.meta['error.type'], s.traceId > 0n, s.spanId > 0n, s.duration], [1, TIMEOUT_MESSAGE, 'Timeout', true, true, 3_000_000_000n]);
});

test('the placeholder span supplies ids, meta and metrics; without a tracer no aws.lambda is made', () => {
  const h = harness();
  h.p.invoke('r1', T0);
  const e = invocationEvents('r1', T0, { runtimeMs: 10, reportMs: 11 });
  h.p.platform([e.start]);
  h.p.tracerSpan({
    t: 'TRACER_SPAN',
    kind: 'placeholder',
    requestId: 'r1',
    traceId: 77n,
    spanId: 88n,
    parentId: 0n,
    meta: { language: 'go', 'custom.tag': 'x' },
    metrics: { _sampling_priority_v1: 1 },
  });
  h.p.platform([e.done]);
  assert.equal(h.spans.length, 0, 'waits for end-invocation on success');
  h.p.endInvocation({}, undefined);
  const s = byName(h.spans, 'aws.lambda');
  assert.deepEqual([s.traceId, s.spanId, s.meta['language'], s.meta['custom.tag'], s.metrics['_sampling_priority_v1']], [77n, 88n, 'go', 'x', 1]);

  const none = harness();
  none.p.invoke('r1', T0);
  none.p.platform(Object.values(invocationEvents('r1', T0, { runtimeMs: 1, reportMs: 2 })));
  none.p.finishAll();
  assert.deepEqual(none.spans, []);
});

test("the cold-start span follows aws.lambda.load's link when the library makes aws.lambda itself", () => {
  const h = harness();
  h.p.platform([ev('platform.initStart', T0 - 300, {})]);
  h.p.tracerSpan({ t: 'TRACER_SPAN', kind: 'cold-start-parent', requestId: 'r1', traceId: 5n, spanId: 6n, parentId: 7n, meta: {}, metrics: {} });
  assert.equal(h.spans.length, 0, 'waits for initReport');
  h.p.platform([ev('platform.initReport', T0 - 10, { metrics: { durationMs: 290 } })]);
  assert.deepEqual(
    h.spans.map((s) => [s.name, s.traceId, s.spanId, s.parentId, s.duration]),
    [['aws.lambda.cold_start', 5n, 6n, 7n, 290_000_000n]],
  );
});

test('DD_CAPTURE_LAMBDA_PAYLOAD flattens request and response with redaction and depth; DD_TRACE_AWS_SERVICE_REPRESENTATION_ENABLED=false', () => {
  const h = harness({ capturePayload: true, captureMaxDepth: 2, awsServiceRepresentation: false });
  h.p.invoke('r1', T0);
  const e = invocationEvents('r1', T0, { runtimeMs: 1, reportMs: 2 });
  h.p.platform([e.start]);
  h.p.startInvocation(
    {},
    Buffer.from(JSON.stringify({ user: { name: 'ann', password: 'p', deep: { deeper: { x: 1 } } }, list: [1, 'two'], body: '{"api_key":"k","n":null}', long: 'y'.repeat(5000) })),
  );
  h.p.endInvocation({}, Buffer.from('{"statusCode":200,"headers":{"Authorization":"Bearer x"}}'));
  h.p.platform([e.done]);
  const m = byName(h.spans, 'aws.lambda').meta;
  assert.equal(byName(h.spans, 'aws.lambda').service, 'aws.lambda');
  assert.deepEqual(
    [
      m['function.request.user.name'],
      m['function.request.user.password'],
      m['function.request.user.deep'],
      m['function.request.list.1'],
      m['function.request.body.api_key'],
      m['function.request.body.n'],
      m['function.request.long']?.length,
    ],
    ['ann', 'redacted', '{"deeper":{"x":1}}', 'two', 'redacted', 'null', 4096],
  );
  assert.deepEqual([m['function.response.statusCode'], m['function.response.headers.Authorization']], ['200', 'redacted']);
});

test('garbage bodies are read as {} and counted; an end with nothing to pair is counted; error headers decode only real base64', () => {
  const h = harness();
  assert.deepEqual(h.p.startInvocation({}, Buffer.from('{not json')), {});
  h.p.endInvocation({ 'lambda-runtime-aws-request-id': 'nope' }, Buffer.from('\u0000\u0001'));
  h.p.endInvocation({}, undefined);
  assert.deepEqual([h.p.counters.badBodies, h.p.counters.unpairedEnds], [2, 2], 'an end for an id no INVOKE named pairs with nothing');
  assert.equal(maybeBase64('true'), 'true');
  assert.equal(maybeBase64('plain message'), 'plain message');
  assert.equal(maybeBase64(b64('decoded ✓')), 'decoded ✓');
  // start-invocation before its INVOKE reached us (no request id header) pairs with the next INVOKE.
  const late = harness();
  late.p.startInvocation({}, Buffer.from('{}'));
  late.p.invoke('r9', T0);
  late.p.endInvocation({}, undefined);
  late.p.platform([invocationEvents('r9', T0, { runtimeMs: 1, reportMs: 2 }).done]);
  assert.equal(byName(late.spans, 'aws.lambda').meta['request_id'], 'r9');
});

test('a duplicate start-invocation stays in its invocation: the latest wins, and the next invocation (no tracer calls) gets no span', () => {
  const h = harness();
  const api = (url: string): Buffer =>
    Buffer.from(
      JSON.stringify({
        resource: '/a',
        path: url,
        httpMethod: 'GET',
        headers: { 'x-datadog-trace-id': url === '/first' ? '111' : '222', 'x-datadog-parent-id': '5' },
        requestContext: { stage: 'prod', requestId: 'q', apiId: 'api1', domainName: 'api.example.com', requestTimeEpoch: T0 },
      }),
    );
  h.p.invoke('r1', T0);
  const e1 = invocationEvents('r1', T0, { runtimeMs: 10, reportMs: 12 });
  h.p.platform([e1.start]);
  h.p.startInvocation({}, api('/first'));
  h.p.startInvocation({}, api('/second'));
  h.p.endInvocation({}, Buffer.from('{"statusCode":200}'));
  h.p.platform([e1.done, e1.report]);
  const first = h.spans.filter((s) => s.name === 'aws.lambda');
  assert.equal(first.length, 1);
  assert.equal(first[0]?.traceId, 222n, 'the latest start of the invocation');
  assert.equal(h.p.counters.duplicateStarts, 1);
  const before = h.spans.length;
  h.p.invoke('r2', T0 + 100);
  const e2 = invocationEvents('r2', T0 + 100, { runtimeMs: 10, reportMs: 12 });
  h.p.platform([e2.start, e2.done, e2.report]);
  h.p.finishAll();
  assert.deepEqual(
    h.spans
      .slice(before)
      .map((s) => s.name)
      .filter((n) => n !== 'aws.lambda.cold_start'),
    [],
    'nothing leaked into r2',
  );
});

test('a start/end pair for a request id no INVOKE named makes no span; a start naming the next request waits for its INVOKE', () => {
  const h = harness();
  h.p.startInvocation({ 'lambda-runtime-aws-request-id': 'ghost' }, Buffer.from('{}'));
  h.p.endInvocation({ 'lambda-runtime-aws-request-id': 'ghost' }, Buffer.from('{}'));
  h.p.startInvocation({ 'lambda-runtime-aws-request-id': 'r1' }, Buffer.from('{}'));
  h.p.invoke('r1', T0);
  h.p.endInvocation({ 'lambda-runtime-aws-request-id': 'r1' }, Buffer.from('{}'));
  const e = invocationEvents('r1', T0, { runtimeMs: 10, reportMs: 12 });
  h.p.platform([e.start, e.done, e.report]);
  h.p.finishAll();
  const spans = h.spans.filter((s) => s.name === 'aws.lambda');
  assert.deepEqual(
    spans.map((s) => s.meta['request_id']),
    ['r1'],
  );
  assert.deepEqual([h.p.counters.unknownRequests, h.p.counters.unpairedEnds], [1, 1]);
});

test('a start naming a request still to come survives other INVOKEs (concurrent invocations), and expires after its TTL', () => {
  const h = harness();
  h.p.startInvocation({ 'lambda-runtime-aws-request-id': 'rB' }, Buffer.from('{}'));
  h.p.invoke('rA', T0);
  h.p.invoke('rB', T0 + 5);
  h.p.endInvocation({ 'lambda-runtime-aws-request-id': 'rB' }, Buffer.from('{}'));
  const eB = invocationEvents('rB', T0 + 5, { runtimeMs: 10, reportMs: 12 });
  h.p.platform([eB.start, eB.done]);
  assert.deepEqual(
    h.spans.filter((s) => s.name === 'aws.lambda').map((s) => s.meta['request_id']),
    ['rB'],
  );
  assert.equal(h.p.counters.unknownRequests, 0);
});

test('baggage on: the aws.lambda and inferred spans carry the ot-baggage-* keys as tags', () => {
  const h = harness({ baggage: true });
  h.p.invoke('r1', T0);
  const e = invocationEvents('r1', T0, { runtimeMs: 10, reportMs: 11 });
  h.p.platform([e.start]);
  const ev = event('apigw-http') as { headers: Record<string, string> };
  ev.headers['ot-baggage-session'] = 's-1';
  h.p.startInvocation({ 'lambda-runtime-aws-request-id': 'r1' }, Buffer.from(JSON.stringify(ev)));
  h.p.endInvocation({ 'lambda-runtime-aws-request-id': 'r1' }, Buffer.from('{}'));
  h.p.platform([e.done]);
  assert.equal(byName(h.spans, 'aws.lambda').meta['session'], 's-1');
  assert.equal(byName(h.spans, 'aws.httpapi').meta['session'], 's-1');
});
