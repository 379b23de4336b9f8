import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import msgpack from 'msgpack-lite';
import { buildFakeIntake, type FakeIntake } from '../src/intake.js';
import { decodeMessage } from '../src/protobuf.js';
import { AgentPayloadSchema } from '../src/schemas.js';
import { encodeProto, post, protoType } from './helpers.js';

const KEY = 'k';
let intake: FakeIntake;
before(async () => {
  intake = buildFakeIntake({ apiKey: KEY });
  await intake.listen();
});
after(() => intake.close());

const pb = { 'DD-API-KEY': KEY, 'Content-Type': 'application/x-protobuf' };
const json = { 'DD-API-KEY': KEY, 'Content-Type': 'application/json' };
const AgentPayload = protoType('trace.proto', 'ddlambda.trace.AgentPayload');

async function rejected(path: string, body: Buffer | string, headers: Record<string, string>, status: number, code: string): Promise<string> {
  intake.reset();
  const res = await post(`${intake.url}${path}`, body, headers);
  assert.equal(res.status, status, res.body);
  const [rec] = intake.requests();
  assert.ok(rec, 'the rejected request is recorded');
  assert.equal(rec.accepted, false);
  assert.equal(rec.error?.code, code);
  return JSON.parse(res.body).errors[0] as string;
}

test('protobuf: an unknown field number is rejected, naming the field', async () => {
  // field 3 of AgentPayload is not defined (tracerPayloads is 5)
  const msg = await rejected('/api/v0.2/traces', Buffer.from([0x1a, 0x00]), pb, 400, 'FI_ERR_PROTOBUF');
  assert.match(msg, /unknown field number 3/);
});

test('protobuf: a reserved field number is rejected', async () => {
  const sketch = Buffer.from([0x2a, 0x00]); // Sketch field 5 (reserved)
  const payload = Buffer.concat([Buffer.from([0x0a, sketch.length]), sketch]);
  const msg = await rejected('/api/beta/sketches', payload, pb, 400, 'FI_ERR_PROTOBUF');
  assert.match(msg, /reserved field number 5/);
});

test('protobuf: a wire type that does not match the schema is rejected', async () => {
  // hostName (1, string) sent as a varint
  const msg = await rejected('/api/v0.2/traces', Buffer.from([0x08, 0x01]), pb, 400, 'FI_ERR_PROTOBUF');
  assert.match(msg, /hostName: wire type 0 where string needs 2/);
});

test('protobuf: truncated payloads and bad UTF-8 are rejected', async () => {
  const good = encodeProto(AgentPayload, { env: 'prod', tracerPayloads: [{ chunks: [{ spans: [{ name: 'x', traceID: '1' }] }] }] });
  await rejected('/api/v0.2/traces', good.subarray(0, good.length - 1), pb, 400, 'FI_ERR_PROTOBUF');
  const msg = await rejected('/api/v0.2/traces', Buffer.from([0x12, 0x02, 0xc3, 0x28]), pb, 400, 'FI_ERR_PROTOBUF');
  assert.match(msg, /UTF-8/);
});

test('protobuf: the decoder can be lenient when asked', () => {
  const decoded = decodeMessage(AgentPayloadSchema, Buffer.from([0x1a, 0x00, 0x12, 0x01, 0x61]), false);
  assert.equal(decoded.env, 'a');
});

test('msgpack stats: garbage, trailing bytes and unknown keys are rejected', async () => {
  const h = { 'DD-API-KEY': KEY, 'Content-Type': 'application/msgpack' };
  await rejected('/api/v0.2/stats', Buffer.from([0xc1]), h, 400, 'FI_ERR_MSGPACK');
  const ok = msgpack.encode({ AgentEnv: 'x', Stats: [] });
  await rejected('/api/v0.2/stats', Buffer.concat([ok, Buffer.from([0x01])]), h, 400, 'FI_ERR_MSGPACK');
  const msg = await rejected('/api/v0.2/stats', msgpack.encode({ AgentEnv: 'x', Statz: [] }), h, 400, 'FI_ERR_SCHEMA');
  assert.match(msg, /unknown key "Statz"/);
  const msg2 = await rejected('/api/v0.2/stats', msgpack.encode({ Stats: [{ Stats: [{ Start: 'soon' }] }] }), h, 400, 'FI_ERR_SCHEMA');
  assert.match(msg2, /Stats\[0\]\.Stats\[0\]\.Start: expected an integer/);
});

