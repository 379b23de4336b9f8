#!/usr/bin/env node
// DogStatsD throughput, two figures:
//   1. lines/s parsed + aggregated by the pipeline on one worker thread (no I/O), 7 rounds of 1 s;
//   2. datagrams/s received over loopback by a worker thread running the pipeline, from a sender in
//      a separate process (1 line and 30 lines per datagram), with the loss the kernel reports.
// Medians of one run; shared machines are noisy, so compare figures from the same run only.
// usage: node bench/dogstatsd.mjs [--rounds 7] [--seconds 3] [--json out.json]
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { arg, median } from './args.mjs';

/** 1,000 lines cycling through what real clients send (hot-shots, datadog-lambda-js, dd-trace). */
function corpus() {
  const templates = [
    (i) => `page.views:1|c|#env:prod,service:web,route:/r${i % 20}`,
    (i) => `request.latency:${(i % 300) + 0.5}|ms|@0.5|#env:prod,service:web`,
    (i) => `users.online:user${i % 50}|s|#env:prod`,
    (i) => `queue.depth:${i % 40}|g|#queue:q${i % 4}`,
    (i) => `my.metric:${i % 100}|d|#a:b,functionname:fn|T1700000000`,
    (i) => `hs.dist:${i % 17}|d|T1700000000|#g:v,d:y|c:in-5546`,
    (i) => `runtime.node.heap:${i * 13}|g|#version:1.0.0,service:svc,env:test|c:in-1`,
    () => 'errors:1|c',
  ];
  return Array.from({ length: 1000 }, (_, i) => templates[i % templates.length](i)).join('\n');
}

async function pipeline() {
  const { loadConfig } = await import('@dd-lambda/config');
  const { createLogger } = await import('@dd-lambda/logger');
  const { buildDogStatsD, seriesBatches, sketchBatches } = await import('@dd-lambda/dogstatsd');
  const { config } = loadConfig({ DD_API_KEY: 'x', AWS_LAMBDA_FUNCTION_NAME: 'fn' }, { readYaml: false });
  const tags = { functionname: 'fn', region: 'us-east-1', account_id: '123456789012' };
  const dsd = buildDogStatsD({ config, tags, logger: createLogger({ level: 'silent', bindings: {} }) });
  return { dsd, seriesBatches, sketchBatches };
}

async function workerMain() {
  const { dsd, seriesBatches, sketchBatches } = await pipeline();
  if (workerData.mode === 'parse') {
    const text = corpus();
    const rounds = [];
    let encodeMs = 0;
    for (let r = 0; r < workerData.rounds + 1; r++) {
      let lines = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 1000) {
        for (let k = 0; k < 20; k++) dsd.ingest(text);
        lines += 20_000;
      }
      const rate = lines / ((performance.now() - t0) / 1000);
      const e0 = performance.now();
      const taken = dsd.aggregator.take();
      seriesBatches(taken.contexts);
      sketchBatches(taken.contexts);
      encodeMs = performance.now() - e0;
      if (r > 0) rounds.push(rate); // round 0 warms the JIT
    }
    parentPort.postMessage({ rounds, encodeMs });
    return;
  }
  const dgram = await import('node:dgram');
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
  let datagrams = 0;
  let counting = false;
  sock.on('message', (msg) => {
    dsd.datagrams(msg, [msg.length]);
    if (counting) datagrams++;
  });
  sock.bind(0, '127.0.0.1', () => parentPort.postMessage({ port: sock.address().port }));
  parentPort.on('message', (m) => {
    if (m === 'start') counting = true;
    if (m === 'stop') {
      counting = false;
      parentPort.postMessage({ datagrams, lines: dsd.aggregator.counters.lines });
      sock.close();
    }
  });
}

function senderMain() {
  // Child process: keeps ~256 sends in flight, one template line (or 30 joined) per datagram.
  const [port, seconds, lpp] = process.argv.slice(3).map(Number);
  import('node:dgram').then(({ default: dgram }) => {
    const s = dgram.createSocket('udp4');
    const payload = Buffer.from(corpus().split('\n').slice(0, lpp).join('\n'));
    let sent = 0;
    let inflight = 0;
    const end = performance.now() + seconds * 1000;
    const pump = () => {
      while (inflight < 256 && performance.now() < end) {
        inflight++;
        s.send(payload, port, '127.0.0.1', () => {
          inflight--;
          sent++;
          if (inflight === 0 && performance.now() >= end) done();
          else pump();
        });
      }
    };
    const done = () => {
      process.send({ sent });
      s.close();
    };
    pump();
  });
}

function udpErrors() {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  const head = lines[0].split(/\s+/);
  const vals = lines[1].split(/\s+/).map(Number);
  return vals[head.indexOf('RcvbufErrors')] ?? 0;
}

async function main() {
  const self = fileURLToPath(import.meta.url);
  const rounds = Number(arg('rounds', '7'));
  const seconds = Number(arg('seconds', '3'));
  const out = { node: process.version, parse: undefined, loopback: [] };

  const parse = await new Promise((resolve, reject) => {
    const w = new Worker(self, { workerData: { mode: 'parse', rounds } });
    w.once('message', resolve);
    w.once('error', reject);
  });
  out.parse = { linesPerSecMedian: median(parse.rounds), min: Math.min(...parse.rounds), max: Math.max(...parse.rounds), flushEncodeMs: parse.encodeMs };
  console.log(
    `parse + aggregate, one worker: ${(out.parse.linesPerSecMedian / 1e6).toFixed(2)} M lines/s median (${(out.parse.min / 1e6).toFixed(2)}–${(out.parse.max / 1e6).toFixed(2)}), ${rounds} rounds of 1 s`,
  );

  for (const lpp of [1, 30]) {
    const w = new Worker(self, { workerData: { mode: 'udp' } });
    const { port } = await new Promise((resolve) => w.once('message', resolve));
    const e0 = udpErrors();
    w.postMessage('start');
    const child = fork(self, ['--sender', String(port), String(seconds), String(lpp)], { stdio: 'inherit' });
    const { sent } = await new Promise((resolve) => child.once('message', resolve));
    await new Promise((r) => setTimeout(r, 200)); // let the receiver drain its socket
    w.postMessage('stop');
    const { datagrams } = await new Promise((resolve) => w.once('message', resolve));
    await w.terminate();
    const row = {
      linesPerDatagram: lpp,
      sent,
      received: datagrams,
      receivedPerSec: datagrams / seconds,
      linesPerSec: (datagrams * lpp) / seconds,
      lossPct: sent ? (100 * (sent - datagrams)) / sent : 0,
      kernelRcvbufErrors: udpErrors() - e0,
    };
    out.loopback.push(row);
    console.log(
      `loopback, ${lpp} line(s)/datagram: ${(row.receivedPerSec / 1e3).toFixed(1)} k datagrams/s received (${(row.linesPerSec / 1e6).toFixed(2)} M lines/s), sender ${(sent / seconds / 1e3).toFixed(1)} k/s, loss ${row.lossPct.toFixed(2)} %`,
    );
  }
  const json = arg('json', undefined);
  if (json) writeFileSync(json, JSON.stringify(out, null, 2));
}

if (process.argv[2] === '--sender') senderMain();
else if (isMainThread) await main();
else await workerMain();
