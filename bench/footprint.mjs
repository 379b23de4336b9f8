#!/usr/bin/env node
// Footprint bench: what the extension costs a user under Lambda's limits, beside a floor extension.
// The emulator applies the limits with cgroups (CPU share memoryMB/1769 of a core after a boosted INIT,
// the memory limit, the freezer); each sandbox runs the sample function (dd-trace, hot-shots, logs)
// with one of:
//   floor         bench/floor/floor.cjs: register, subscribe, /next, wait for runtimeDone (as `end`)
//   floor-worker  the same plus one empty worker thread after the first /next
//   dd            the shipped x86_64 full layer, DD_SERVERLESS_FLUSH_STRATEGY=end, a local fake intake
// at 128, 512 and 1,769 MB and unlimited, interleaved run by run, with `node -e 0` on the layer's Node.
// CPU is the extension process's user+sys from its cgroup (robust on a noisy machine); times are
// medians. Then one sandbox of 100 invocations at 128 MB counts OOM kills.
// Results: bench/results/footprint.{json,md}.
// usage: node bench/footprint.mjs [--runs 3] [--invocations 20] [--oom-invocations 100] [--out DIR]
//        [--sizes 128,512,1769,0] [--configs floor,floor-worker,dd] [--dd OPT_DIR]
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { buildFakeIntake } from '@dd-lambda/fake-intake';
import { LambdaEmulator, detectHierarchies } from '@dd-lambda/lambda-emulator';
import { arg, freePort, median, quantile } from './args.mjs';
import { renderFootprint } from './footprint-report.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNS = Number(arg('runs', '3'));
const INVOCATIONS = Number(arg('invocations', '20'));
const OOM_INVOCATIONS = Number(arg('oom-invocations', '100'));
const OUT = path.resolve(arg('out', path.join(root, 'bench', 'results')));
// 0: no limits. --sizes and --configs narrow a run (e.g. while trying a lever); --dd DIR measures
// another layer folder (an `opt` directory) as dd.
const SIZES = arg('sizes', '128,512,1769,0').split(',').map(Number);
const CONFIGS = arg('configs', 'floor,floor-worker,dd').split(',');
const DD_OPT = arg('dd', undefined);
const SAMPLE = path.join(root, 'test', 'fixtures', 'sample-function');
const progress = (s) => process.stderr.write(`\r\x1b[2K${s}`);

function nodeE0(node) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const t0 = performance.now();
    const p = spawn(node, ['-e', '0'], { stdio: 'ignore', env });
    p.on('error', reject);
    p.on('exit', () => resolve(performance.now() - t0));
  });
}

/** Layer folders: the shipped zip unzipped (dd) and one holding each floor's two-line launcher. */
function layers(work) {
  const zip = path.join(root, 'layer', 'dist', 'datadog-extension-x86_64.zip');
  if (!existsSync(zip)) throw new Error(`${zip} is missing: run \`pnpm layer\` first`);
  const shipped = path.join(work, 'dd', 'opt');
  execFileSync(process.execPath, [path.join(root, 'layer', 'src', 'unzip.mjs'), zip, shipped], { stdio: 'ignore' });
  const node = path.join(shipped, 'datadog-lambda', 'bin', 'node');
  const out = { dd: DD_OPT ? path.resolve(DD_OPT) : shipped, node };
  for (const name of ['floor', 'floor-worker']) {
    const opt = path.join(work, name, 'opt');
    mkdirSync(path.join(opt, 'extensions'), { recursive: true });
    const file = path.join(opt, 'extensions', name);
    writeFileSync(file, `#!/bin/sh\nexec "${node}" "${path.join(root, 'bench', 'floor', 'floor.cjs')}" "$0"\n`);
    chmodSync(file, 0o755);
    out[name] = opt;
  }
  return out;
}

function procStatus(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const mb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? Number.NaN) / 1024;
    return { rssAnonMB: mb('RssAnon'), rssMB: mb('VmRSS'), hwmMB: mb('VmHWM') };
  } catch {
    return { rssAnonMB: Number.NaN, rssMB: Number.NaN, hwmMB: Number.NaN };
  }
}