test('series: wrong types are rejected with the path of the bad field', async () => {
  const bad = (series: unknown): string => JSON.stringify({ series: [series] });
  assert.match(await rejected('/api/v2/series', bad({ metric: 'm', type: 5, points: [{ timestamp: 1, value: 1 }] }), json, 400, 'FI_ERR_SCHEMA'), /series\[0\]\.type/);
  assert.match(await rejected('/api/v2/series', bad({ metric: 'm', type: 1, points: [] }), json, 400, 'FI_ERR_SCHEMA'), /points/);
  assert.match(await rejected('/api/v2/series', bad({ metric: 'm', type: 1, points: [{ timestamp: 1.5, value: 1 }] }), json, 400, 'FI_ERR_SCHEMA'), /timestamp/);
  assert.match(await rejected('/api/v2/series', bad({ metric: 'm', type: 1, points: [{ timestamp: 1, value: 1 }], tags: 'a:b' }), json, 400, 'FI_ERR_SCHEMA'), /tags/);
  assert.match(await rejected('/api/v2/series', bad({ metric: 'm', typo: 1, points: [{ timestamp: 1, value: 1 }] }), json, 400, 'FI_ERR_SCHEMA'), /unknown key "typo"/);
  await rejected('/api/v2/series', '{"series": [', json, 400, 'FI_ERR_JSON');
});

test('logs: a log without a message, a bad status type, or too many logs is rejected', async () => {
  assert.match(await rejected('/api/v2/logs', JSON.stringify([{ msg: 'x' }]), json, 400, 'FI_ERR_SCHEMA'), /message/);
  assert.match(await rejected('/api/v2/logs', JSON.stringify([{ message: 'x', status: 3 }]), json, 400, 'FI_ERR_SCHEMA'), /status/);
  const many = JSON.stringify(Array.from({ length: 1001 }, () => ({ message: 'x' })));
  assert.match(await rejected('/api/v2/logs', many, json, 400, 'FI_ERR_SCHEMA'), /at most 1000/);
});

test('API key: missing or wrong key is 403', async () => {
  await rejected('/api/v2/logs', '[{"message":"x"}]', { 'Content-Type': 'application/json' }, 403, 'FI_ERR_API_KEY');
  await rejected('/api/v2/logs', '[{"message":"x"}]', { ...json, 'DD-API-KEY': 'wrong' }, 403, 'FI_ERR_API_KEY');
});

test('content type, encoding and method are checked', async () => {
  await rejected('/api/v0.2/traces', Buffer.alloc(0), { ...pb, 'Content-Type': 'application/json' }, 400, 'FI_ERR_CONTENT_TYPE');
  await rejected('/api/v2/logs', '[{"message":"x"}]', { ...json, 'Content-Encoding': 'br' }, 400, 'FI_ERR_ENCODING');
  await rejected('/api/v2/logs', '[{"message":"x"}]', { ...json, 'Content-Encoding': 'gzip' }, 400, 'FI_ERR_ENCODING');
  intake.reset();
  const res = await post(`${intake.url}/api/v2/logs`, '', { 'DD-API-KEY': KEY }, 'GET');
  assert.equal(res.status, 405);
});

test('size limits: wire size over the route limit and decompression bombs are 413', async () => {
  const big = Buffer.alloc(600_000, 0x20);
  await rejected('/api/v2/series', big, json, 413, 'FI_ERR_TOO_LARGE');
  // 6 MiB of spaces gzip to a few KiB: under the wire limit, over the decompressed one.
  const bomb = zlib.gzipSync(Buffer.alloc(6 * 1024 * 1024, 0x20));
  await rejected('/api/v2/series', bomb, { ...json, 'Content-Encoding': 'gzip' }, 413, 'FI_ERR_TOO_LARGE');
});
