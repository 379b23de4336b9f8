// The runtime-API proxy end to end: the layer's datadog_wrapper points the runtime at the extension's
// proxy (bound before the runtime starts), and every invocation goes through it unchanged: events,
// 6 MB responses, errors, the Lambda-Runtime-* headers; SHUTDOWN still drains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fixtures, freeTcpPort, layerOpt, rig } from './helpers.js';

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
