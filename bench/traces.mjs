#!/usr/bin/env node
// Trace agent throughput on payloads made by the real dd-trace:
//   1. capture: a child process runs dd-trace 5.x, builds traces of 200 spans (root + children with
//      meta and metrics, one erroring) and exports them to a local capture server, over v0.4 and v0.5;
//   2. decode only: msgpack-lite (plain, and with its int64 codec, the only way it keeps 64-bit ids)
//      against msgpackr (with its native string addon, which the layer ships, and without), spans/s, and
//      how many ids each decode got wrong;
//   3. the trace agent's hot path per request on one thread: decode → process (normalize,
//      obfuscate, tag) → AgentPayload protobuf → compression (zstd where Node has it, else gzip).
// Medians of N rounds of ~1 s, ratios from the same run; shared machines are noisy.
// usage: node bench/traces.mjs [--rounds 5] [--spans 200] [--json out.json]
import { fork } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg, median } from './args.mjs';

const require = createRequire(import.meta.url);
const ROUNDS = Number(arg('rounds', '5'));
const SPANS = Number(arg('spans', '200'));

// ---- child: msgpackr's decode rate in a process where its native addon is switched off ----
if (process.argv[2] === '--decode-js-only') {
  const { Unpackr } = require('msgpackr');
  const body = (await import('node:fs')).readFileSync(process.argv[3]);
  const spans = Number(process.argv[4]);
  const u = new Unpackr({ int64AsType: 'bigint', mapsAsObjects: true, useRecords: false });
  const rounds = [];
  for (let r = 0; r < ROUNDS + 1; r++) {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 1000) {
      u.unpack(body);
      n += spans;
    }
    if (r > 0) rounds.push(n / ((performance.now() - t0) / 1000));
  }
  process.send({ rate: median(rounds) }, () => process.exit(0));
}

// ---- child: the traced program ----
if (process.argv[2] === '--child') {
  const tracer = require('dd-trace').init({ startupLogs: false, flushInterval: 0 });
  const n = Number(process.argv[3]);
  tracer.trace('web.request', { resource: 'GET /api/orders/:id', type: 'web', service: 'orders-api' }, (root) => {
    root.setTag('http.method', 'GET');
    root.setTag('http.url', 'https://orders.example.com/api/orders/12345?expand=items');
    root.setTag('http.status_code', '200');
    for (let i = 1; i < n; i++) {
      tracer.trace(
        i % 3 === 0 ? 'pg.query' : 'http.request',
        {
          resource: i % 3 === 0 ? `SELECT * FROM items WHERE order_id = ${i} AND state = 'open'` : 'GET /inventory',
          type: i % 3 === 0 ? 'sql' : 'http',
          service: i % 3 === 0 ? 'orders-db' : 'inventory',
        },
        (s) => {
          s.setTag('component', i % 3 === 0 ? 'pg' : 'http');
          s.setTag('db.rows', i);
          s.setTag('peer.hostname', `host-${i % 5}`);
          if (i === n - 1) s.setTag('error', new Error('last child failed'));
        },
      );
    }
  });
  tracer._tracer._exporter.flush(() => setTimeout(() => process.exit(0), 50));
}

async function capture(version) {
  const bodies = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.url === `/v${version}/traces`) bodies.push({ body: Buffer.concat(chunks), headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"rate_by_service":{}}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const child = fork(fileURLToPath(import.meta.url), ['--child', String(SPANS)], {
    env: {
      ...process.env,
      DD_TRACE_AGENT_URL: `http://127.0.0.1:${server.address().port}`,
      DD_TRACE_AGENT_PROTOCOL_VERSION: version,
      DD_TRACE_TELEMETRY_ENABLED: 'false',
      DD_REMOTE_CONFIGURATION_ENABLED: 'false',
    },
    stdio: 'ignore',
  });
  await new Promise((r) => child.once('exit', r));
  server.close();
  const got = bodies.find((b) => b.body.length > 0);
  if (!got) throw new Error(`dd-trace sent no v${version} payload`);
  return got;
}

function rate(fn, spansPerCall) {
  const rounds = [];
  for (let r = 0; r < ROUNDS + 1; r++) {
    let spans = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 1000) {
      fn();
      spans += spansPerCall;
    }
    if (r > 0) rounds.push(spans / ((performance.now() - t0) / 1000)); // round 0 warms up
  }
  return median(rounds);
}

const { Unpackr } = require('msgpackr');
const msgpackLite = require('msgpack-lite');
const liteInt64 = msgpackLite.createCodec({ int64: true });
const { loadConfig } = await import('@dd-lambda/config');
const { decodeV04, decodeV05, TraceProcessor, encodeTracerPayload, agentPayload } = await import('@dd-lambda/trace-agent');
const { compress, hasZstd } = await import('@dd-lambda/intake-client');

const v04 = await capture('0.4');
const v05 = await capture('0.5');
const truth = decodeV04(v04.body).flat();
const spansIn = truth.length;

function idErrors(spans, get) {
  let bad = 0;
  spans.forEach((s, i) => {
    const t = truth[i];
    for (const k of ['trace_id', 'span_id', 'parent_id']) {
      const v = get(s, k);
      const want = k === 'trace_id' ? t.traceId : k === 'span_id' ? t.spanId : t.parentId;
      // bigint (msgpackr), Uint64BE (msgpack-lite's int64 codec) or a Number (msgpack-lite plain).
      const got =
        typeof v === 'bigint' ? v : typeof v === 'object' && v !== null ? BigInt(v.toString()) : BigInt(Math.round(Number(v)).toLocaleString('en', { useGrouping: false }));
      if (got !== want) bad++;
    }
  });
  return bad;
}

