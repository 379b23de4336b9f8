#!/usr/bin/env node
// Cold-start bench. N forced cold starts of each build under the local Lambda emulator, interleaved
// with a `node -e 0` baseline (the layer's own Node) so every figure comes from the same run:
//   - the x86_64 full layer as shipped (layer/dist/datadog-extension-x86_64.zip, unzipped),
//   - the same layer with a V8 compile cache (NODE_COMPILE_CACHE, filled by one warm run first),
//   - optionally another build (`--compare <opt dir>`, e.g. another git ref's layer/dist/opt).
// Then a sweep: memory sizes (hence worker counts) with `end` flushing, and flush strategies at
// 1024 MB, each with N invocations of the sample function (dd-trace, hot-shots, logs) shipping to a
// local fake intake: post-runtime duration per invocation and the extension's RSS.
// Results: bench/results/cold-start.{json,md,svg} (`node bench/report.mjs <json>` re-renders them).
// usage: node bench/cold-start.mjs [--runs 25] [--invocations 20] [--compare DIR] [--out DIR] [--no-sweep]
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { buildFakeIntake } from '@dd-lambda/fake-intake';
import { LambdaEmulator } from '@dd-lambda/lambda-emulator';
import { arg, freePort } from './args.mjs';
import { report } from './report.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(arg('runs', '25'));
const INVOCATIONS = Number(arg('invocations', '20'));
const COMPARE = arg('compare', undefined);
const OUT = path.resolve(arg('out', path.join(root, 'bench', 'results')));
const SWEEP = !process.argv.includes('--no-sweep');
const MEMORY = [128, 512, 1024, 1769, 3008, 10240];
const STRATEGIES = ['default', 'end,1000', 'periodically,1000', 'continuously,1000'];
const SAMPLE = path.join(root, 'test', 'fixtures', 'sample-function');

const progress = (s) => process.stderr.write(`\r\x1b[2K${s}`);

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

function nodeE0(node) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    delete env.NODE_EXTRA_CA_CERTS; // the launcher clears it too; keep the baseline comparable
    const t0 = performance.now();
    const p = spawn(node, ['-e', '0'], { stdio: 'ignore', env });
    p.on('error', reject);
    p.on('exit', () => resolve(performance.now() - t0));
  });
}

const DEAD = { DD_APM_DD_URL: 'http://127.0.0.1:9', DD_DD_URL: 'http://127.0.0.1:9', DD_LOGS_CONFIG_LOGS_DD_URL: 'http://127.0.0.1:9' };

/** One forced cold start: INIT with the sample function, then SHUTDOWN. */
async function coldStart(opt, dir, tag) {
  const cpFile = path.join(dir, `cp-${tag}.jsonl`);
  const emu = new LambdaEmulator({
    optDir: opt,
    runtime: { handler: 'index.handler', taskRoot: SAMPLE },
    memoryMB: 1024,
    env: { DD_API_KEY: 'bench', DD_EXTENSION_CHECKPOINTS: cpFile, ...DEAD, ...(await ports()) },
  });
  try {
    const init = await emu.init();
    if (init.status !== 'success') throw new Error(`init ${init.status} ${init.errorType ?? ''}`);
    const ext = init.extensions.find((e) => e.name === 'datadog-agent');
    await emu.shutdown();
    let checkpoints = [];
    try {
      checkpoints = JSON.parse(readFileSync(cpFile, 'utf8').trim().split('\n')[0]).checkpoints;
    } catch {
      // no checkpoint line: the extension failed early; its phases are missing from this run
    }
    return { register: ext?.registerMs, subscribed: ext?.subscribeMs, ready: ext?.readyMs, checkpoints };
  } finally {
    await emu.close();
  }
}

/** N invocations of the sample function at a memory size and flush strategy, shipping to a local intake. */
async function sweepRow(opt, memoryMB, strategy) {
  const intake = buildFakeIntake({ apiKey: 'bench' });
  const url = await intake.listen();
  let workers;
  const emu = new LambdaEmulator({
    optDir: opt,
    runtime: { handler: 'index.handler', taskRoot: SAMPLE },
    memoryMB,
    env: { DD_API_KEY: 'bench', DD_DD_URL: url, DD_APM_DD_URL: url, DD_LOGS_CONFIG_LOGS_DD_URL: url, DD_SERVERLESS_FLUSH_STRATEGY: strategy, ...(await ports()) },
    onLog: (l) => {
      if (l.source !== 'extension' || !l.text.includes('worker assignment')) return;
      try {
        workers = JSON.parse(l.text).workers;
      } catch {
        // not the JSON line
      }
    },
  });
  try {
    const init = await emu.init();
    if (init.status !== 'success') throw new Error(`init ${init.status}`);
    const post = [];
    for (let i = 0; i < INVOCATIONS; i++) {
      const r = await emu.invoke({ orderId: i + 1 });
      if (r.postRuntimeMs !== undefined) post.push(r.postRuntimeMs);
    }
    await new Promise((r) => setTimeout(r, 300));
    const pid = emu.sandboxPids().extensions['datadog-agent'];
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const mb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN) / 1024;
    await emu.shutdown();
    const spans = intake.spans().length;
    if (spans === 0) throw new Error(`${strategy} @${memoryMB}: nothing reached the intake`);
    // RssAnon is the extension's own memory; RssFile (mapped binary and bundles) varies with the page
    // cache's state from one run to the next, so both are kept.
    return {
      strategy,
      memoryMB,
      workers,
      rssMB: mb('VmRSS'),
      anonMB: mb('RssAnon'),
      fileMB: mb('RssFile'),
      hwmMB: mb('VmHWM'),
      threads: Number(/Threads:\s+(\d+)/.exec(status)?.[1]),
      postRuntimeMs: post,
      spansAtIntake: spans,
    };
  } finally {
    await emu.close();
    await intake.close();
  }
}

