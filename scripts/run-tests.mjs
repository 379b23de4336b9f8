#!/usr/bin/env node
// Runs every compiled test file in one `node --test` process (Node 20's --test takes no globs, hence
// the file walk). With --coverage, the packages' own tests run first under V8 coverage, checked
// against the floor in .c8rc.json, then the end-to-end tests (test/) run in a second process without
// it: coverage slows the process hosting the emulator, and the SHUTDOWN deadline tests measure
// margins of a few hundred ms. node's own summary ends the output either way.
// usage: node scripts/run-tests.mjs [--coverage] [DIR ...]   (default: every package's and test/'s dist)
import { readdirSync, statSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

let args = process.argv.slice(2);
const coverage = args.includes('--coverage');
args = args.filter((a) => a !== '--coverage');
const e2eDir = path.join(root, 'test', 'dist', 'test');
let dirs = args;
if (dirs.length === 0) {
  const pkgs = readdirSync(path.join(root, 'packages')).map((p) => path.join(root, 'packages', p, 'dist', 'test'));
  dirs = [...pkgs, e2eDir];
}
const files = dirs.flatMap((d) => walk(path.resolve(d), []));
if (files.length === 0) {
  console.error('run-tests: no compiled test files found; run the build first');
  process.exit(1);
}

if (!coverage) {
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const e2e = files.filter((f) => f.startsWith(e2eDir + path.sep));
const units = files.filter((f) => !f.startsWith(e2eDir + path.sep));
const covDir = mkdtempSync(path.join(tmpdir(), 'dd-lambda-coverage-'));
const child = spawn(process.execPath, ['--test', '--test-reporter=spec', ...units], {
  stdio: ['inherit', 'pipe', 'inherit'],
  env: { ...process.env, NODE_V8_COVERAGE: covDir },
});
// node's closing summary (from its first "ℹ tests" line on) is held back and printed after the coverage report.
const held = [];
const lines = createInterface({ input: child.stdout });
lines.on('line', (line) => {
  if (held.length > 0 || line.startsWith('ℹ tests ')) held.push(line);
  else process.stdout.write(line + '\n');
});
const status = await new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
await new Promise((resolve) => (lines.closed ? resolve() : lines.once('close', resolve)));
const c8 = path.join(root, 'node_modules', 'c8', 'bin', 'c8.js');
const report = spawnSync(process.execPath, [c8, 'report', '--temp-directory', covDir], { cwd: root, stdio: 'inherit' });
rmSync(covDir, { recursive: true, force: true });
for (const h of held) process.stdout.write(h + '\n');
if (report.status !== 0) console.error('run-tests: coverage is under the floor in .c8rc.json');
const e2eStatus = e2e.length === 0 ? 0 : (spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...e2e], { stdio: 'inherit' }).status ?? 1);
process.exit(status !== 0 ? status : report.status !== 0 ? (report.status ?? 1) : e2eStatus);
