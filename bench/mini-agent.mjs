// The serverless mini agent's start-up and memory beside a floor: `node -e 0`, and a floor agent
// (plain node:http on the trace port plus a UDP socket, no workers) started the same way.
// Per run (interleaved): spawn → listening, spawn → workers READY, CPU (user+sys) at READY, RSS and
// RssAnon after start and after a load of 2,000 spans (20 requests) and 2,000 DogStatsD datagrams
// and one flush. Medians over --runs (default 7). Results: bench/results/mini-agent.{json,md}.
// Build first: `pnpm build` (the bundle is layer/dist/agent/dd-serverless-agent.cjs).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import dgram from 'node:dgram';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pack } from 'msgpackr';
import { buildFakeIntake } from '@dd-lambda/fake-intake';
import { arg, freePort, median } from './args.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const AGENT = path.join(root, 'layer', 'dist', 'agent', 'dd-serverless-agent.cjs');
const OUT = path.resolve(arg('out', path.join(root, 'bench', 'results')));
const RUNS = Number(arg('runs', '7'));
const TICKS = 100; // clock ticks per second on Linux

const FLOOR = `
const http = require('node:http'); const dgram = require('node:dgram');
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('{}')); });
const u = dgram.createSocket('udp4'); u.on('message', () => {});
s.listen(Number(process.env.DD_APM_RECEIVER_PORT), '127.0.0.1', () => u.bind(Number(process.env.DD_DOGSTATSD_PORT), '127.0.0.1', () => {
  console.log('serverless mini agent listening'); console.log('workers ready');
}));
process.on('SIGTERM', () => process.exit(0));
`;

if (!existsSync(AGENT)) {
  console.error('mini-agent bench: build first (pnpm build)');
  process.exit(1);
}

function procStatus(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { rssMB: kb('VmRSS') / 1024, rssAnonMB: kb('RssAnon') / 1024 };
}

function cpuMs(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS;
}

async function startOne(args, env) {
  const t0 = performance.now();
  const proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const marks = {};
  let buf = '';
  const seen = new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      buf += d.toString();
      if (marks.listening === undefined && buf.includes('serverless mini agent listening')) marks.listening = performance.now() - t0;
      if (marks.ready === undefined && buf.includes('workers ready')) {
        marks.ready = performance.now() - t0;
        resolve();
      }
    });
    proc.on('exit', () => reject(new Error(`exited early:\n${buf}`)));
  });
  await seen;
  marks.cpuAtReadyMs = cpuMs(proc.pid);
  await new Promise((r) => setTimeout(r, 200));
  Object.assign(marks, Object.fromEntries(Object.entries(procStatus(proc.pid)).map(([k, v]) => [`${k}Start`, v])));
  return { proc, marks };
}

async function load(env) {
  const port = Number(env.DD_APM_RECEIVER_PORT);
  for (let i = 0; i < 20; i++) {
    const trace = Array.from({ length: 100 }, (_, j) => ({
      trace_id: i + 1,
      span_id: j + 1,
      parent_id: j === 0 ? 0 : 1,
      name: 'bench.op',
      resource: `r${j % 7}`,
      service: 'bench',
      type: 'web',
      start: Date.now() * 1e6,
      duration: 1e6,
      error: 0,
      meta: { 'http.method': 'GET' },
      metrics: {},
    }));
    const body = pack([trace]);
    await new Promise((resolve) => {
      const req = http.request({ port, method: 'PUT', path: '/v0.4/traces', headers: { 'content-type': 'application/msgpack', 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', resolve);
      req.end(body);
    });
  }
  const u = dgram.createSocket('udp4');
  for (let i = 0; i < 2000; i++) await new Promise((r) => u.send(`bench.metric:${i}|d|#k:${i % 10}`, Number(env.DD_DOGSTATSD_PORT), '127.0.0.1', r));
  u.close();
}

const intake = buildFakeIntake();
const url = await intake.listen();
const rows = { floorNode: [], floor: [], agent: [] };
for (let run = 0; run < RUNS; run++) {
  const t = performance.now();
  const n = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => n.on('exit', r));
  rows.floorNode.push({ ready: performance.now() - t });
  for (const kind of ['floor', 'agent']) {
    const env = {
      PATH: process.env.PATH ?? '',
      DD_API_KEY: 'bench',
      DD_APM_DD_URL: url,
      DD_DD_URL: url,
      DD_APM_RECEIVER_PORT: String(await freePort('tcp')),
      DD_DOGSTATSD_PORT: String(await freePort('udp')),
      DD_SERVERLESS_FLUSH_INTERVAL: '1',
      DD_LOG_LEVEL: 'info',
    };
    const { proc, marks } = await startOne(kind === 'agent' ? [AGENT] : ['-e', FLOOR], env);
    await load(env);
    await new Promise((r) => setTimeout(r, 1500)); // one flush
    Object.assign(marks, Object.fromEntries(Object.entries(procStatus(proc.pid)).map(([k, v]) => [`${k}Loaded`, v])));
    marks.cpuLoadedMs = cpuMs(proc.pid);
    proc.kill('SIGTERM');
    await new Promise((r) => proc.on('exit', r));
    rows[kind].push(marks);
  }
}
await intake.close();

const med = (list, k) => median(list.map((r) => r[k]).filter((v) => Number.isFinite(v)));
const figures = ['listening', 'ready', 'cpuAtReadyMs', 'rssMBStart', 'rssAnonMBStart', 'cpuLoadedMs', 'rssMBLoaded', 'rssAnonMBLoaded'];
const labels = {
  listening: 'spawn → listening (ms)',
  ready: 'spawn → workers READY (ms)',
  cpuAtReadyMs: 'CPU at READY (ms)',
  rssMBStart: 'RSS after start (MB)',
  rssAnonMBStart: 'RssAnon after start (MB)',
  cpuLoadedMs: 'CPU after the load and a flush (ms)',
  rssMBLoaded: 'RSS after the load (MB)',
  rssAnonMBLoaded: 'RssAnon after the load (MB)',
};
const result = { node: process.versions.node, runs: RUNS, nodeE0Ms: med(rows.floorNode, 'ready'), rows: {} };
const lines = [
  `# Serverless mini agent: start-up and memory (${RUNS} runs, Node ${process.versions.node}; \`node -e 0\` median ${result.nodeE0Ms.toFixed(1)} ms)`,
  '',
  '| figure | floor agent | dd-serverless-agent | ratio |',
  '|---|---|---|---|',
];
for (const f of figures) {
  const a = med(rows.floor, f);
  const b = med(rows.agent, f);
  result.rows[f] = { floor: a, agent: b, ratio: b / a };
  lines.push(`| ${labels[f]} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)}× |`);
}
mkdirSync(OUT, { recursive: true });
writeFileSync(path.join(OUT, 'mini-agent.json'), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(path.join(OUT, 'mini-agent.md'), `${lines.join('\n')}\n`);
console.log(lines.join('\n'));
