import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packr } from 'msgpackr';
import { decodeTraces } from '@dd-lambda/fake-intake';
import { TraceAgentError } from '../src/errors.js';
import { agentPayload, encodeTracerPayload } from '../src/encode.js';
import { decodeV04, decodeV05 } from '../src/decode.js';
import type { TracerInfo } from '../src/span.js';

// Tracers write ids as uint64 (0xcf) whatever their size; msgpackr's default packs bigints that way.
const packr = new Packr({ useRecords: false, useBigIntExtension: false });
const BIG = (1n << 64n) - 3n; // > 2^63: a Number would round it

const INFO: TracerInfo = {
  lang: 'nodejs',
  langVersion: 'v20',
  langInterpreter: 'v8',
  langVendor: '',
  tracerVersion: '5.0.0',
  containerId: '',
  clientComputedTopLevel: false,
  clientComputedStats: false,
  droppedP0Traces: 0,
  droppedP0Spans: 0,
};

function v04Span(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    trace_id: BIG,
    span_id: BIG - 1n,
    parent_id: 0n,
    name: 'web.request',
    resource: 'GET /',
    service: 'svc',
    type: 'web',
    error: 1,
    start: 1_700_000_000_123_456_789n,
    duration: 1234,
    meta: { 'error.message': 'boom' },
    metrics: { _sampling_priority_v1: 1, 'x.ratio': 0.5 },
    ...over,
  };
}

test('v0.4: ids and nanosecond starts above 2^53 survive exactly, through protobuf too', () => {
  const appsec = packr.pack({ frames: [1, 2] });
  const body = packr.pack([[v04Span({ meta_struct: { '_dd.stack': appsec }, span_links: [{ trace_id: 1n, span_id: BIG, attributes: { a: 'b' }, flags: 1 }] })]]);
  const [[s]] = decodeV04(body) as [[NonNullable<ReturnType<typeof decodeV04>[0][0]>]];
  assert.equal(s.traceId, BIG);
  assert.equal(s.spanId, BIG - 1n);
  assert.equal(s.start, 1_700_000_000_123_456_789n);
  assert.equal(s.duration, 1234n);
  assert.deepEqual(s.metrics, { _sampling_priority_v1: 1, 'x.ratio': 0.5 });
  assert.deepEqual(Buffer.from(s.metaStruct?.['_dd.stack'] ?? []), Buffer.from(appsec));

  const bytes = encodeTracerPayload({
    info: INFO,
    runtimeId: 'r',
    env: 'e',
    appVersion: '',
    hostname: '',
    chunks: [{ priority: 1, origin: 'lambda', spans: [s], droppedTrace: false }],
    tags: { '_dd.tags.function': 'a:b' },
  });
  const decoded = decodeTraces(agentPayload([bytes]));
  const tp = decoded.tracerPayloads[0];
  const out = tp?.chunks[0]?.spans[0];
  assert.equal(out?.traceID, BIG);
  assert.equal(out?.spanID, BIG - 1n);
  assert.equal(out?.start, 1_700_000_000_123_456_789n);
  assert.deepEqual(Buffer.from(out?.meta_struct['_dd.stack'] ?? []), Buffer.from(appsec));
  assert.equal(out?.spanLinks[0]?.spanID, BIG);
  assert.deepEqual([tp?.languageName, tp?.tracerVersion, tp?.env, tp?.tags['_dd.tags.function']], ['nodejs', '5.0.0', 'e', 'a:b']);
  assert.deepEqual([decoded.targetTPS, decoded.errorTPS], [60, 60]);
});

test('v0.5: the string table resolves every field', () => {
  const strings = ['', 'svc', 'web.request', 'GET /', 'env', 'prod', '_sampling_priority_v1', 'web'];
  const body = packr.pack([strings, [[[1, 2, 3, BIG, 7n, 0n, 1_700_000_000_000_000_000n, 500, 0, { 4: 5 }, { 6: 2 }, 7]]]]);
  const [[s]] = decodeV05(body) as [[NonNullable<ReturnType<typeof decodeV05>[0][0]>]];
  assert.deepEqual([s.service, s.name, s.resource, s.type, s.traceId, s.spanId], ['svc', 'web.request', 'GET /', 'web', BIG, 7n]);
  assert.deepEqual(s.meta, { env: 'prod' });
  assert.deepEqual(s.metrics, { _sampling_priority_v1: 2 });
});

test('bad bodies fail with TA_ERR_DECODE and a message naming the place', () => {
  const good = packr.pack([[v04Span()]]);
  const cases: [string, () => unknown, RegExp][] = [
    ['garbage', () => decodeV04(Buffer.from('not msgpack at all')), /trailing bytes|invalid msgpack|expected/],
    ['truncated', () => decodeV04(good.subarray(0, good.length - 5)), /invalid msgpack/],
    ['trailing', () => decodeV04(Buffer.concat([good, Buffer.from([0xc0])])), /trailing bytes/],
    ['not an array', () => decodeV04(packr.pack({ a: 1 })), /array of traces/],
    ['meta value', () => decodeV04(packr.pack([[v04Span({ meta: { a: { nested: 1 } } })]])), /meta\.a: expected a string/],
    ['id type', () => decodeV04(packr.pack([[v04Span({ span_id: 'abc' })]])), /span_id: expected an integer/],
    ['v0.5 index', () => decodeV05(packr.pack([[''], [[['x', 0, 0, 1, 1, 0, 0, 0, 0, {}, {}, 0]]]])), /expected an integer|outside the table/],
    ['v0.5 width', () => decodeV05(packr.pack([[''], [[[0, 0]]]])), /12-element/],
    ['empty', () => decodeV04(Buffer.alloc(0)), /empty/],
  ];
  for (const [what, fn, re] of cases) {
    assert.throws(fn, (err: unknown) => err instanceof TraceAgentError && err.code === 'TA_ERR_DECODE' && re.test(err.message), what);
  }
});