const pureJs = new Unpackr({ int64AsType: 'bigint', mapsAsObjects: true, useRecords: false });
const decoders = {
  'msgpack-lite': () => msgpackLite.decode(v04.body),
  'msgpack-lite int64 codec': () => msgpackLite.decode(v04.body, { codec: liteInt64 }),
  msgpackr: () => pureJs.unpack(v04.body),
};
// msgpackr loads its optional native string addon when it is installed (the layer ships it prebuilt).
const native = require('msgpackr').isNativeAccelerationEnabled === true;

const results = {
  spansPerPayload: spansIn,
  v04Bytes: v04.body.length,
  v05Bytes: v05.body.length,
  node: process.version,
  nativeAddonInstalled: native,
  decode: {},
  idErrors: {},
  pipeline: {},
};
for (const [name, fn] of Object.entries(decoders)) {
  results.decode[name] = Math.round(rate(fn, spansIn));
  results.idErrors[name] = idErrors(fn().flat(), (s, k) => s[k]);
}
if (native) {
  // The same decoder with the addon off (MSGPACKR_NATIVE_ACCELERATION_DISABLED), in a child process.
  const dir = mkdtempSync(path.join(tmpdir(), 'ddl-traces-'));
  const file = path.join(dir, 'v04.msgpack');
  writeFileSync(file, v04.body);
  const child = fork(fileURLToPath(import.meta.url), ['--decode-js-only', file, String(spansIn), '--rounds', String(ROUNDS)], {
    env: { ...process.env, MSGPACKR_NATIVE_ACCELERATION_DISABLED: 'true' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const msg = await new Promise((resolve) => child.once('message', resolve));
  rmSync(dir, { recursive: true, force: true });
  results.decode['msgpackr without its addon'] = Math.round(msg.rate);
  results.idErrors['msgpackr without its addon'] = 0;
}

const { config } = loadConfig({ DD_API_KEY: 'x', AWS_LAMBDA_FUNCTION_NAME: 'fn', DD_SERVICE: 'orders' }, { readYaml: false });
const processor = new TraceProcessor({
  tags: { functionname: 'fn', region: 'us-east-1', account_id: '123456789012', function_arn: 'arn:aws:lambda:us-east-1:123456789012:function:fn' },
  service: 'orders',
  env: undefined,
  version: undefined,
  computeStats: false,
  require: [],
  reject: [],
  ownPorts: [8124, 8125, 8126, 9001],
  obfuscation: { httpRemoveQueryString: false, httpRemovePathsWithDigits: false, ...config.apmObfuscation, replace: [] },
});
const info = {
  lang: 'nodejs',
  langVersion: process.version,
  langInterpreter: 'v8',
  langVendor: '',
  tracerVersion: '5',
  containerId: '',
  clientComputedTopLevel: false,
  clientComputedStats: false,
  droppedP0Traces: 0,
  droppedP0Spans: 0,
};

for (const [name, decode, body] of [
  ['v0.4', decodeV04, v04.body],
  ['v0.5', decodeV05, v05.body],
]) {
  results.pipeline[`${name} decode+process+encode`] = Math.round(rate(() => encodeTracerPayload(processor.process(decode(body), info)), spansIn));
}
// Compression is per flush, not per request: measured on a 10-request AgentPayload.
const parts = Array.from({ length: 10 }, () => encodeTracerPayload(processor.process(decodeV04(v04.body), info)));
const batch = agentPayload(parts);
const enc = hasZstd ? 'zstd' : 'gzip';
const t0 = performance.now();
let packed = 0;
for (let i = 0; i < 20; i++) packed = (await compress(batch, enc, 3)).data.length;
results.compress = { encoding: enc, batchBytes: batch.length, wireBytes: packed, msPerBatch: Math.round(((performance.now() - t0) / 20) * 100) / 100, spansPerBatch: spansIn * 10 };
const perReqUs = 1e6 / (results.pipeline['v0.4 decode+process+encode'] / spansIn);
results.perRequestUs = Math.round(perReqUs);

const lite = results.decode['msgpack-lite int64 codec'];
console.log(`trace agent bench — dd-trace payload of ${spansIn} spans (v0.4 ${results.v04Bytes} B, v0.5 ${results.v05Bytes} B), ${process.version}, medians of ${ROUNDS} × 1 s`);
for (const [k, v] of Object.entries(results.decode))
  console.log(`  decode ${k.padEnd(26)} ${String(v).padStart(9)} spans/s  ${(v / lite).toFixed(2)}× lite+int64  id errors: ${results.idErrors[k]}`);
if (native)
  console.log(`  msgpackr's native string addon (shipped in the layer): ${(results.decode.msgpackr / results.decode['msgpackr without its addon']).toFixed(2)}× its JS decoder`);
for (const [k, v] of Object.entries(results.pipeline)) console.log(`  ${k.padEnd(33)} ${String(v).padStart(9)} spans/s`);
console.log(`  one ${spansIn}-span request decode→process→encode: ${results.perRequestUs} µs`);
console.log(`  ${enc} level 3 of a ${results.compress.spansPerBatch}-span batch (${batch.length} B → ${packed} B): ${results.compress.msPerBatch} ms`);
const out = arg('json', undefined);
if (out) writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
