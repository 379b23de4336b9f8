// The runtime-API proxy and AppSec under Lambda's limits: the slim layer (unzipped, with its WAF addon)
// beside the same layer without the proxy, at 128 and 1,769 MB (the emulator's cgroups), with a
// universally instrumented function receiving API Gateway events (1 in 10 a scanner).
//   direct: no wrapper; proxy: the wrapper and DD_EXPERIMENTAL_ENABLE_PROXY (forwarding only);
//   appsec: the wrapper and DD_SERVERLESS_APPSEC_ENABLED (forwarding, tee and WAF).
// Per mode: the function's runtime (the emulator's response time: /next and /response cross the proxy)
// p50 and p99, the extension's CPU per invocation p50, and the WAF's duration per request
// (`_dd.appsec.waf.duration` on the spans) p50 and p99. --invocations (40) per sandbox.
// Results: bench/results/appsec-proxy.{json,md}. Needs `pnpm layer` (the slim zip).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFakeIntake } from '@dd-lambda/fake-intake';
import { LambdaEmulator } from '@dd-lambda/lambda-emulator';
import { arg, freePort, median, quantile } from './args.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.resolve(arg('out', path.join(root, 'bench', 'results')));
const N = Number(arg('invocations', '40'));
const SIZES = arg('sizes', '128,1769').split(',').map(Number);
const slim = path.join(root, 'layer', 'dist', 'datadog-extension-x86_64-slim.zip');
if (!existsSync(slim)) {
  console.error('appsec-proxy bench: run `pnpm layer` first');
  process.exit(1);
}
const dir = mkdtempSync(path.join(os.tmpdir(), 'ddl-bench-appsec-'));
const opt = path.join(dir, 'opt');
execFileSync(process.execPath, [path.join(root, 'layer', 'src', 'unzip.mjs'), slim, opt], { stdio: 'ignore' });

function event(i) {
  const e = {
    resource: '/orders/{id}',
    path: `/orders/${i}`,
    httpMethod: 'GET',
    headers: { 'User-Agent': i % 10 === 0 ? 'Arachni/v1.5.1' : 'Mozilla/5.0', Host: 'api.example.com' },
    queryStringParameters: { q: `item-${i}` },
    requestContext: { stage: 'prod', identity: { sourceIp: '203.0.113.1' }, requestId: `gw-${i}` },
    body: null,
  };
  return { ...e, event: e };
}

async function run(memoryMB, mode) {
  const intake = buildFakeIntake();
  const url = await intake.listen();
  const ports = {
    DD_APM_RECEIVER_PORT: String(await freePort('tcp')),
    DD_DOGSTATSD_PORT: String(await freePort('udp')),
    DD_EXTENSION_LIFECYCLE_PORT: String(await freePort('tcp')),
    DD_EXTENSION_TELEMETRY_PORT: String(await freePort('tcp')),
  };
  const modeEnv =
    mode === 'direct'
      ? {}
      : {
          AWS_LAMBDA_EXEC_WRAPPER: path.join(opt, 'datadog_wrapper'),
          DD_EXTENSION_RUNTIME_PROXY_PORT: String(await freePort('tcp')),
          ...(mode === 'appsec' ? { DD_SERVERLESS_APPSEC_ENABLED: 'true' } : { DD_EXPERIMENTAL_ENABLE_PROXY: 'true' }),
        };
  const emu = new LambdaEmulator({
    optDir: opt,
    runtime: { handler: 'index.handler', taskRoot: path.join(root, 'test', 'fixtures', 'universal-function') },
    memoryMB,
    limits: true,
    timeoutMs: 30_000,
    env: { DD_API_KEY: 'bench', DD_DD_URL: url, DD_APM_DD_URL: url, DD_LOGS_CONFIG_LOGS_DD_URL: url, DD_SERVERLESS_FLUSH_STRATEGY: 'end', ...ports, ...modeEnv },
  });
  const runtime = [];
  const cpu = [];
  try {
    for (let i = 0; i <= N; i++) {
      const r = await emu.invoke(event(i));
      if (r.status !== 'success') throw new Error(`${mode} at ${memoryMB} MB: ${r.status} ${r.payload.toString().slice(0, 200)}`);
      if (i === 0) continue; // the cold one
      runtime.push(r.runtimeMs ?? NaN);
      cpu.push(r.cpuMs['datadog-agent'] ?? NaN);
    }
    await emu.shutdown();
  } finally {
    await emu.close();
    await intake.close();
  }
  const waf = intake
    .spans()
    .map((s) => s.span.metrics['_dd.appsec.waf.duration'])
    .filter((v) => typeof v === 'number');
  return {
    runtimeP50: quantile(runtime, 0.5),
    runtimeP99: quantile(runtime, 0.99),
    cpuP50: median(cpu),
    wafP50Us: waf.length ? quantile(waf, 0.5) : undefined,
    wafP99Us: waf.length ? quantile(waf, 0.99) : undefined,
  };
}

const result = { node: process.versions.node, invocations: N, rows: [] };
try {
  for (const size of SIZES) for (const mode of ['direct', 'proxy', 'appsec']) result.rows.push({ size, mode, ...(await run(size, mode)) });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const f = (v, d = 1) => (v === undefined || Number.isNaN(v) ? '—' : v.toFixed(d));
const lines = [
  `# Runtime-API proxy and AppSec under Lambda's limits (${N} warm invocations per cell, Node ${process.versions.node})`,
  '',
  '| memory | mode | function runtime p50 / p99 (ms) | extension CPU per invocation p50 (ms) | WAF per request p50 / p99 (µs) |',
  '|---|---|---|---|---|',
  ...result.rows.map((r) => `| ${r.size} MB | ${r.mode} | ${f(r.runtimeP50)} / ${f(r.runtimeP99)} | ${f(r.cpuP50, 2)} | ${f(r.wafP50Us, 0)} / ${f(r.wafP99Us, 0)} |`),
];
mkdirSync(OUT, { recursive: true });
writeFileSync(path.join(OUT, 'appsec-proxy.json'), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(path.join(OUT, 'appsec-proxy.md'), `${lines.join('\n')}\n`);
console.log(lines.join('\n'));
