#!/usr/bin/env node
// Lifecycle unit costs on one thread: one /proc peak sample (what runs every 10 ms during an
// invocation) over a Lambda-like sandbox of three Node processes (a runtime and two extensions, each
// with AWS_LAMBDA_RUNTIME_API set, as Lambda starts them), the /proc work of a whole invocation
// (begin + end), and the invocation processor's
// work for one on-demand invocation with universal instrumentation (INVOKE, platform events,
// start/end-invocation with an API Gateway event, span and metric output). Medians of N rounds.
// usage: node bench/lifecycle.mjs [--rounds 5] [--json out.json]
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { arg, median } from './args.mjs';

const ROUNDS = Number(arg('rounds', '5'));

const { InvocationProcessor, ProcSampler, SAMPLE_INTERVAL_MS, PROCESS_SAMPLE_EVERY } = await import('@dd-lambda/lifecycle');
const { createLogger } = await import('@dd-lambda/logger');

/** Median µs per call of fn over ~300 ms rounds. */
function timeIt(fn) {
  const rounds = [];
  for (let r = 0; r < ROUNDS + 1; r++) {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 300) {
      fn(n);
      n++;
    }
    if (r > 0) rounds.push(((performance.now() - t0) * 1000) / n);
  }
  return median(rounds);
}

const SANDBOX = 3;
const children = Array.from({ length: SANDBOX }, () =>
  spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { env: { ...process.env, AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' }, stdio: 'ignore' }),
);
await new Promise((r) => setTimeout(r, 300));
const proc = { root: '/proc', tmp: tmpdir(), iface: 'lo' };
const sampler = new ProcSampler(proc);
sampler.begin();
const sampleUs = timeIt(() => sampler.sample(true));
const tmpOnlyUs = timeIt(() => sampler.sample(false));
sampler.stop();
// What the timer costs per 10 ms tick: processes on every PROCESS_SAMPLE_EVERY-th tick, /tmp on each.
const perTickUs = tmpOnlyUs + (sampleUs - tmpOnlyUs) / PROCESS_SAMPLE_EVERY;
const invocationProcUs = timeIt(() => {
  sampler.begin();
  sampler.end();
});
sampler.begin();
const watched = sampler.end();
for (const c of children) c.kill();

let spans = 0;
let points = 0;
const p = new InvocationProcessor({
  functionName: 'fn',
  service: undefined,
  awsServiceRepresentation: true,
  architecture: 'x86_64',
  managed: false,
  enhancedMetrics: true,
  proc: undefined,
  runtimeTag: undefined,
  styles: ['datadog', 'tracecontext'],
  extractFirst: false,
  capturePayload: false,
  captureMaxDepth: 10,
  triggers: { region: 'us-east-1', partition: 'aws', serviceMapping: {}, awsServiceRepresentation: true, baseService: 'fn' },
  sandboxStartMs: Date.now(),
  emitMetrics: (ps) => (points += ps.length),
  emitSpans: (ss) => (spans += ss.length),
  logger: createLogger({ level: 'silent' }),
});
const event = Buffer.from(
  JSON.stringify({
    version: '2.0',
    routeKey: 'GET /orders/{id}',
    rawPath: '/orders/42',
    rawQueryString: '',
    headers: { 'x-datadog-trace-id': '1111', 'x-datadog-parent-id': '2222', 'x-datadog-sampling-priority': '1', 'user-agent': 'curl' },
    requestContext: {
      apiId: 'abc',
      domainName: 'abc.execute-api.us-east-1.amazonaws.com',
      stage: '$default',
      requestId: 'x',
      timeEpoch: Date.now(),
      http: { method: 'GET', path: '/orders/42', protocol: 'HTTP/1.1', sourceIp: '1.2.3.4', userAgent: 'curl' },
    },
  }),
);
const response = Buffer.from('{"statusCode":200,"body":"ok"}');
const iso = new Date().toISOString();
const invocationUs = timeIt((n) => {
  const id = `r${n}`;
  p.invoke(id, Date.now());
  p.platform([{ time: iso, type: 'platform.start', record: { requestId: id } }]);
  p.startInvocation({ 'lambda-runtime-aws-request-id': id }, event);
  p.endInvocation({ 'lambda-runtime-aws-request-id': id, 'x-datadog-span-id': '77' }, response);
  p.platform([
    { time: iso, type: 'platform.runtimeDone', record: { requestId: id, status: 'success', metrics: { durationMs: 12.5, producedBytes: 30 } } },
    { time: iso, type: 'platform.report', record: { requestId: id, status: 'success', metrics: { durationMs: 14, billedDurationMs: 15, memorySizeMB: 128, maxMemoryUsedMB: 70 } } },
  ]);
});

const res = {
  procSampleUs: Math.round(sampleUs * 10) / 10,
  procTmpOnlySampleUs: Math.round(tmpOnlyUs * 10) / 10,
  procPerTickUs: Math.round(perTickUs * 10) / 10,
  procShareOfOneCore: Math.round((perTickUs / (SAMPLE_INTERVAL_MS * 1000)) * 10000) / 100,
  procPerInvocationUs: Math.round(invocationProcUs * 10) / 10,
  processorPerInvocationUs: Math.round(invocationUs * 10) / 10,
  sandboxProcesses: SANDBOX,
  threadsSeen: watched['threads_use'],
  fdsSeen: watched['fd_use'],
  node: process.version,
};
console.log(`lifecycle bench — ${process.version}, medians of ${ROUNDS} rounds`);
console.log(
  `  /proc full sample (statfs /tmp, fd and task counts of ${SANDBOX} sandbox processes: ${res.threadsSeen} threads, ${res.fdsSeen} fds): ${res.procSampleUs} µs; /tmp only: ${res.procTmpOnlySampleUs} µs`,
);
console.log(
  `  per ${SAMPLE_INTERVAL_MS} ms tick (processes every ${PROCESS_SAMPLE_EVERY}th): ${res.procPerTickUs} µs = ${res.procShareOfOneCore} % of one core while an invocation runs`,
);
console.log(`  /proc begin + end of one invocation (net, CPU, pids, limits): ${res.procPerInvocationUs} µs`);
console.log(`  invocation processor, one universal-instrumentation invocation (API Gateway event, 2 spans, 12 metrics): ${res.processorPerInvocationUs} µs`);
if (spans === 0 || points === 0 || !(watched['threads_use'] > 0)) throw new Error('nothing was measured: the bench is broken');
const out = arg('json', undefined);
if (out) writeFileSync(out, `${JSON.stringify(res, null, 2)}\n`);
