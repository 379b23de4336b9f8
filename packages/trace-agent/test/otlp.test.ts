// The OTLP receiver's units: both decoders, the mapping rules, the HTTP answers and the gRPC framing.
// The real OpenTelemetry exporters drive it end to end in test/test/otlp.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import lightMyRequest from 'light-my-request';
import type { Response } from 'light-my-request';
import { decodeOtlpJson } from '../src/otlp/decode-json.js';
import { decodeOtlpProto } from '../src/otlp/decode-proto.js';
import { EXPORT_PATH, OtlpGrpcServer, unaryMessage } from '../src/otlp/grpc.js';
import { buildOtlpHttpApp } from '../src/otlp/http.js';
import type { OtlpCounters } from '../src/otlp/http.js';
import type { OtlpResourceSpans } from '../src/otlp/model.js';
import { otlpToBatches } from '../src/otlp/transform.js';
import type { toDatadogSpan } from '../src/otlp/transform.js';

const TRACE = '5b8efff798038103d269b633813fc60c';
const SPAN = 'eee19b7ec3c1b174';

type Attr = Record<string, string | number | boolean>;
const kv = (a: Attr): unknown[] =>
  Object.entries(a).map(([key, v]) => ({
    key,
    value: typeof v === 'string' ? { stringValue: v } : typeof v === 'boolean' ? { boolValue: v } : Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v },
  }));

function request(span: Record<string, unknown>, resource: Attr = { 'service.name': 'svc' }, scope = 'lib'): Buffer {
  return Buffer.from(
    JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: kv(resource) },
          scopeSpans: [
            {
              scope: { name: scope, version: '1.0' },
              spans: [{ traceId: TRACE, spanId: SPAN, name: 'op', kind: 1, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000002000000', ...span }],
            },
          ],
        },
      ],
    }),
  );
}

function one(span: Record<string, unknown>, resource?: Attr, scope?: string): ReturnType<typeof toDatadogSpan> {
  const { batches } = otlpToBatches(decodeOtlpJson(request(span, resource, scope)));
  const s = batches[0]?.traces[0]?.[0];
  assert.ok(s);
  return s;
}

test('JSON: ids split into 64-bit halves, times as nanoseconds, attributes to meta and metrics, scope and status tags', () => {
  const s = one({
    parentSpanId: '0000000000000007',
    attributes: kv({ 'a.str': 'x', 'a.int': 7, 'a.dbl': 1.5, 'a.bool': true, 'sampling.priority': 2, 'analytics.event': 'true' }),
    status: { code: 1 },
  });
  assert.deepEqual([s.traceId, s.meta['_dd.p.tid'], s.spanId, s.parentId], [BigInt(`0x${TRACE.slice(16)}`), TRACE.slice(0, 16), BigInt(`0x${SPAN}`), 7n]);
  assert.deepEqual([s.start, s.duration], [1_700_000_000_000_000_000n, 2_000_000n]);
  assert.deepEqual(
    [s.meta['a.str'], s.metrics['a.int'], s.metrics['a.dbl'], s.meta['a.bool'], s.metrics['_sampling_priority_v1'], s.metrics['_dd1.sr.eausr']],
    ['x', 7, 1.5, 'true', 2, 1],
  );
  assert.deepEqual(
    [s.service, s.name, s.resource, s.type, s.meta['span.kind'], s.meta['otel.scope.name'], s.meta['otel.scope.version'], s.meta['otel.status_code']],
    ['svc', 'internal', 'op', 'custom', 'internal', 'lib', '1.0', 'Ok'],
  );
  assert.equal(one({}, {}).service, 'otlpresourcenoservicename');
  // A time written as a JSON number is read (to a double's precision, as JSON.parse gives it).
  assert.equal(one({ startTimeUnixNano: 1_700_000_000_000_000_000 }).start > 0n, true);
});

