#!/usr/bin/env node
// dd-lambda-emulator: run a function and the extensions of a layer folder as Lambda would.
//   dd-lambda-emulator --task-root ./fn --handler index.handler --opt ./layer/opt --invoke 3
//   dd-lambda-emulator --task-root ./fn --handler index.handler --http 9000 --source apigw-v2
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LambdaEmulator } from './emulator.js';
import { buildFrontDoor, type EventSource } from './front-door.js';
import type { InitializationType, LogFormat } from './types.js';

const { values } = parseArgs({
  options: {
    'task-root': { type: 'string' },
    handler: { type: 'string', default: 'index.handler' },
    opt: { type: 'string' },
    invoke: { type: 'string', default: '1' },
    event: { type: 'string', default: '{}' },
    'timeout-ms': { type: 'string', default: '3000' },
    memory: { type: 'string' },
    unlimited: { type: 'boolean', default: false },
    'no-boost': { type: 'boolean', default: false },
    'cpu-period-us': { type: 'string', default: '100000' },
    'function-name': { type: 'string', default: 'test_function' },
    freeze: { type: 'boolean', default: false },
    'log-format': { type: 'string', default: 'Text' },
    'init-type': { type: 'string', default: 'on-demand' },
    env: { type: 'string', multiple: true, default: [] },
    http: { type: 'string' },
    source: { type: 'string', default: 'apigw-v2' },
    telemetry: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`usage: dd-lambda-emulator [options]
  --task-root DIR        function code folder (omit for an extension-only sandbox)
  --handler FILE.EXPORT  default index.handler
  --opt DIR              layer root: every file in DIR/extensions is an extension
  --invoke N             invocations to run (default 1), then SHUTDOWN
  --event JSON|@FILE     the event payload
  --http PORT            serve a front door instead; --source apigw-v1|apigw-v2|alb|function-url
  --memory MB            memory size (default 1024); given, it applies Lambda's limits with cgroups:
                         CPU quota MB/1769 of a core (unthrottled INIT), memory limit (OOM), freezer
  --unlimited            keep --memory as a number only; --no-boost throttles INIT too;
  --cpu-period-us US     the CFS period (default 100000)
  --timeout-ms MS, --function-name NAME, --freeze, --log-format Text|JSON,
  --init-type on-demand|provisioned-concurrency|snap-start|lambda-managed-instances,
  --env K=V (repeatable), --telemetry (print every telemetry event)`);
  process.exit(0);
}

const env: Record<string, string> = {};
for (const kv of values.env) {
  const i = kv.indexOf('=');
  if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
}
// Datadog settings given to the emulator's own shell reach the sandbox, as function env vars would.
for (const [k, v] of Object.entries(process.env)) if (k.startsWith('DD_') && v !== undefined && env[k] === undefined) env[k] = v;

const taskRoot = values['task-root'];
const emu = new LambdaEmulator({
  ...(taskRoot ? { runtime: { handler: values.handler, taskRoot: path.resolve(taskRoot) } } : {}),
  ...(values.opt ? { optDir: path.resolve(values.opt) } : {}),
  functionName: values['function-name'],
  timeoutMs: Number(values['timeout-ms']),
  memoryMB: Number(values.memory ?? '1024'),
  ...(values.memory !== undefined && !values.unlimited ? { limits: { initBoost: !values['no-boost'], cpuPeriodUs: Number(values['cpu-period-us']) } } : {}),
  ...(values.freeze ? { freeze: true } : {}),
  onWarning: (m) => process.stderr.write(`emulator: ${m}\n`),
  logFormat: values['log-format'] as LogFormat,
  initializationType: values['init-type'] as InitializationType,
  env,
  onLog: (l) => process.stderr.write(`${l.source === 'function' ? '' : `[${l.name}] `}${l.text}\n`),
});
if (emu.limits.applied)
  process.stderr.write(`emulator: Lambda limits on (cgroup v${emu.limits.cgroupVersion}): ${emu.limits.cpuQuotaCores?.toFixed(3)} of a core, ${emu.limits.memoryMB} MB\n`);
const cpuText = (cpu: Record<string, number>): string =>
  Object.entries(cpu)
    .map(([k, v]) => `${k} ${v.toFixed(1)} ms`)
    .join(', ');
emu.telemetry.onEvent((e) => {
  if (values.telemetry) process.stderr.write(`TELEMETRY ${JSON.stringify(e)}\n`);
  const r = e.record as Record<string, any>;
  if (e.type === 'platform.start') process.stderr.write(`START RequestId: ${r.requestId} Version: ${r.version}\n`);
  if (e.type === 'platform.report') {
    const m = r.metrics;
    // The invocation's CPU per process is known once invoke() returns; printed with its result line.
    process.stderr.write(
      `END RequestId: ${r.requestId}\nREPORT RequestId: ${r.requestId}\tDuration: ${m.durationMs.toFixed(2)} ms\tBilled Duration: ${m.billedDurationMs} ms\tMemory Size: ${m.memorySizeMB} MB\tMax Memory Used: ${m.maxMemoryUsedMB} MB${m.initDurationMs !== undefined ? `\tInit Duration: ${m.initDurationMs.toFixed(2)} ms` : ''}${r.status !== 'success' ? `\tStatus: ${r.status}` : ''}\n`,
    );
  }
});

const stop = async (): Promise<void> => {
  const sd = await emu.shutdown();
  console.log(JSON.stringify({ shutdown: sd }));
  await emu.close();
};

if (values.http) {
  const door = buildFrontDoor({ emulator: emu, source: values.source as EventSource, functionName: values['function-name'] });
  const init = await emu.init();
  console.log(JSON.stringify({ init }));
  console.log(`front door (${values.source}) on ${await door.listen(Number(values.http))}`);
  const quit = async (): Promise<void> => {
    await door.close();
    await stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void quit());
  process.on('SIGTERM', () => void quit());
} else {
  const payload = values.event.startsWith('@') ? readFileSync(values.event.slice(1)) : Buffer.from(values.event);
  const init = await emu.init();
  console.log(JSON.stringify({ init }));
  for (let i = 0; i < Number(values.invoke) && init.status === 'success'; i++) {
    const r = await emu.invoke(payload);
    process.stderr.write(`CPU RequestId: ${r.requestId}\t${cpuText(r.cpuMs)}\n`);
    console.log(
      JSON.stringify({
        requestId: r.requestId,
        status: r.status,
        durationMs: r.durationMs,
        postRuntimeMs: r.postRuntimeMs,
        cpuMs: r.cpuMs,
        response: r.payload.toString('utf8').slice(0, 2000),
      }),
    );
  }
  await stop();
}
