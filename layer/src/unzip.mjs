#!/usr/bin/env node
// Unpacks a layer zip as Lambda does under /opt (modes kept), for the layer's end-to-end test and
// the bench. usage: node layer/src/unzip.mjs <zip> <destination>
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readZip } from './zip.mjs';

const [zip, dest] = process.argv.slice(2);
if (!zip || !dest) {
  console.error('usage: unzip.mjs <zip> <destination>');
  process.exit(2);
}
const files = readZip(readFileSync(zip));
for (const f of files) {
  const target = path.resolve(dest, f.name);
  if (!target.startsWith(path.resolve(dest) + path.sep)) throw new Error(`zip entry escapes the destination: ${f.name}`);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, f.data);
  chmodSync(target, f.mode);
}
console.log(`unzipped ${files.length} files into ${dest}`);
