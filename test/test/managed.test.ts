// Lambda Managed Instances end to end, under the emulator's managed mode (which refuses an INVOKE
// registration and any Telemetry schema but 2025-01-29, as Lambda does): concurrent invocations, the
// background flush at the configured interval and no flush per invocation, enhanced metrics without
// cold_start, the sandbox's /proc peaks at SHUTDOWN, and an INVOKE the contract forbids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { layerOpt, portEnv, rig } from './helpers.js';

const MANAGED = { initializationType: 'lambda-managed-instances' as const, maxConcurrency: 4 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('managed instances: SHUTDOWN-only registration, concurrent invocations, a background flush every DD_SERVERLESS_FLUSH_STRATEGY interval', async () => {
  const r = await rig(undefined, { DD_SERVERLESS_FLUSH_STRATEGY: 'continuously,1000' }, MANAGED);
  try {
    const init = await r.emu.init();
    assert.equal(init.status, 'success', 'the emulator refuses INVOKE registration and other schemas in managed mode');
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => r.emu.invoke({ dsd: `managed.orders:${i + 1}|c|#n:${i}` })));
    assert.ok(results.every((x) => x.status === 'success'));
    // Without SHUTDOWN, the background flush ships what the invocations sent.
    const until = Date.now() + 8_000;
    while (Date.now() < until && r.intake.metricPoints('managed.orders').reduce((n, p) => n + p.value, 0) < 21) await sleep(100);
    assert.equal(
      r.intake.metricPoints('managed.orders').reduce((n, p) => n + p.value, 0),
      21,
      'shipped before SHUTDOWN',
    );
    await sleep(1_500);
    const invocations = r.intake.sketchPoints('aws.lambda.enhanced.invocations');
    assert.equal(
      invocations.reduce((n, p) => n + p.count, 0),
      6,
    );
    assert.ok(
      invocations.every((p) => !p.tags.some((t) => t.startsWith('cold_start:'))),
      'no cold_start tag in managed mode',
    );
    assert.equal(r.logs.all('INVOKE received in managed-instance mode').length, 0);
    // The subscription, from the platform's own record of it.
    const sub = r.emu.telemetry.events.find((e) => e.type === 'platform.telemetrySubscription' && (e.record as { name?: string }).name === 'datadog-agent');
    assert.equal((sub?.record as { state?: string } | undefined)?.state, 'Subscribed', 'subscribed to telemetry (the emulator accepts schema 2025-01-29 only here)');
    await r.emu.shutdown();
    // At SHUTDOWN: the sandbox's peak usage and its limits, once.
    const fds = r.intake.sketchPoints('aws.lambda.enhanced.fd_use');
    assert.equal(fds.length, 1);
    assert.ok((fds[0]?.max ?? 0) > 0);
    assert.equal(r.intake.sketchPoints('aws.lambda.enhanced.threads_max').length, 1);
    assert.equal(r.intake.requests({ accepted: false }).length, 0);
  } finally {
    await r.done();
  }
});

test('managed instances: another flush strategy is replaced by the 30 s continuous flush (warned), so nothing of ours runs per invocation; SHUTDOWN still ships everything', async () => {
  const r = await rig(undefined, { DD_SERVERLESS_FLUSH_STRATEGY: 'end' }, MANAGED);
  try {
    assert.equal((await r.emu.init()).status, 'success');
    await Promise.all([1, 2, 3].map((n) => r.emu.invoke({ dsd: `managed.kept:${n}|c` })));
    await sleep(1_500);
    assert.equal(r.intake.metricPoints('managed.kept').length, 0, 'nothing before the 30 s tick');
    assert.equal(r.logs.all('managed instances flush continuously; DD_SERVERLESS_FLUSH_STRATEGY ignored').length, 1);
    await r.emu.shutdown();
    assert.equal(
      r.intake.metricPoints('managed.kept').reduce((n, p) => n + p.value, 0),
      6,
    );
  } finally {
    await r.done();
  }
});

test('managed instances: an INVOKE from the platform (registered for SHUTDOWN only) ends the extension, drained and flushed, as bottlecap does', async () => {
  // A Lambda API that breaks the managed-instance contract on purpose: the emulator never does.
  const seen: { events?: unknown; telemetry?: boolean; nexts: number } = { nexts: 0 };
  const api = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/2020-01-01/extension/register') {
        seen.events = (JSON.parse(body) as { events: unknown }).events;
        res.writeHead(200, { 'lambda-extension-identifier': 'ext-1', 'content-type': 'application/json' });
        res.end('{"functionName":"test_function","functionVersion":"$LATEST","handler":"index.handler"}');
      } else if (req.url === '/2022-07-01/telemetry') {
        seen.telemetry = true;
        res.writeHead(200);
        res.end('OK');
      } else if (req.url === '/2020-01-01/extension/event/next' && seen.nexts++ === 0) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            eventType: 'INVOKE',
            requestId: 'r-1',
            deadlineMs: Date.now() + 3000,
            invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test_function',
          }),
        );
      } else if (req.url === '/2020-01-01/extension/event/next') {
        // Hold a second /next: a correct extension never makes one.
      } else {
        res.writeHead(404);
        res.end();
      }
    });
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  const ports = await portEnv();
  const child = spawn(path.join(layerOpt, 'extensions', 'datadog-agent'), [], {
    env: {
      PATH: process.env['PATH'],
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${(api.address() as AddressInfo).port}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'lambda-managed-instances',
      AWS_LAMBDA_FUNCTION_NAME: 'test_function',
      DD_API_KEY: 'k',
      DD_DD_URL: 'http://127.0.0.1:9',
      DD_APM_DD_URL: 'http://127.0.0.1:9',
      DD_LOGS_CONFIG_LOGS_DD_URL: 'http://127.0.0.1:9',
      ...ports,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`still running after 10 s:\n${out}`)), 10_000);
      child.once('exit', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    assert.equal(code, 0, out);
    assert.deepEqual(seen.events, ['SHUTDOWN']);
    assert.equal(seen.telemetry, true);
    assert.equal(seen.nexts, 1, 'no /next after the INVOKE');
    assert.match(out, /INVOKE received in managed-instance mode/);
    assert.match(out, /shutdown complete/);
  } finally {
    child.kill('SIGKILL');
    api.closeAllConnections();
    api.close();
  }
});