test('operation names, resources and types follow the semantic conventions (old and current keys)', () => {
  const cases: [Record<string, unknown>, string, string, string][] = [
    [{ kind: 2, attributes: kv({ 'http.method': 'GET', 'http.route': '/a/{id}' }) }, 'http.server.request', 'GET /a/{id}', 'web'],
    [{ kind: 3, attributes: kv({ 'http.request.method': '_OTHER' }) }, 'http.client.request', 'HTTP', 'http'],
    [{ kind: 3, attributes: kv({ 'db.system': 'redis', 'db.statement': 'GET k' }) }, 'redis', 'GET k', 'cache'],
    [{ kind: 3, attributes: kv({ 'db.system.name': 'postgresql', 'db.operation.name': 'SELECT', 'db.collection.name': 'users' }) }, 'select users', 'postgresql', 'db'],
    [
      { kind: 4, attributes: kv({ 'messaging.system': 'kafka', 'messaging.operation.type': 'publish', 'messaging.destination.name': 'orders' }) },
      'kafka.publish',
      'publish orders',
      'custom',
    ],
    [{ kind: 3, attributes: kv({ 'rpc.system': 'aws-api', 'rpc.service': 'DynamoDB', 'rpc.method': 'GetItem' }) }, 'aws.dynamodb.request', 'DynamoDB GetItem', 'http'],
    [{ kind: 2, attributes: kv({ 'rpc.system': 'grpc', 'rpc.method': 'Get' }) }, 'grpc.server.request', 'Get', 'web'],
    [{ kind: 3, attributes: kv({ 'faas.invoked_provider': 'aws', 'faas.invoked_name': 'fn' }) }, 'aws.fn.invoke', 'op', 'http'],
    [{ kind: 2, attributes: kv({ 'faas.trigger': 'http' }) }, 'http.invoke', 'op', 'web'],
    [{ kind: 2, attributes: kv({ 'graphql.operation.type': 'query', 'graphql.operation.name': 'Q' }) }, 'graphql.server.request', 'query Q', 'web'],
    [{ kind: 2 }, 'server.request', 'op', 'web'],
    [{ kind: 5 }, 'consumer', 'op', 'custom'],
    [{ kind: 1, attributes: kv({ 'operation.name': 'mine', 'resource.name': 'res', 'span.type': 'worker' }) }, 'mine', 'res', 'worker'],
  ];
  for (const [span, name, resource, type] of cases) {
    const s = one(span);
    assert.deepEqual([s.name, s.resource, s.type], [name, resource, type], JSON.stringify(span));
  }
  // The aws-lambda instrumentation's invocation span is Datadog's aws.lambda.
  assert.equal(one({ kind: 2 }, undefined, 'opentelemetry.instrumentation.aws_lambda').name, 'aws.lambda');
});

test('datadog.* attributes decide fields; resource env, version and headers; errors from the exception event or the status', () => {
  const s = one(
    {
      kind: 3,
      attributes: kv({
        'datadog.service': 'dd-svc',
        'datadog.name': 'dd.op',
        'datadog.type': 'sql',
        'datadog.env': 'prod',
        env: 'other',
        'datadog.error': 0,
        'http.request.header.x-id': 'abc',
      }),
      status: { code: 2, message: 'bad' },
    },
    { 'service.name': 'svc', 'deployment.environment': 'dev', 'service.version': '2.0', 'datadog.resource': 'ignored.here' },
  );
  assert.deepEqual(
    [s.service, s.name, s.type, s.meta['env'], s.error, s.meta['http.request.headers.x-id'], s.meta['version'], s.metrics['_dd.measured']],
    ['dd-svc', 'dd.op', 'sql', 'prod', 0, 'abc', '2.0', 1],
  );
  const exception = {
    name: 'exception',
    timeUnixNano: '1700000000001000000',
    attributes: kv({ 'exception.message': 'boom', 'exception.type': 'E', 'exception.stacktrace': 'at x' }),
  };
  const e = one({ status: { code: 2, message: 'status text' }, events: [exception] });
  assert.deepEqual(
    [e.error, e.meta['error.msg'], e.meta['error.type'], e.meta['error.stack'], e.meta['_dd.span_events.has_exception'], e.meta['otel.status_description']],
    [1, 'boom', 'E', 'at x', 'true', 'status text'],
  );
  assert.deepEqual(JSON.parse(e.meta['events'] ?? ''), [
    { time_unix_nano: 1700000000001000000, name: 'exception', attributes: { 'exception.message': 'boom', 'exception.type': 'E', 'exception.stacktrace': 'at x' } },
  ]);
  assert.equal(one({ status: { code: 2, message: 'only status' } }).meta['error.msg'], 'only status');
  assert.equal(one({ status: { code: 2 }, attributes: kv({ 'http.response.status_code': 503 }) }).meta['error.msg'], '503');
});