/** One cold sandbox: INIT, `invocations` invocations, SHUTDOWN; the extension's figures. */
async function sandbox(opts, config, memoryMB, invocations) {
  const ext = config === 'dd' ? 'datadog-agent' : config;
  const intake = config === 'dd' ? buildFakeIntake({ apiKey: 'bench' }) : undefined;
  const url = intake ? await intake.listen() : 'http://127.0.0.1:9';
  const apm = String(await freePort('tcp'));
  let ready;
  let emu;
  let t0 = 0;
  emu = new LambdaEmulator({
    optDir: opts[config],
    runtime: { handler: 'index.handler', taskRoot: SAMPLE },
    memoryMB: memoryMB || 1769,
    // Unlimited still uses the cgroups, for CPU accounting (ns, dead threads included) only.
    limits: memoryMB ? true : { cpu: false, memory: false },
    timeoutMs: 30_000,
    env: {
      DD_API_KEY: 'bench',
      DD_DD_URL: url,
      DD_APM_DD_URL: url,
      DD_LOGS_CONFIG_LOGS_DD_URL: url,
      DD_SERVERLESS_FLUSH_STRATEGY: 'end',
      DD_EXTENSION_CHECKPOINTS: 'stdout',
      DD_APM_RECEIVER_PORT: apm,
      DD_TRACE_AGENT_PORT: apm,
      DD_TRACE_EXPERIMENTAL_EXPORTER: 'agent',
      DD_DOGSTATSD_PORT: String(await freePort('udp')),
      DD_EXTENSION_LIFECYCLE_PORT: String(await freePort('tcp')),
      DD_EXTENSION_TELEMETRY_PORT: String(await freePort('tcp')),
      FLOOR_TELEMETRY_PORT: String(await freePort('tcp')),
    },
    onLog: (l) => {
      if (ready || l.source !== 'extension' || !/^(FLOOR READY|DD_EXTENSION_CHECKPOINTS)/.test(l.text)) return;
      ready = { at: performance.now(), cpuMs: emu.cpuMs()[ext] };
    },
  });
  try {
    t0 = performance.now();
    const init = await emu.init();
    if (init.status !== 'success') throw new Error(`${config} @${memoryMB}: init ${init.status} ${init.errorType ?? ''}`);
    const timing = init.extensions.find((e) => e.name === ext);
    const spawnedAt = t0 + (timing?.spawnMs ?? 0);
    const inv = [];
    for (let i = 0; i < invocations; i++) {
      const r = await emu.invoke({ orderId: i + 1 });
      inv.push({ postMs: r.postRuntimeMs, cpuMs: r.cpuMs[ext], status: r.status, oom: r.error?.errorType === 'Runtime.OutOfMemory', reset: r.reset });
    }
    for (let i = 0; i < 200 && !ready; i++) await new Promise((r) => setTimeout(r, 10));
    const mem = procStatus(emu.sandboxPids().extensions[ext]);
    await emu.shutdown();
    if (intake && intake.spans().length === 0) throw new Error(`dd @${memoryMB}: nothing reached the intake`);
    return {
      config,
      memoryMB,
      spawnToNextMs: timing?.readyMs,
      initCpuMs: init.cpuMs[ext],
      readyCpuMs: ready?.cpuMs,
      readyFromSpawnMs: ready ? ready.at - spawnedAt : undefined,
      invocations: inv,
      ...mem,
    };
  } finally {
    await emu.close();
    await intake?.close();
  }
}

/** Per (config, size): medians over runs, percentiles over the warm invocations of every run. */
function summarize(rows) {
  const out = {};
  for (const r of rows) (out[`${r.config}@${r.memoryMB}`] ??= []).push(r);
  const figures = {};
  for (const [key, rs] of Object.entries(out)) {
    const num = (xs) => xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
    const warm = rs.flatMap((r) => r.invocations.slice(1));
    figures[key] = {
      runs: rs.length,
      spawnToNextMs: median(num(rs.map((r) => r.spawnToNextMs))),
      readyCpuMs: median(num(rs.map((r) => r.readyCpuMs))),
      readyFromSpawnMs: median(num(rs.map((r) => r.readyFromSpawnMs))),
      coldPostMs: median(num(rs.map((r) => r.invocations[0]?.postMs))),
      coldCpuMs: median(num(rs.map((r) => r.invocations[0]?.cpuMs))),
      warmPostP50: quantile(num(warm.map((w) => w.postMs)), 0.5),
      warmPostP90: quantile(num(warm.map((w) => w.postMs)), 0.9),
      warmCpuP50: quantile(num(warm.map((w) => w.cpuMs)), 0.5),
      warmCpuMean: num(warm.map((w) => w.cpuMs)).reduce((a, b) => a + b, 0) / Math.max(1, warm.length),
      rssAnonMB: median(num(rs.map((r) => r.rssAnonMB))),
      rssMB: median(num(rs.map((r) => r.rssMB))),
      hwmMB: median(num(rs.map((r) => r.hwmMB))),
      oomKills: rs.flatMap((r) => r.invocations).filter((i) => i.oom).length,
    };
  }
  return figures;
}

const detected = detectHierarchies();
if ('reason' in detected) process.stderr.write(`footprint: cgroups not writable (${detected.reason}); every size runs unlimited and the limited figures mean nothing\n`);
const work = mkdtempSync(path.join(os.tmpdir(), 'ddl-footprint-'));
try {
  const opts = layers(work);
  const baseline = [];
  await nodeE0(opts.node);
  // Warm-up: page cache, the emulator's first run.
  for (const c of CONFIGS) await sandbox(opts, c, 0, 2);
  const rows = [];
  for (let run = 0; run < RUNS; run++) {
    for (const size of SIZES) {
      baseline.push(await nodeE0(opts.node));
      for (const c of CONFIGS) {
        progress(`run ${run + 1}/${RUNS}: ${c} @ ${size || 'unlimited'}${size ? ' MB' : ''}`);
        rows.push(await sandbox(opts, c, size, INVOCATIONS));
      }
    }
  }
  progress(`OOM check: dd @ 128 MB, ${OOM_INVOCATIONS} invocations`);
  const oomRun = OOM_INVOCATIONS > 0 ? await sandbox(opts, 'dd', 128, OOM_INVOCATIONS) : { invocations: [] };
  progress('');
  const result = {
    meta: {
      date: new Date().toISOString().slice(0, 10),
      runs: RUNS,
      invocations: INVOCATIONS,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '?',
      limits: 'reason' in detected ? `off: ${detected.reason}` : `cgroup v${detected.hierarchies[0].version}`,
      extensionNode: execFileSync(opts.node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim(),
    },
    nodeE0Ms: median(baseline),
    figures: summarize(rows),
    oom: {
      invocations: OOM_INVOCATIONS,
      kills: oomRun.invocations.filter((i) => i.oom).length,
      resets: oomRun.invocations.filter((i) => i.reset).length,
      rssAnonMB: oomRun.rssAnonMB,
      hwmMB: oomRun.hwmMB,
    },
    rows,
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(path.join(OUT, 'footprint.json'), `${JSON.stringify(result, null, 2)}\n`);
  const md = renderFootprint(result);
  writeFileSync(path.join(OUT, 'footprint.md'), md);
  process.stdout.write(md);
} finally {
  rmSync(work, { recursive: true, force: true });
}
