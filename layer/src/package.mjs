#!/usr/bin/env node
// Zips the built extension (layer/dist/opt, from build.mjs) into Lambda layers, deterministically:
//   datadog-extension-<arch>.zip        full: ships Node (the pinned LTS) so any runtime can host it
//   datadog-extension-<arch>-slim.zip   slim: runs on the runtime's own Node (Node.js runtimes only)
// Per architecture it adds msgpackr's native string extractor and the AppSec WAF (N-API, glibc). Size budgets are
// checked here: the build fails when a zip is over its budget.
// usage: node layer/src/package.mjs [--arch x86_64|arm64]... [--flavor full|slim]... [--out DIR]
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCHES, NODE_VERSION, msgpackrExtract, nodeBinary } from './artifacts.mjs';
import { stripElf } from './elf-strip.mjs';
import { writeZip } from './zip.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const opt = path.join(root, 'dist', 'opt');
const cache = path.join(root, '.cache');

/** Decimal megabytes, as AWS states layer limits. */
export const BUDGET_BYTES = { full: 45_000_000, slim: 3_000_000 };
export const FLAVORS = /** @type {const} */ (['full', 'slim']);

/** Every file under dir, as zip entries named relative to `base`, sorted by name. */
function filesOf(dir, base = dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...filesOf(p, base));
    else out.push({ name: path.relative(base, p).split(path.sep).join('/'), data: readFileSync(p), mode: st.mode & 0o111 ? 0o755 : 0o644 });
  }
  return out;
}

/** msgpackr requires `msgpackr-extract`; in the layer that package is the prebuilt addon and a one-line loader. */
function extractorEntries(arch) {
  const dir = 'datadog-lambda/node_modules/msgpackr-extract';
  return [
    { name: `${dir}/package.json`, data: Buffer.from('{"name":"msgpackr-extract","main":"index.js"}\n'), mode: 0o644 },
    {
      name: `${dir}/index.js`,
      data: Buffer.from(
        "'use strict';\n// msgpackr's native string extractor, prebuilt for this layer's architecture (N-API, glibc).\nmodule.exports = require('./msgpackr-extract.node');\n",
      ),
      mode: 0o644,
    },
    { name: `${dir}/msgpackr-extract.node`, data: msgpackrExtract(arch, cache), mode: 0o755 },
  ];
}

/**
 * The AppSec WAF: @datadog/native-appsec's prebuilt N-API addon and libddwaf for the architecture (both
 * arches are in its npm package; the addon finds libddwaf through its $ORIGIN rpath), with a loader.
 */
function wafEntries(arch) {
  const pkg = path.dirname(createRequire(path.join(root, '..', 'packages', 'appsec', 'package.json')).resolve('@datadog/native-appsec/package.json'));
  const from = path.join(pkg, 'prebuilds', `linuxglibc-${arch === 'x86_64' ? 'x64' : 'arm64'}`);
  const { version } = JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8'));
  const dir = 'datadog-lambda/node_modules/@datadog/native-appsec';
  return [
    { name: `${dir}/package.json`, data: Buffer.from(`${JSON.stringify({ name: '@datadog/native-appsec', version, main: 'index.js' })}\n`), mode: 0o644 },
    {
      name: `${dir}/index.js`,
      data: Buffer.from("'use strict';\n// libddwaf's Node binding, prebuilt for this layer's architecture (N-API, glibc).\nmodule.exports = require('./node-napi.node');\n"),
      mode: 0o644,
    },
    { name: `${dir}/node-napi.node`, data: readFileSync(path.join(from, 'node-napi.node')), mode: 0o755 },
    { name: `${dir}/libddwaf.so`, data: readFileSync(path.join(from, 'libddwaf.so')), mode: 0o755 },
  ];
}

