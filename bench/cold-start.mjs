#!/usr/bin/env node
// Cold-start bench: N forced cold starts of the built extension (layer/dist/opt) under the
// emulator, interleaved with `node -e 0` so both medians come from the same (noisy, shared) run;
// then RSS of the extension process after 20 invocations with traffic, per memory size.
// usage: node bench/cold-start.mjs [--runs 15] [--json out.json]
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { LambdaEmulator } from '@dd-lambda/lambda-emulator';
import { arg, median } from './args.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const optDir = path.join(root, 'layer', 'dist', 'opt');
const RUNS = Number(arg('runs', '15'));
const jsonOut = arg('json', undefined);

const fmt = (x) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(1));

async function freePort(kind) {
  if (kind === 'udp') {
    const s = dgram.createSocket('udp4');
    await new Promise((r) => s.bind(0, '127.0.0.1', r));
    const p = s.address().port;
    await new Promise((r) => s.close(r));
    return p;
  }
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const p = s.address().port;
  await new Promise((r) => s.close(r));
  return p;
}

/** Free ports for one extension, and the sample function's tracer pointed at its trace port. */
async function ports() {
  const apm = String(await freePort('tcp'));
  return {
    DD_APM_RECEIVER_PORT: apm,
    DD_TRACE_AGENT_PORT: apm,
    DD_TRACE_EXPERIMENTAL_EXPORTER: 'agent',
    DD_DOGSTATSD_PORT: String(await freePort('udp')),
    DD_EXTENSION_LIFECYCLE_PORT: String(await freePort('tcp')),
    DD_EXTENSION_TELEMETRY_PORT: String(await freePort('tcp')),
  };
}

function nodeE0() {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    delete env.NODE_EXTRA_CA_CERTS; // the launcher clears it too; keep the baseline comparable
    const t0 = performance.now();
    const p = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore', env });
    p.on('error', reject);
    p.on('exit', () => resolve(performance.now() - t0));
  });
}

async function coldStart(memoryMB, dir, i) {
  const cpFile = path.join(dir, `cp-${memoryMB}-${i}.jsonl`);
  const emu = new LambdaEmulator({
    optDir,
    runtime: { handler: 'index.handler', taskRoot: path.join(root, 'test', 'fixtures', 'sample-function') },
    memoryMB,
    env: { DD_API_KEY: 'bench', DD_EXTENSION_CHECKPOINTS: cpFile, DD_APM_DD_URL: 'http://127.0.0.1:9', DD_DD_URL: 'http://127.0.0.1:9', DD_LOGS_CONFIG_LOGS_DD_URL: 'http://127.0.0.1:9', ...(await ports()) },
  });
  try {
    const init = await emu.init();
    const ext = init.extensions.find((e) => e.name === 'datadog-agent');
    await emu.shutdown();
    let checkpoints = [];
    try {
      checkpoints = JSON.parse(readFileSync(cpFile, 'utf8').trim().split('\n')[0]).checkpoints;
    } catch {
      // no checkpoint line (the extension failed early); reported as missing
    }
    return { register: ext?.registerMs, subscribed: ext?.subscribeMs, ready: ext?.readyMs, checkpoints };
  } finally {
    await emu.close();
  }
}

async function rssAfterTraffic(memoryMB) {
  const env = { DD_API_KEY: 'bench', DD_APM_DD_URL: 'http://127.0.0.1:9', DD_DD_URL: 'http://127.0.0.1:9', DD_LOGS_CONFIG_LOGS_DD_URL: 'http://127.0.0.1:9', ...(await ports()) };
  const emu = new LambdaEmulator({ optDir, runtime: { handler: 'index.handler', taskRoot: path.join(root, 'test', 'fixtures', 'emit-function') }, memoryMB, env });
  try {
    const post = [];
    for (let i = 0; i < 20; i++) {
      const r = await emu.invoke({ dsd: Array.from({ length: 50 }, (_, j) => `bench.metric.${j}:${i}|c|#inv:${i}`).join('\n') });
      if (r.postRuntimeMs !== undefined) post.push(r.postRuntimeMs);
    }
    await new Promise((r) => setTimeout(r, 300));
    const pid = emu.sandboxPids().extensions['datadog-agent'];
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
    const threads = Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    await emu.shutdown();
    return { memoryMB, rssMB: kb('VmRSS'), hwmMB: kb('VmHWM'), threads, postRuntimeP50: median(post) };
  } finally {
    await emu.close();
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'ddl-bench-'));
const rows = { nodeE0: [], register: [], subscribed: [], ready: [] };
const phases = new Map();
// Warm-up: page cache and the emulator's own first-run costs.
await nodeE0();
await coldStart(1024, dir, 'warm');
for (let i = 0; i < RUNS; i++) {
  process.stderr.write(`\rcold start ${i + 1}/${RUNS}`);
  rows.nodeE0.push(await nodeE0());
  const r = await coldStart(1024, dir, i);
  for (const k of ['register', 'subscribed', 'ready']) if (r[k] !== undefined) rows[k].push(r[k]);
  for (const c of r.checkpoints) {
    if (!phases.has(c.name)) phases.set(c.name, { delta: [], total: [] });
    phases.get(c.name).delta.push(c.deltaMs);
    phases.get(c.name).total.push(c.totalMs);
  }
}
process.stderr.write('\n');
const rss = [];
for (const m of [128, 1769]) {
  process.stderr.write(`\rRSS at ${m} MB`);
  rss.push(await rssAfterTraffic(m));
}
process.stderr.write('\n');
rmSync(dir, { recursive: true, force: true });

const base = median(rows.nodeE0);
const ready = median(rows.ready);
console.log(`\ncold start, ${RUNS} runs, medians (ms), Node ${process.version}, 1024 MB (default worker budget):`);
console.log(`  node -e 0 (spawn -> exit)            ${fmt(base)}`);
console.log(`  spawn -> register                    ${fmt(median(rows.register))}`);
console.log(`  spawn -> subscribed                  ${fmt(median(rows.subscribed))}`);
console.log(`  spawn -> first /next ("ready")       ${fmt(ready)}   ratio to node -e 0: ${(ready / base).toFixed(2)}  (target <= 1.50)${ready / base <= 1.5 ? '' : '  MISS'}`);
console.log('\nextension checkpoints (from process start), medians (ms):');
for (const [name, v] of phases) console.log(`  ${name.padEnd(24)} delta ${fmt(median(v.delta)).padStart(7)}   total ${fmt(median(v.total)).padStart(7)}`);
console.log('\nRSS of the extension process after 20 invocations with DogStatsD traffic:');
for (const r of rss) {
  const target = r.memoryMB <= 128 ? 55 : 80;
  console.log(`  ${String(r.memoryMB).padStart(5)} MB: RSS ${fmt(r.rssMB)} MB, peak ${fmt(r.hwmMB)} MB, ${r.threads} threads, post-runtime p50 ${fmt(r.postRuntimeP50)} ms   (target <= ${target} MB)${r.rssMB <= target ? '' : '  MISS'}`);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ runs: RUNS, node: process.version, rows, phases: Object.fromEntries(phases), rss }, null, 2));