function unzipLayer(zip, into) {
  if (!existsSync(zip)) throw new Error(`${zip} is missing: run \`pnpm layer\` first`);
  execFileSync(process.execPath, [path.join(root, 'layer', 'src', 'unzip.mjs'), zip, into], { stdio: 'ignore' });
  return into;
}

const work = mkdtempSync(path.join(os.tmpdir(), 'ddl-bench-'));
try {
  const full = unzipLayer(path.join(root, 'layer', 'dist', 'datadog-extension-x86_64.zip'), path.join(work, 'full', 'opt'));
  const layerNode = path.join(full, 'datadog-lambda', 'bin', 'node');
  // The same layer with a compile cache: the launcher points NODE_COMPILE_CACHE at this directory
  // when it exists; one warm run fills it (as a build step could before zipping).
  const cached = path.join(work, 'cached', 'opt');
  cpSync(full, cached, { recursive: true });
  mkdirSync(path.join(cached, 'datadog-lambda', 'compile-cache'));
  progress('filling the compile cache');
  await sweepRow(cached, 1024, 'end');
  const candidates = [
    {
      label: 'layer x86_64 full',
      description: `the shipped zip, unzipped; Node ${execFileSync(layerNode, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim()} from the layer`,
      opt: full,
    },
    { label: 'layer + compile cache', description: 'the same files plus datadog-lambda/compile-cache (NODE_COMPILE_CACHE, portable), filled by one warm run', opt: cached },
  ];
  if (COMPARE) candidates.push({ label: `compare ${path.basename(path.dirname(path.resolve(COMPARE)))}`, description: `--compare ${COMPARE}`, opt: path.resolve(COMPARE) });
  for (const c of candidates) {
    c.samples = { 'spawn → register': [], 'spawn → subscribed': [], 'spawn → first /next (ready)': [] };
    c.phases = {};
  }
  const baseline = { label: `baseline: node -e 0 (the layer's Node)`, samples: { 'node -e 0': [] } };
  // Warm-up: page cache and the emulator's first-run costs.
  await nodeE0(layerNode);
  for (const c of candidates) await coldStart(c.opt, work, `warm-${c.label}`);
  for (let i = 0; i < RUNS; i++) {
    progress(`cold start ${i + 1}/${RUNS}`);
    baseline.samples['node -e 0'].push(await nodeE0(layerNode));
    for (const c of candidates) {
      const r = await coldStart(c.opt, work, `${i}-${candidates.indexOf(c)}`);
      if (r.register !== undefined) c.samples['spawn → register'].push(r.register);
      if (r.subscribed !== undefined) c.samples['spawn → subscribed'].push(r.subscribed);
      if (r.ready !== undefined) c.samples['spawn → first /next (ready)'].push(r.ready);
      for (const cp of r.checkpoints) {
        (c.phases[cp.name] ??= { delta: [], total: [] }).delta.push(cp.deltaMs);
        c.phases[cp.name].total.push(cp.totalMs);
        if (/READY$/.test(cp.name)) (c.samples[`${cp.name} (from process start)`] ??= []).push(cp.totalMs);
        else if (cp.name !== 'process start') (c.samples[`phase: ${cp.name}`] ??= []).push(cp.deltaMs);
      }
    }
  }
  const rows = [];
  if (SWEEP) {
    for (const m of MEMORY) {
      progress(`sweep: end @ ${m} MB`);
      rows.push(await sweepRow(full, m, 'end'));
    }
    for (const s of STRATEGIES) {
      progress(`sweep: ${s} @ 1024 MB`);
      rows.push(await sweepRow(full, 1024, s));
    }
  }
  progress('');
  const result = {
    meta: {
      runs: RUNS,
      date: new Date().toISOString().slice(0, 10),
      extensionNode: candidates[0].description.match(/Node (\S+)/)?.[1],
      hostNode: process.versions.node,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '?',
    },
    coldStart: { baseline, candidates: candidates.map((c) => ({ label: c.label, description: c.description, samples: c.samples, phases: c.phases })) },
    sweep: {
      invocations: INVOCATIONS,
      description: `memory sizes ${MEMORY.join(', ')} MB with DD_SERVERLESS_FLUSH_STRATEGY=end, then ${STRATEGIES.join(', ')} at 1024 MB; ${INVOCATIONS} invocations of the sample function each`,
      rows,
    },
  };
  mkdirSync(OUT, { recursive: true });
  const json = path.join(OUT, 'cold-start.json');
  writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
  report(result, json);
} finally {
  rmSync(work, { recursive: true, force: true });
}
