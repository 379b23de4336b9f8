#!/usr/bin/env node
// Does HTTP/2 to the intake win (DD_HTTP_PROTOCOL)? A fresh client process per round posts what a
// flush posts (three ~30 KB payloads at once: traces, metrics, logs) to a local TLS server that speaks
// both protocols, over HTTP/1.1 keep-alive (node:https, what the intake client uses) and over one
// HTTP/2 session (node:http2). Reported as medians of CPU time (user+system, robust on a noisy machine):
// the protocol module's load, the first flush (TLS handshake included) and each later flush.
//   node bench/http2.mjs [--rounds 7] [--flushes 40]
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg, median } from './args.mjs';

const rounds = Number(arg('rounds', '7'));
const flushes = Number(arg('flushes', '40'));

const dir = mkdtempSync(path.join(os.tmpdir(), 'ddl-h2-'));
try {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
    ],
    { stdio: 'ignore' },
  );
  const server = http2.createSecureServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')), allowHTTP1: true }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const client = path.join(path.dirname(fileURLToPath(import.meta.url)), 'http2-client.mjs');
  const samples = { h1: [], h2: [] };
  for (let r = 0; r < rounds; r++) {
    // Interleaved, so drift on the machine hits both alike.
    for (const mode of ['h1', 'h2']) {
      const out = await new Promise((resolve, reject) => {
        execFile(process.execPath, [client, mode, String(port), String(flushes)], (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout))));
      });
      samples[mode].push(out);
    }
  }
  server.close();
  const row = (mode) => ({
    loadMs: median(samples[mode].map((s) => s.loadMs)),
    firstFlushMs: median(samples[mode].map((s) => s.firstMs)),
    perFlushMs: median(samples[mode].map((s) => s.perFlushMs)),
  });
  const h1 = row('h1');
  const h2 = row('h2');
  console.log(`Node ${process.version}, ${rounds} rounds, ${flushes} flushes of 3 × 30 KB each; CPU ms (user+system), medians`);
  console.log(`${'protocol'.padEnd(22)}${'module load'.padStart(13)}${'first flush'.padStart(13)}${'per flush'.padStart(11)}`);
  for (const [name, v] of [
    ['HTTP/1.1 keep-alive', h1],
    ['HTTP/2 one session', h2],
  ])
    console.log(`${name.padEnd(22)}${v.loadMs.toFixed(2).padStart(13)}${v.firstFlushMs.toFixed(2).padStart(13)}${v.perFlushMs.toFixed(3).padStart(11)}`);
  console.log(
    `ratio h2/h1: load ${(h2.loadMs / h1.loadMs).toFixed(2)}, first flush ${(h2.firstFlushMs / h1.firstFlushMs).toFixed(2)}, per flush ${(h2.perFlushMs / h1.perFlushMs).toFixed(2)}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