export function layerEntries(arch, flavor) {
  if (!existsSync(path.join(opt, 'extensions', 'datadog-agent'))) throw new Error(`${opt} is not built: run the layer build first`);
  const entries = [...filesOf(opt), ...extractorEntries(arch), ...wafEntries(arch)];
  if (flavor === 'full') entries.push({ name: 'datadog-lambda/bin/node', data: stripElf(nodeBinary(arch, cache)).data, mode: 0o755 });
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** How this host can run an architecture's Node: natively, under qemu-user with that architecture's C/C++ runtime, or not. */
function runnerFor(arch) {
  const native = (process.arch === 'x64' && arch === 'x86_64') || (process.arch === 'arm64' && arch === 'arm64');
  if (native) return [];
  const qemu = arch === 'arm64' ? ['/usr/bin/qemu-aarch64-static', '/usr/aarch64-linux-gnu'] : ['/usr/bin/qemu-x86_64-static', '/usr/x86_64-linux-gnu'];
  return existsSync(qemu[0]) && existsSync(qemu[1]) ? [qemu[0], '-L', qemu[1]] : undefined;
}

/**
 * The stripped binary that goes in the zip must start: run it (natively or under qemu) and check the
 * architecture and version it reports. Where it cannot be run here, CI fails and a local build warns.
 */
function smokeTest(arch, binary) {
  const runner = runnerFor(arch);
  if (runner === undefined) {
    const msg = `layer: cannot run the ${arch} Node on this host to check it (install qemu-user-static and the ${arch} C/C++ runtime)`;
    if (process.env.CI === 'true') throw new Error(msg);
    console.warn(`${msg}; not checked`);
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ddl-node-'));
  try {
    const file = path.join(dir, 'node');
    writeFileSync(file, binary, { mode: 0o755 });
    const [cmd, ...pre] = runner.length > 0 ? runner : [file];
    const args = runner.length > 0 ? [...pre, file] : [];
    const out = execFileSync(cmd, [...args, '-p', 'process.arch + " " + process.versions.node'], { encoding: 'utf8', timeout: 60_000 }).trim();
    const want = `${arch === 'x86_64' ? 'x64' : 'arm64'} ${NODE_VERSION}`;
    if (out !== want) throw new Error(`layer: the stripped ${arch} Node reports "${out}", expected "${want}"`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function zipName(arch, flavor) {
  return `datadog-extension-${arch}${flavor === 'slim' ? '-slim' : ''}.zip`;
}

async function main() {
  const args = process.argv.slice(2);
  const pick = (flag, all) => {
    const v = args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));
    return v.length > 0 ? v : all;
  };
  const arches = pick('--arch', ARCHES);
  const flavors = pick('--flavor', FLAVORS);
  const outDir = pick('--out', [path.join(root, 'dist')])[0];
  mkdirSync(outDir, { recursive: true });
  const over = [];
  for (const arch of arches) {
    if (!ARCHES.includes(arch)) throw new Error(`unknown arch ${arch}`);
    for (const flavor of flavors) {
      if (!FLAVORS.includes(flavor)) throw new Error(`unknown flavor ${flavor}`);
      const t0 = performance.now();
      const entries = layerEntries(arch, flavor);
      if (flavor === 'full') smokeTest(arch, entries.find((e) => e.name === 'datadog-lambda/bin/node').data);
      const zip = writeZip(entries);
      const file = path.join(outDir, zipName(arch, flavor));
      writeFileSync(file, zip);
      chmodSync(file, 0o644);
      const unzipped = entries.reduce((n, e) => n + e.data.length, 0);
      const budget = BUDGET_BYTES[flavor];
      const ok = zip.length <= budget;
      if (!ok) over.push(path.basename(file));
      const mb = (n) => (n / 1e6).toFixed(2);
      console.log(
        `layer: ${path.basename(file).padEnd(36)} ${mb(zip.length).padStart(6)} MB zipped (budget ${mb(budget)} MB${ok ? '' : ', OVER'}), ${mb(unzipped).padStart(6)} MB unzipped, ${entries.length} files${flavor === 'full' ? `, Node ${NODE_VERSION}` : ''} (${Math.round(performance.now() - t0)} ms)`,
      );
    }
  }
  if (over.length > 0) {
    console.error(`layer: over the size budget: ${over.join(', ')}`);
    process.exit(1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