test('JSON errors: bad ids and integers are refused with the field named; arrays and maps become JSON tags', () => {
  assert.throws(() => decodeOtlpJson(request({ traceId: 'xyz' })), { code: 'TA_ERR_OTLP_DECODE', message: /traceId is not 32 hex digits/ });
  assert.throws(() => decodeOtlpJson(request({ startTimeUnixNano: '1.5' })), /startTimeUnixNano is not an integer/);
  assert.throws(() => decodeOtlpJson(Buffer.from('[1]')), /not an object/);
  assert.throws(() => decodeOtlpJson(Buffer.from('{')), /not JSON/);
  const s = one({
    attributes: [
      { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 2 }] } } },
      { key: 'map', value: { kvlistValue: { values: [{ key: 'k', value: { boolValue: false } }] } } },
      { key: 'raw', value: { bytesValue: 'AQI=' } },
    ],
  });
  assert.deepEqual([s.meta['list'], s.meta['map'], s.meta['raw']], ['["a","2"]', '{"k":"false"}', '0102']);
});

/** A minimal protobuf writer for the tests: enough for ExportTraceServiceRequest. */
const varint = (n: number | bigint): Buffer => {
  const out: number[] = [];
  let v = BigInt(n);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
};
const field = (no: number, payload: Buffer | string): Buffer => {
  const b = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([varint((no << 3) | 2), varint(b.length), b]);
};
const fixed64 = (no: number, v: bigint): Buffer => {
  const b = Buffer.alloc(9);
  b[0] = (no << 3) | 1;
  b.writeBigUInt64LE(v, 1);
  return b;
};

function protoRequest(): Buffer {
  const attr = (k: string, value: Buffer): Buffer => field(9, Buffer.concat([field(1, k), field(2, value)]));
  const span = Buffer.concat([
    field(1, Buffer.from(TRACE, 'hex')),
    field(2, Buffer.from(SPAN, 'hex')),
    field(5, 'GET'),
    varint((6 << 3) | 0),
    varint(3),
    fixed64(7, 1_700_000_000_000_000_000n),
    fixed64(8, 1_700_000_000_005_000_000n),
    attr('http.request.method', field(1, 'GET')),
    attr('n', Buffer.concat([varint((3 << 3) | 0), varint(-1n & 0xffffffffffffffffn)])),
    // An unknown field (99, varint) is skipped.
    varint((99 << 3) | 0),
    varint(5),
    field(15, Buffer.concat([field(2, 'oops'), varint((3 << 3) | 0), varint(2)])),
  ]);
  const scope = field(1, Buffer.concat([field(1, 'lib'), field(2, '2.0')]));
  const resource = field(1, field(1, Buffer.concat([field(1, 'service.name'), field(2, field(1, 'psvc'))])));
  return field(1, Buffer.concat([resource, field(2, Buffer.concat([scope, field(2, span)]))]));
}

test('protobuf: the same mapping; negative int64, unknown fields, status; truncation is a clear error', () => {
  const req = decodeOtlpProto(protoRequest());
  const { batches, spans } = otlpToBatches(req);
  assert.equal(spans, 1);
  const s = batches[0]?.traces[0]?.[0];
  assert.deepEqual(
    [s?.service, s?.name, s?.resource, s?.type, s?.duration, s?.metrics['n'], s?.error, s?.meta['error.msg']],
    ['psvc', 'http.client.request', 'GET', 'http', 5_000_000n, -1, 1, 'oops'],
  );
  const good = protoRequest();
  assert.throws(() => decodeOtlpProto(good.subarray(0, good.length - 3)), { code: 'TA_ERR_OTLP_DECODE' });
  assert.throws(() => decodeOtlpProto(Buffer.from([0x0b])), /wire type 3/);
  assert.deepEqual(decodeOtlpProto(Buffer.alloc(0)), []);
});

const counters = (): OtlpCounters => ({ otlpRequests: 0, otlpBadRequests: 0, otlpSpans: 0 });

