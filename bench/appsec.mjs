// What AppSec costs, and whether a piscina pool earns its place for WAF evaluations (the worker plan
// used to size one for them). Measured on this machine, medians of --runs (5):
//   - WAF build: CPU and wall to load the addon and compile the shipped ruleset (once per sandbox);
//   - inline: one invocation's event + response through the WAF on the AppSec unit's own thread, as
//     shipped: CPU per invocation (p50, p90) over --invocations (500) invocations;
//   - pool of 1, 2, 4 piscina threads (each builds its own WAF): the same invocations as a burst,
//     wall time for the burst and per invocation, and the RSS the pool adds.
// Results: bench/results/appsec.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { AppSecProcessor, buildWaf } from '@dd-lambda/appsec';
import { createLogger } from '@dd-lambda/logger';
import { arg, median, quantile } from './args.mjs';
import { invocations } from './appsec-events.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.resolve(arg('out', path.join(here, 'results')));
const RUNS = Number(arg('runs', '5'));
const N = Number(arg('invocations', '500'));
const cpuMs = (u) => (u.user + u.system) / 1000;
const rssMB = () => process.memoryUsage().rss / 1048576;

const build = [];
for (let i = 0; i < RUNS; i++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  buildWaf(undefined);
  build.push({ cpu: cpuMs(process.cpuUsage(c0)), wall: performance.now() - t0 });
}

const work = invocations(N);
const waf = buildWaf(undefined);
let events = 0;
const processor = new AppSecProcessor({ waf: () => waf, timeoutUs: 5000, emit: (m) => m.meta['appsec.event'] === 'true' && events++, logger: createLogger({ level: 'silent' }) });
const inlineRuns = [];
for (let r = 0; r < RUNS; r++) {
  const per = [];
  const t0 = performance.now();
  for (const w of work) {
    const c0 = process.cpuUsage();
    processor.event(w.requestId, w.event);
    processor.result(w.requestId, 'response', w.response);
    per.push(cpuMs(process.cpuUsage(c0)));
  }
  inlineRuns.push({ p50: quantile(per, 0.5), p90: quantile(per, 0.9), burstMs: performance.now() - t0 });
}

const pools = [];
for (const threads of [1, 2, 4]) {
  const rss0 = rssMB();
  const pool = new Piscina({ filename: path.join(here, 'appsec-pool-worker.mjs'), minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
  await Promise.all(Array.from({ length: threads }, () => pool.run(work[0])));
  const runs = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    await Promise.all(work.map((w) => pool.run(w)));
    runs.push(performance.now() - t0);
  }
  pools.push({ threads, burstMs: median(runs), rssAddedMB: rssMB() - rss0 });
  await pool.destroy();
}

const result = {
  node: process.versions.node,
  runs: RUNS,
  invocations: N,
  wafBuild: { cpuMs: median(build.map((b) => b.cpu)), wallMs: median(build.map((b) => b.wall)) },
  inline: {
    cpuPerInvocationP50Ms: median(inlineRuns.map((r) => r.p50)),
    cpuPerInvocationP90Ms: median(inlineRuns.map((r) => r.p90)),
    burstMs: median(inlineRuns.map((r) => r.burstMs)),
  },
  pools,
  eventsPerRun: events / RUNS,
};
const lines = [
  `# AppSec (${N} API Gateway invocations, 1 in 10 an attack; ${RUNS} runs, Node ${process.versions.node})`,
  '',
  `WAF build (addon load + ruleset compile, once per sandbox): CPU ${result.wafBuild.cpuMs.toFixed(1)} ms, wall ${result.wafBuild.wallMs.toFixed(1)} ms.`,
  '',
  '| mode | burst of all invocations (ms) | per invocation (ms) | RSS added (MB) |',
  '|---|---|---|---|',
  `| inline (shipped) | ${result.inline.burstMs.toFixed(1)} | CPU p50 ${result.inline.cpuPerInvocationP50Ms.toFixed(3)}, p90 ${result.inline.cpuPerInvocationP90Ms.toFixed(3)} | 0 |`,
  ...pools.map((p) => `| piscina, ${p.threads} thread${p.threads > 1 ? 's' : ''} | ${p.burstMs.toFixed(1)} | wall ${(p.burstMs / N).toFixed(3)} | ${p.rssAddedMB.toFixed(1)} |`),
];
mkdirSync(OUT, { recursive: true });
writeFileSync(path.join(OUT, 'appsec.json'), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(path.join(OUT, 'appsec.md'), `${lines.join('\n')}\n`);
console.log(lines.join('\n'));
