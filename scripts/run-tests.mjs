#!/usr/bin/env node
// Runs every compiled test file in one `node --test` process, so the output ends with node's own
// summary (Node 20's --test takes no globs, hence the file walk).
// usage: node scripts/run-tests.mjs [DIR ...]   (default: every package's and test/'s dist)
import { readdirSync, statSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
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

let dirs = process.argv.slice(2);
if (dirs.length === 0) {
  const pkgs = readdirSync(path.join(root, 'packages')).map((p) => path.join(root, 'packages', p, 'dist', 'test'));
  dirs = [...pkgs, path.join(root, 'test', 'dist', 'test')];
}
const files = dirs.flatMap((d) => walk(path.resolve(d), []));
if (files.length === 0) {
  console.error('run-tests: no compiled test files found; run the build first');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