test('HTTP: answers in the request encoding; gzip; 400 for bad bodies, 415 for other types, 429 when the buffer is full', async () => {
  const got: OtlpResourceSpans[][] = [];
  let full = false;
  const c = counters();
  const app = buildOtlpHttpApp(
    (r) => (got.push(r), !full),
    c,
    () => undefined,
  );
  const post = (payload: Buffer, headers: Record<string, string>): Promise<Response> => lightMyRequest(app.handler, { method: 'POST', url: '/v1/traces', headers, payload });
  const json = await post(request({}), { 'content-type': 'application/json' });
  assert.deepEqual([json.statusCode, json.headers['content-type'], json.body], [200, 'application/json', '{}']);
  const proto = await post(gzipSync(protoRequest()), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
  assert.deepEqual([proto.statusCode, proto.headers['content-type'], proto.rawPayload.length], [200, 'application/x-protobuf', 0]);
  assert.equal(got.length, 2);
  const bad = await post(Buffer.from('{"resourceSpans":[{"resource":{},"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}'), { 'content-type': 'application/json' });
  assert.equal(bad.statusCode, 400);
  assert.deepEqual(JSON.parse(bad.body), { code: 3, message: 'OTLP JSON: traceId is not 32 hex digits' });
  const badProto = await post(Buffer.from([0x0a, 0x05, 0x01]), { 'content-type': 'application/x-protobuf' });
  assert.deepEqual([badProto.statusCode, badProto.rawPayload[0]], [400, 0x08], 'a google.rpc.Status');
  assert.equal((await post(Buffer.from('x'), { 'content-type': 'text/plain' })).statusCode, 415);
  assert.equal((await post(request({}), { 'content-type': 'application/json', 'content-encoding': 'br' })).statusCode, 400);
  full = true;
  assert.equal((await post(request({}), { 'content-type': 'application/json' })).statusCode, 429);
  assert.equal((await lightMyRequest(app.handler, { method: 'GET', url: '/v1/traces' })).statusCode, 404);
  assert.deepEqual([c.otlpRequests, c.otlpBadRequests], [7, 4]);
});

test('gRPC: Export answers OK in trailers; unknown methods, bad messages, oversize and a full buffer get their status codes', async () => {
  assert.throws(() => unaryMessage(Buffer.from([0, 0, 0, 0, 9, 1]), '', 100), /prefix says 9/);
  assert.throws(() => unaryMessage(Buffer.from([1, 0, 0, 0, 0]), '', 100), /without grpc-encoding/);
  let full = false;
  const got: OtlpResourceSpans[][] = [];
  const grpc = new OtlpGrpcServer(
    (r) => (got.push(r), !full),
    counters(),
    64 * 1024,
    () => undefined,
  );
  const server = net.createServer((s) => grpc.connection(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = http2.connect(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  const call = (path: string, message: Buffer, flag = 0, encoding?: string): Promise<{ status: string | undefined; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const prefix = Buffer.alloc(5);
      prefix[0] = flag;
      prefix.writeUInt32BE(message.length, 1);
      const req = client.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...(encoding ? { 'grpc-encoding': encoding } : {}) });
      const chunks: Buffer[] = [];
      let status: string | undefined;
      req.on('response', (h) => (status ??= h['grpc-status'] as string | undefined));
      req.on('trailers', (t) => (status = t['grpc-status'] as string | undefined));
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
      req.on('error', reject);
      req.end(Buffer.concat([prefix, message]));
    });
  try {
    const ok = await call(EXPORT_PATH, protoRequest());
    assert.deepEqual([ok.status, [...ok.body]], ['0', [0, 0, 0, 0, 0]]);
    const gz = gzipSync(protoRequest());
    assert.equal((await call(EXPORT_PATH, gz, 1, 'gzip')).status, '0');
    assert.equal(got.length, 2);
    assert.equal((await call('/other.Service/Method', Buffer.alloc(0))).status, '12');
    assert.equal((await call(EXPORT_PATH, Buffer.from([0x0b]))).status, '3');
    assert.equal((await call(EXPORT_PATH, Buffer.alloc(70 * 1024))).status, '8');
    full = true;
    assert.equal((await call(EXPORT_PATH, protoRequest())).status, '14');
  } finally {
    client.close();
    grpc.close();
    server.close();
  }
});
