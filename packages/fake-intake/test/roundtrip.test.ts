import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import msgpack from 'msgpack-lite';
import { buildFakeIntake, type FakeIntake } from '../src/intake.js';
import { encodeProto, encoders, post, protoType, zstdRawFrame } from './helpers.js';

const KEY = 'test-api-key';
let intake: FakeIntake;
before(async () => {
  intake = buildFakeIntake({ apiKey: KEY, keepBodies: true });
  await intake.listen();
});
after(() => intake.close());

const AgentPayload = protoType('trace.proto', 'ddlambda.trace.AgentPayload');
const SketchPayload = protoType('sketches.proto', 'ddlambda.metrics.SketchPayload');

const traceId = '18446744073709551615'; // 2^64-1: must not be rounded
const start = '1732180000123456789';

function agentPayload(): Record<string, unknown> {
  return {
    hostName: '',
    env: 'prod',
    targetTPS: 60,
    errorTPS: 60,
    tags: { functionname: 'my-fn' },
    tracerPayloads: [
      {
        languageName: 'nodejs',
        tracerVersion: '5.30.0',
        tags: { '_dd.tags.function': 'a:b' },
        chunks: [
          {
            priority: 1,
            origin: 'lambda',
            spans: [
              {
                service: 'svc',
                name: 'aws.lambda',
                resource: 'my-fn',
                traceID: traceId,
                spanID: '1234567890123456789',
                parentID: '0',
                start,
                duration: '2500000',
                error: 1,
                type: 'serverless',
                meta: { request_id: 'r-1', ünïcode: 'välue' },
                metrics: { _sampling_priority_v1: 1, x: -2.5 },
                spanLinks: [{ traceID: '5', spanID: '6', attributes: { k: 'v' }, flags: 2147483649 }],
              },
            ],
          },
        ],
      },
    ],
  };
}

for (const [encoding, encode] of Object.entries(encoders)) {
  test(`traces round-trip through ${encoding}`, async () => {
    intake.reset();
    const wire = encode(encodeProto(AgentPayload, agentPayload()));
    const res = await post(`${intake.url}/api/v0.2/traces`, wire, {
      'DD-API-KEY': KEY,
      'Content-Type': 'application/x-protobuf',
      ...(encoding === 'identity' ? {} : { 'Content-Encoding': encoding }),
    });
    assert.equal(res.status, 202, res.body);
    const spans = intake.spans();
    assert.equal(spans.length, 1);
    const { span, chunk, tracerPayload, payload } = spans[0]!;
    assert.equal(span.traceID, 2n ** 64n - 1n);
    assert.equal(span.start, 1732180000123456789n);
    assert.equal(span.duration, 2500000n);
    assert.equal(span.error, 1);
    assert.deepEqual(span.meta, { request_id: 'r-1', ünïcode: 'välue' });
    assert.deepEqual(span.metrics, { _sampling_priority_v1: 1, x: -2.5 });
    assert.equal(span.spanLinks[0]!.flags, 2147483649);
    assert.equal(chunk.origin, 'lambda');
    assert.equal(chunk.priority, 1);
    assert.equal(tracerPayload.tags['_dd.tags.function'], 'a:b');
    assert.equal(payload.targetTPS, 60);
    assert.equal(payload.env, 'prod');
    const rec = intake.requests({ kind: 'traces' })[0]!;
    assert.equal(rec.encoding, encoding);
    assert.equal(rec.wireBytes, wire.length);
  });
}

test('a negative int32 and a negative priority survive (ten-byte varints)', async () => {
  intake.reset();
  const p = agentPayload();
  const chunk = ((p.tracerPayloads as Record<string, unknown>[])[0]!.chunks as Record<string, unknown>[])[0]!;
  chunk.priority = -1;
  const res = await post(`${intake.url}/api/v0.2/traces`, encodeProto(AgentPayload, p), {
    'DD-API-KEY': KEY,
    'Content-Type': 'application/x-protobuf',
  });
  assert.equal(res.status, 202);
  assert.equal(intake.spans()[0]!.chunk.priority, -1);
});

test('sketches round-trip, with negative sint32 keys', async () => {
  intake.reset();
  const payload = {
    sketches: [
      {
        metric: 'aws.lambda.enhanced.duration',
        host: '',
        tags: ['functionname:my-fn', 'cold_start:true'],
        dogsketches: [{ ts: '1732180000', cnt: '3', min: 0.5, max: 2, avg: 1.1666666, sum: 3.5, k: [-1300, 0, 1338], n: [1, 1, 1] }],
      },
    ],
    metadata: { agent_version: 'x' },
  };
  const res = await post(`${intake.url}/api/beta/sketches`, zstdRawFrame(encodeProto(SketchPayload, payload)), {
    'DD-API-KEY': KEY,
    'Content-Type': 'application/x-protobuf',
    'Content-Encoding': 'zstd',
  });
  assert.equal(res.status, 202, res.body);
  const [pt] = intake.sketchPoints('aws.lambda.enhanced.duration');
  assert.ok(pt);
  assert.deepEqual(pt.k, [-1300, 0, 1338]);
  assert.deepEqual(pt.n, [1, 1, 1]);
  assert.equal(pt.count, 3);
  assert.equal(pt.timestamp, 1732180000);
  assert.deepEqual(pt.tags, ['functionname:my-fn', 'cold_start:true']);
});

