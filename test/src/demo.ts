// The main job: the extension layer inside the local Lambda emulator with a sample function,
// shipping to the fake intake, and a summary of what reached the intake.
// Uses layer/dist/opt (the built datadog-agent extension) when it exists, else the example
// log-forwarder extension of test/fixtures/demo-opt.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFakeIntake } from '@dd-lambda/fake-intake';
import { LambdaEmulator } from '@dd-lambda/lambda-emulator';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const fixtures = path.join(root, 'test', 'fixtures');
const layerOpt = path.join(root, 'layer', 'dist', 'opt');
const optDir = existsSync(path.join(layerOpt, 'extensions', 'datadog-agent')) ? layerOpt : path.join(fixtures, 'demo-opt');
const API_KEY = 'demo-api-key';

const intake = buildFakeIntake({ apiKey: API_KEY });
const intakeUrl = await intake.listen();
console.log(`fake intake: ${intakeUrl}`);
console.log(`extensions from: ${path.relative(root, optDir)}`);

const emu = new LambdaEmulator({
  optDir,
  runtime: { handler: 'index.handler', taskRoot: path.join(fixtures, 'sample-function') },
  functionName: 'demo-orders',
  memoryMB: 512,
  timeoutMs: 3000,
  env: {
    DD_API_KEY: API_KEY,
    DD_SITE: 'datadoghq.com',
    DD_APM_DD_URL: intakeUrl,
    DD_DD_URL: intakeUrl,
    DD_LOGS_CONFIG_LOGS_DD_URL: intakeUrl,
    DD_SERVICE: 'demo-orders',
    DD_EXTENSION_CHECKPOINTS: '1',
    // dd-trace in Lambda exports to the extension only when it finds it; this skips the file check.
    DD_TRACE_EXPERIMENTAL_EXPORTER: 'agent',
  },
  onLog: (l) => console.log(`  ${l.source === 'extension' ? `[${l.name}] ` : ''}${l.text.replaceAll('\n', '\n  ')}`),
});

try {
  const init = await emu.init();
  console.log(
    `INIT ${init.status} in ${init.durationMs.toFixed(1)} ms; ${init.extensions.map((e) => `${e.name}: register ${e.registerMs?.toFixed(1)} ms, ready ${e.readyMs?.toFixed(1)} ms`).join('; ')}`,
  );
  for (const [i, event] of [{ orderId: 1 }, { orderId: 2, fail: true }, { orderId: 3 }].entries()) {
    const r = await emu.invoke(event);
    console.log(`INVOKE ${i + 1} ${r.status} ${r.durationMs.toFixed(1)} ms (post-runtime ${r.postRuntimeMs?.toFixed(1)} ms) -> ${r.payload.toString().slice(0, 120)}`);
  }
  const sd = await emu.shutdown();
  console.log(`SHUTDOWN in ${sd.durationMs.toFixed(1)} ms: ${sd.extensions.map((e) => `${e.name} ${e.killed ? 'killed' : `exited ${e.exitCode}`}`).join(', ')}`);
} finally {
  await emu.close();
}

console.log('\nwhat reached the fake intake:');
for (const r of intake.requests()) console.log(`  ${r.status} ${r.method} ${r.path} ${r.encoding} ${r.wireBytes} B${r.error ? ` ${r.error.code}: ${r.error.message}` : ''}`);
const logs = intake.logs();
console.log(`logs (${logs.length}):`);
for (const l of logs) console.log(`  [${l.status}] ${(l.lambda as { request_id?: string } | undefined)?.request_id ?? '-'} ${l.message}`);
const points = intake.metricPoints();
if (points.length) console.log(`metric points (${points.length}): ${[...new Set(points.map((p) => p.metric))].join(', ')}`);
const sketches = intake.sketchPoints();
if (sketches.length) console.log(`distribution points (${sketches.length}): ${[...new Set(sketches.map((p) => p.metric))].join(', ')}`);
const spans = intake.spans();
if (spans.length) console.log(`spans (${spans.length}): ${spans.map((s) => `${s.span.name}(${s.span.resource})`).join(', ')}`);
await intake.close();
