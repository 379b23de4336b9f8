#!/usr/bin/env node
// Logs pipeline throughput on one thread: Telemetry API batches (as the platform posts them: up to
// 1,000 records, a mix of Node text lines, JSON lines and platform events) parsed and turned into
// intake logs with one mask_sequences rule, then serialized into intake batches. Medians of N
// rounds of ~1 s; no I/O.
// usage: node bench/logs.mjs [--rounds 5] [--json out.json]
import { writeFileSync } from 'node:fs';
import { arg, median } from './args.mjs';

const ROUNDS = Number(arg('rounds', '5'));

const { loadConfig } = await import('@dd-lambda/config');
const { createLogger } = await import('@dd-lambda/logger');
const { buildLogs } = await import('@dd-lambda/logs');

const rules = JSON.stringify([{ type: 'mask_sequences', name: 'cards', pattern: '\\d{4}(?:[ -]?\\d{4}){3}', replace_placeholder: '[card]' }]);
const { config } = loadConfig({ DD_API_KEY: 'x', AWS_LAMBDA_FUNCTION_NAME: 'fn', DD_LOGS_CONFIG_PROCESSING_RULES: rules }, { readYaml: false });
const tags = { functionname: 'fn', region: 'us-east-1', account_id: '123456789012', function_arn: 'arn:aws:lambda:us-east-1:123456789012:function:fn' };
// The flush is never called: the client is never used.
const logs = buildLogs({ config, tags, logger: createLogger({ level: 'silent', bindings: {} }) });

const now = new Date().toISOString();
function batch(id) {
  const records = [{ time: now, type: 'platform.start', record: { requestId: id, version: '$LATEST' } }];
  for (let i = 0; i < 996; i++) {
    const k = i % 4;
    records.push({
      time: now,
      type: 'function',
      record:
        k === 0
          ? `${now}\t${id}\tINFO\tprocessing order ${i} for customer c-${i % 97}\n`
          : k === 1
            ? `${now}\t${id}\tINFO\t{"level":"info","message":"order accepted","orderId":${i},"ddtags":"team:checkout"}\n`
            : k === 2
              ? `${now}\t${id}\tERROR\tpayment ${i} failed for card 4111 1111 1111 1111\n    at charge (/var/task/pay.js:12:9)\n`
              : { timestamp: now, level: 'WARN', requestId: id, message: `slow downstream ${i}` },
    });
  }
  records.push({ time: now, type: 'platform.runtimeDone', record: { requestId: id, status: 'success', metrics: { durationMs: 12.3 } } });
  records.push({
    time: now,
    type: 'platform.report',
    record: { requestId: id, status: 'success', metrics: { durationMs: 14, billedDurationMs: 15, memorySizeMB: 128, maxMemoryUsedMB: 70 } },
  });
  records.push({ time: now, type: 'platform.initReport', record: { initializationType: 'on-demand', phase: 'init', metrics: { durationMs: 100 } } });
  return Buffer.from(JSON.stringify(records));
}
const bodies = Array.from({ length: 8 }, (_, i) => batch(`req-${i}`));
const perBatch = 999; // 996 lines + START, END, REPORT (initReport is not a line)

const rounds = [];
for (let r = 0; r < ROUNDS + 1; r++) {
  let lines = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1000) {
    for (const b of bodies) logs.telemetry(b);
    lines += perBatch * bodies.length;
    // Drain what was buffered the way a flush does (serialization included), without sending it.
    void logs.flush({ reason: 'end', deadline: 0 }); // a past deadline: batches are built, nothing is sent
  }
  if (r > 0) rounds.push(lines / ((performance.now() - t0) / 1000));
}
const res = { linesPerSecond: Math.round(median(rounds)), rounds: rounds.map(Math.round), node: process.version, bytesPerBatch: bodies[0].length };
console.log(`logs bench — Telemetry API batches of ${perBatch} lines (${res.bytesPerBatch} B), ${process.version}, medians of ${ROUNDS} × 1 s`);
console.log(`  parse + process + rules + serialize + batch: ${res.linesPerSecond} lines/s on one thread`);
const out = arg('json', undefined);
if (out) writeFileSync(out, `${JSON.stringify(res, null, 2)}\n`);