test('stats (msgpack StatsPayload) round-trip with 64-bit nanoseconds', async () => {
  intake.reset();
  const codec = msgpack.createCodec({ int64: true });
  const { Uint64BE } = (await import('int64-buffer')).default;
  const body = msgpack.encode(
    {
      AgentHostname: '',
      AgentEnv: 'prod',
      AgentVersion: 'dd-lambda',
      ClientComputed: false,
      Stats: [
        {
          Hostname: '',
          Env: 'prod',
          Version: '1',
          Lang: 'nodejs',
          Stats: [
            {
              Start: new Uint64BE('1732180000000000000'),
              Duration: 10_000_000_000,
              Stats: [
                {
                  Service: 'svc',
                  Name: 'aws.lambda',
                  Resource: 'r',
                  HTTPStatusCode: 200,
                  Hits: 3,
                  Errors: 1,
                  Duration: 900,
                  TopLevelHits: 3,
                  OkSummary: Buffer.from([1, 2]),
                  ErrorSummary: null,
                  Synthetics: false,
                  PeerTags: null,
                },
              ],
            },
          ],
        },
      ],
    },
    { codec },
  );
  const res = await post(`${intake.url}/api/v0.2/stats`, encoders.gzip!(body), {
    'DD-API-KEY': KEY,
    'Content-Type': 'application/msgpack',
    'Content-Encoding': 'gzip',
  });
  assert.equal(res.status, 202, res.body);
  const [stats] = intake.stats();
  const client = (stats!.Stats as Record<string, unknown>[])[0]!;
  const bucket = (client.Stats as Record<string, unknown>[])[0]!;
  assert.equal(bucket.Start, 1732180000000000000n);
  assert.equal(bucket.Duration, 10_000_000_000n);
  const grouped = (bucket.Stats as Record<string, unknown>[])[0]!;
  assert.equal(grouped.Hits, 3n);
  assert.deepEqual(grouped.OkSummary, new Uint8Array([1, 2]));
  assert.deepEqual(grouped.PeerTags, []);
});

test('series v2 JSON round-trip and metric point query', async () => {
  intake.reset();
  const payload = {
    series: [
      { metric: 'my.count', type: 1, interval: 10, points: [{ timestamp: 1732180000, value: 4 }], tags: ['env:prod'], resources: [{ name: 'h', type: 'host' }] },
      { metric: 'my.gauge', type: 3, points: [{ timestamp: 1732180010, value: 0.25 }] },
    ],
  };
  const res = await post(`${intake.url}/api/v2/series`, encoders.zstd!(Buffer.from(JSON.stringify(payload))), {
    'DD-API-KEY': KEY,
    'Content-Type': 'application/json',
    'Content-Encoding': 'zstd',
  });
  assert.equal(res.status, 202, res.body);
  assert.deepEqual(JSON.parse(res.body), { errors: [] });
  const points = intake.metricPoints();
  assert.deepEqual(
    points.map((p) => [p.metric, p.kind, p.value, p.timestamp, p.tags]),
    [
      ['my.count', 'count', 4, 1732180000, ['env:prod']],
      ['my.gauge', 'gauge', 0.25, 1732180010, []],
    ],
  );
});

test('logs JSON round-trip', async () => {
  intake.reset();
  const logs = [
    {
      message: 'hello',
      ddsource: 'lambda',
      ddtags: 'env:prod',
      hostname: 'arn:aws:lambda:us-east-1:1:function:f',
      service: 'f',
      status: 'info',
      timestamp: 1732180000123,
      lambda: { arn: 'x', request_id: 'r-1' },
    },
    { message: 'second', status: 'error' },
  ];
  const res = await post(`${intake.url}/api/v2/logs`, encoders.gzip!(Buffer.from(JSON.stringify(logs))), {
    'DD-API-KEY': KEY,
    'Content-Type': 'application/json',
    'Content-Encoding': 'gzip',
    'DD-PROTOCOL': 'agent-json',
  });
  assert.equal(res.status, 202, res.body);
  assert.deepEqual(intake.logs(), logs);
  assert.equal(intake.requests({ kind: 'logs' })[0]!.headers['dd-protocol'], 'agent-json');
});

test('APM proxy targets are recorded raw; /api/v1/validate checks the key', async () => {
  intake.reset();
  const res = await post(`${intake.url}/api/v2/profile`, 'raw-profile', { 'DD-API-KEY': KEY, 'X-Datadog-Additional-Tags': '_dd.origin:lambda' });
  assert.equal(res.status, 202);
  const [p] = intake.proxied('/api/v2/profile');
  assert.equal(p!.body!.toString(), 'raw-profile');
  assert.equal(p!.headers['x-datadog-additional-tags'], '_dd.origin:lambda');
  assert.equal((await post(`${intake.url}/api/v1/validate`, '', { 'DD-API-KEY': KEY }, 'GET')).status, 200);
  assert.equal((await post(`${intake.url}/api/v1/validate`, '', { 'DD-API-KEY': 'nope' }, 'GET')).status, 403);
});

test('unknown routes are recorded and answered 404, never accepted', async () => {
  intake.reset();
  const res = await post(`${intake.url}/api/v1/series`, '{}', { 'DD-API-KEY': KEY });
  assert.equal(res.status, 404);
  assert.equal(intake.unknown().length, 1);
  assert.equal(intake.unknown()[0]!.path, '/api/v1/series');
  assert.equal(intake.requests({ accepted: true }).length, 0);
});

test('dump() is JSON with bigints as strings', async () => {
  intake.reset();
  await post(`${intake.url}/api/v0.2/traces`, encodeProto(AgentPayload, agentPayload()), {
    'DD-API-KEY': KEY,
    'Content-Type': 'application/x-protobuf',
  });
  const dumped = JSON.parse(intake.dump()) as { decoded: { tracerPayloads: { chunks: { spans: { traceID: string }[] }[] }[] } }[];
  assert.equal(dumped[0]!.decoded.tracerPayloads[0]!.chunks[0]!.spans[0]!.traceID, traceId);
});
