// datadog_wrapper end to end: the emulator runs it as AWS_LAMBDA_EXEC_WRAPPER in front of a Java-style
// and a .NET-style runtime command; a stand-in runtime records what it was started with and serves the
// invocation, so the function is checked to work through the wrapper too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LambdaEmulator } from '@dd-lambda/lambda-emulator';
import { fixtures, freeTcpPort, layerOpt, portEnv, root } from './helpers.js';

const FAKE = path.join(fixtures, 'fake-runtime');
const BOOTSTRAP = path.join(root, 'packages', 'lambda-emulator', 'dist', 'src', 'runtime-client', 'bootstrap.js');
const JAVA_ARGS = [
  '-XX:MaxHeapSize=445645k',
  '-XX:-TieredCompilation',
  '-Dname=with space',
  '-cp',
  '/var/runtime/lib/*',
  'com.amazonaws.services.lambda.runtime.api.client.AWSLambda',
  'index.handler',
];

interface Recorded {
  args: string[];
  env: Record<string, string>;
}

/** One cold start and one invocation through the wrapper of a copy of the layer; what the runtime saw, and the function's log lines. */
async function run(
  executionEnv: string,
  files: string[],
  env: Record<string, string>,
  args: string[],
  noExtension = false,
): Promise<{ rec: Recorded; lines: string[]; opt: string; status: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ddl-wrap-'));
  const opt = path.join(dir, 'opt');
  cpSync(layerOpt, opt, { recursive: true });
  // Without the extension nothing binds the runtime-API proxy (the extension binds it when AppSec is on).
  if (noExtension) rmSync(path.join(opt, 'extensions'), { recursive: true, force: true });
  for (const f of files) {
    mkdirSync(path.dirname(path.join(opt, f)), { recursive: true });
    writeFileSync(path.join(opt, f), '');
  }
  const record = path.join(dir, 'record.json');
  const lines: string[] = [];
  // The Lambda API port is chosen here, so a stand-in runtime rerouted to a proxy can still reach it.
  const apiPort = await freeTcpPort();
  const extra = env['FAKE_REAL_RUNTIME_API'] === undefined ? {} : { FAKE_REAL_RUNTIME_API: `127.0.0.1:${apiPort}` };
  const emu = new LambdaEmulator({
    optDir: opt,
    port: apiPort,
    runtime: { handler: 'index.handler', taskRoot: FAKE, command: path.join(FAKE, 'fake-jvm'), args, executionEnv },
    env: {
      ...(await portEnv()),
      DD_API_KEY: 'k',
      DD_DD_URL: 'http://127.0.0.1:9',
      DD_APM_DD_URL: 'http://127.0.0.1:9',
      DD_LOGS_CONFIG_LOGS_DD_URL: 'http://127.0.0.1:9',
      AWS_LAMBDA_EXEC_WRAPPER: path.join(opt, 'datadog_wrapper'),
      FAKE_RUNTIME_RECORD: record,
      FAKE_RUNTIME_BOOTSTRAP: BOOTSTRAP,
      ...env,
      ...extra,
    },
    onLog: (l) => {
      if (l.source === 'function') lines.push(l.text);
    },
  });
  try {
    const res = await emu.invoke({});
    await emu.shutdown();
    return { rec: JSON.parse(readFileSync(record, 'utf8')) as Recorded, lines, opt, status: res.status };
  } finally {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("Java: the agent and C1-only go on the JVM's command line, -XX:-TieredCompilation goes, the rest keeps its spaces; Lambda-unfit agent features off", async () => {
  const { rec, opt, status, lines } = await run('AWS_Lambda_java21', ['java/lib/dd-java-agent.jar'], {}, JAVA_ARGS);
  assert.equal(status, 'success');
  assert.deepEqual(rec.args, [
    `-javaagent:${path.join(opt, 'java', 'lib', 'dd-java-agent.jar')}`,
    '-XX:TieredStopAtLevel=1',
    '-XX:MaxHeapSize=445645k',
    '-Dname=with space',
    '-cp',
    '/var/runtime/lib/*',
    'com.amazonaws.services.lambda.runtime.api.client.AWSLambda',
    'index.handler',
  ]);
  assert.deepEqual(
    [rec.env['DD_JMXFETCH_ENABLED'], rec.env['DD_RUNTIME_METRICS_ENABLED'], rec.env['DD_REMOTE_CONFIG_ENABLED'], rec.env['DD_APPSEC_ENABLED']],
    ['false', 'false', 'false', 'false'],
  );
  assert.ok(!lines.some((l) => l.includes('[datadog-wrapper]')), 'no debug lines below DD_LOG_LEVEL=debug');
});

test('Java without the agent layer: the command runs unchanged', async () => {
  const { rec, status } = await run('AWS_Lambda_java21', [], {}, JAVA_ARGS);
  assert.equal(status, 'success');
  assert.deepEqual(rec.args, JAVA_ARGS);
  assert.equal(rec.env['DD_JMXFETCH_ENABLED'], undefined);
});

test('.NET: the CLR profiler is found (x64 and arm64) and switched on; without it a warning says what to add', async () => {
  const files = ['datadog/linux-x64/Datadog.Trace.ClrProfiler.Native.so', 'datadog/linux-arm64/Datadog.Trace.ClrProfiler.Native.so'];
  const { rec, opt, status, lines } = await run('AWS_Lambda_dotnet8', files, { DD_LOG_LEVEL: 'DEBUG' }, ['/var/runtime/bootstrap']);
  assert.equal(status, 'success');
  assert.deepEqual(rec.args, ['/var/runtime/bootstrap'], 'arguments unchanged');
  assert.deepEqual(
    [
      rec.env['CORECLR_ENABLE_PROFILING'],
      rec.env['CORECLR_PROFILER'],
      rec.env['CORECLR_PROFILER_PATH_64'],
      rec.env['CORECLR_PROFILER_PATH_ARM64'],
      rec.env['DD_DOTNET_TRACER_HOME'],
    ],
    ['1', '{846F5F1C-F9AE-4B07-969E-05C26BC060D8}', path.join(opt, files[0] as string), path.join(opt, files[1] as string), path.join(opt, 'datadog')],
  );
  assert.ok(
    lines.some((l) => l.startsWith('[datadog-wrapper] configuring the .NET tracer')),
    'debug lines at DD_LOG_LEVEL=debug',
  );
  const missing = await run('AWS_Lambda_dotnet8', [], {}, ['/var/runtime/bootstrap']);
  assert.equal(missing.status, 'success');
  assert.ok(missing.lines.some((l) => l.includes('the .NET tracer (Datadog.Trace.ClrProfiler.Native.so) is not under')));
});

test("AppSec: the runtime is pointed at the extension's runtime-API proxy when it listens, and left on Lambda's API when it does not", async () => {
  const off = await run('AWS_Lambda_java21', [], { DD_SERVERLESS_APPSEC_ENABLED: 'true', DD_EXTENSION_RUNTIME_PROXY_PORT: '1' }, [], true);
  assert.equal(off.status, 'success');
  assert.notEqual(off.rec.env['AWS_LAMBDA_RUNTIME_API'], '127.0.0.1:1');
  assert.equal(off.rec.env['DD_TRACE_ENABLED'], 'true');
  assert.ok(off.lines.some((l) => l.includes('proxy is not listening on 127.0.0.1:1')));
  const proxy = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const port = String((proxy.address() as net.AddressInfo).port);
  try {
    // The stand-in runtime records the rerouted address, then talks to the emulator itself.
    const on = await run('AWS_Lambda_java21', [], { DD_EXPERIMENTAL_ENABLE_PROXY: 'true', DD_EXTENSION_RUNTIME_PROXY_PORT: port, FAKE_REAL_RUNTIME_API: 'from-emulator' }, []);
    assert.equal(on.rec.env['AWS_LAMBDA_RUNTIME_API'], `127.0.0.1:${port}`);
  } finally {
    proxy.close();
  }
});
