// The runtime-API proxy end to end: the layer's datadog_wrapper points the runtime at the extension's
// proxy (bound before the runtime starts), and every invocation goes through it unchanged: events,
// 6 MB responses, errors, the Lambda-Runtime-* headers; SHUTDOWN still drains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import http from 'node:http';
import { fixtures, freeTcpPort, layerOpt, rig, v04TraceBody } from './helpers.js';

test('runtime API proxy: the wrapper reroutes the runtime through it; events, a ~6 MB response and errors pass byte for byte', async () => {
  const port = await freeTcpPort();
  const r = await rig(
    undefined,
    { AWS_LAMBDA_EXEC_WRAPPER: path.join(layerOpt, 'datadog_wrapper'), DD_EXPERIMENTAL_ENABLE_PROXY: 'true', DD_EXTENSION_RUNTIME_PROXY_PORT: String(port) },
    { runtime: { handler: 'index.handler', taskRoot: path.join(fixtures, 'proxy-function') }, timeoutMs: 10_000 },
  );
  try {
    const first = await r.emu.invoke({ hello: 'wörld', n: [1, 2, 3] }, { clientContext: Buffer.from('{"custom":{"k":"v"}}').toString('base64') });
    assert.equal(first.status, 'success', first.payload.toString());
    const out = JSON.parse(first.payload.toString()) as { runtimeApi: string; requestId: string; echo: unknown };
    assert.equal(out.runtimeApi, `127.0.0.1:${port}`, 'the runtime talks to the proxy');
    assert.equal(out.requestId, first.requestId, 'the Lambda-Runtime-* headers went through');
    assert.deepEqual(out.echo, { hello: 'wörld', n: [1, 2, 3] });

    const size = 6 * 1024 * 1024 - 64;
    const big = await r.emu.invoke({ size });
    assert.equal(big.status, 'success');
    const parsed = JSON.parse(big.payload.toString()) as { pad: string; tail: string };
    assert.deepEqual([parsed.pad.length, parsed.tail], [size, 'end']);

    const failed = await r.emu.invoke({ fail: true });
    assert.equal(failed.status, 'error');
    assert.match(failed.error?.errorMessage ?? '', /asked to fail/);
    const again = await r.emu.invoke({ after: 'error' });
    assert.equal(again.status, 'success', 'the runtime keeps polling /next through the proxy after an error');

    const sd = await r.emu.shutdown();
    const me = sd.extensions.find((e) => e.name === 'datadog-agent');
    assert.equal(me?.killed, false);
    const done = r.logs.json.find((l) => l['msg'] === 'shutdown complete');
    const counters = done?.['runtimeProxy'] as { requests: number; upstreamErrors: number } | undefined;
    assert.ok(counters !== undefined && counters.requests >= 8, `proxied requests counted: ${JSON.stringify(counters)}`);
    assert.equal(counters?.upstreamErrors, 0);
  } finally {
    await r.done();
  }
});

test('runtime API proxy: with the wrapper but neither AppSec nor DD_EXPERIMENTAL_ENABLE_PROXY, nothing listens and the runtime talks to Lambda', async () => {
  const port = await freeTcpPort();
  const r = await rig(
    undefined,
    { AWS_LAMBDA_EXEC_WRAPPER: path.join(layerOpt, 'datadog_wrapper'), DD_EXTENSION_RUNTIME_PROXY_PORT: String(port) },
    { runtime: { handler: 'index.handler', taskRoot: path.join(fixtures, 'proxy-function') } },
  );
  try {
    const res = await r.emu.invoke({});
    assert.equal(res.status, 'success');
    assert.equal((JSON.parse(res.payload.toString()) as { runtimeApi: string }).runtimeApi, r.emu.runtimeApi);
    await r.emu.shutdown();
    const done = r.logs.json.find((l) => l['msg'] === 'shutdown complete');
    assert.equal(done?.['runtimeProxy'], undefined);
  } finally {
    await r.done();
  }
});

/** One v0.4 trace sent to the extension's trace port, as a tracer in the function would. */
function sendTrace(port: string, traceId: number): Promise<number> {
  const body = v04TraceBody(traceId, 'fault.op');
  return new Promise((resolve, reject) => {
    const req = http.request(
      { port: Number(port), method: 'PUT', path: '/v0.4/traces', headers: { 'content-type': 'application/msgpack', 'content-length': String(body.length) } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

for (const fault of ['crashed', 'stuck'] as const) {
  test(`runtime API proxy: with the AppSec unit ${fault}, the function answers at its normal speed, the copies are counted, traces still ship`, async () => {
    const port = await freeTcpPort();
    const traceAgent = path.relative(
      path.join(fixtures, '..', '..', 'packages', 'worker-host', 'test', 'fixtures', 'units'),
      path.join(layerOpt, 'datadog-lambda', 'units', 'trace-agent.cjs'),
    );
    const r = await rig(
      [
        { name: 'trace-agent', file: traceAgent, ingress: ['apm'] },
        { name: 'appsec', file: fault === 'crashed' ? 'crash-on-runtime.cjs' : 'stuck-on-runtime.cjs', ingress: [], events: ['runtime'] },
      ],
      {
        AWS_LAMBDA_EXEC_WRAPPER: path.join(layerOpt, 'datadog_wrapper'),
        DD_SERVERLESS_APPSEC_ENABLED: 'true',
        DD_EXTENSION_RUNTIME_PROXY_PORT: String(port),
        DD_EXTENSION_WORKERS: '2',
        DD_SERVERLESS_FLUSH_STRATEGY: 'end',
      },
      { runtime: { handler: 'index.handler', taskRoot: path.join(fixtures, 'proxy-function') }, timeoutMs: 10_000 },
    );
    try {
      for (let i = 1; i <= 3; i++) {
        const res = await r.emu.invoke({ n: i });
        assert.equal(res.status, 'success');
        assert.equal((JSON.parse(res.payload.toString()) as { runtimeApi: string }).runtimeApi, `127.0.0.1:${port}`);
        // The function never waits on the unit: far less than the 4 s the stuck one blocks for.
        assert.ok((res.runtimeMs ?? Infinity) < 2000, `runtime ${res.runtimeMs} ms`);
        assert.equal(await sendTrace(r.env['DD_APM_RECEIVER_PORT'] ?? '', 7000 + i), 200);
      }
      await r.emu.shutdown();
      for (let i = 1; i <= 3; i++)
        assert.ok(
          r.intake.spans().some((s) => s.span.traceID === BigInt(7000 + i)),
          `trace ${7000 + i} shipped`,
        );
      const done = r.logs.json.find((l) => l['msg'] === 'shutdown complete');
      const counters = done?.['runtimeProxy'] as { teed: number } | undefined;
      assert.ok((counters?.teed ?? 0) >= 6, `events and results were copied: ${JSON.stringify(counters)}`);
      if (fault === 'crashed') assert.ok(((done?.['workers'] as { crashes: number } | undefined)?.crashes ?? 0) >= 1, 'the crashes are counted');
    } finally {
      await r.done();
    }
  });
}
