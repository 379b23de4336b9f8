import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { LambdaEmulator } from '@dd-lambda/lambda-emulator';
import type { ExtensionApiError } from '../src/errors.js';
import { ExtensionClient, parseNextEvent } from '../src/client.js';

test('register (with accountId), subscribe, INVOKE then SHUTDOWN against the emulator', async () => {
  const emu = new LambdaEmulator({ attachExtensions: ['datadog-agent'] });
  await emu.start();
  const received: unknown[] = [];
  const listener = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(...(JSON.parse(body) as unknown[]));
      res.end();
    });
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const port = (listener.address() as { port: number }).port;
  try {
    const init = emu.init();
    const client = new ExtensionClient({ runtimeApi: emu.runtimeApi, name: 'datadog-agent' });
    const reg = await client.register(['INVOKE', 'SHUTDOWN']);
    assert.equal(reg.accountId, '123456789012');
    assert.equal(client.extensionId, reg.extensionId);
    await client.subscribeTelemetry({
      schemaVersion: '2022-12-13',
      destination: { protocol: 'HTTP', URI: `http://sandbox:${port}/` },
      types: ['platform'],
      buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 },
    });
    let sent = false;
    const first = client.next(() => (sent = true));
    assert.equal(sent, true);
    assert.equal((await init).status, 'success');
    const invoking = emu.invoke({ x: 1 }, { requestId: 'req-1' });
    const ev = await first;
    assert.equal(ev.eventType, 'INVOKE');
    assert.equal(ev.eventType === 'INVOKE' && ev.requestId, 'req-1');
    const second = client.next();
    await invoking;
    const closing = emu.close();
    const shut = await second;
    assert.equal(shut.eventType, 'SHUTDOWN');
    assert.equal(shut.eventType === 'SHUTDOWN' && shut.shutdownReason, 'spindown');
    assert.ok(shut.deadlineMs > Date.now());
    void client.next().catch(() => undefined);
    await closing;
    client.close();
    assert.ok(received.some((e) => (e as { type: string }).type === 'platform.start'));
  } finally {
    listener.close();
    await emu.close();
  }
});

test('a refused registration and a bad subscription are coded errors', async () => {
  const emu = new LambdaEmulator({ attachExtensions: ['ext'], initTimeoutMs: 300 });
  await emu.start();
  try {
    const init = emu.init();
    const bad = new ExtensionClient({ runtimeApi: emu.runtimeApi, name: '' });
    await assert.rejects(bad.register(['INVOKE']), (e: ExtensionApiError) => e.code === 'EXT_ERR_REGISTER' && e.status === 403);
    const client = new ExtensionClient({ runtimeApi: emu.runtimeApi, name: 'ext' });
    await client.register(['INVOKE', 'SHUTDOWN']);
    await assert.rejects(
      client.subscribeTelemetry({
        schemaVersion: '1999-01-01',
        destination: { protocol: 'HTTP', URI: 'http://sandbox:1/' },
        types: ['platform'],
        buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 },
      }),
      (e: ExtensionApiError) => e.code === 'EXT_ERR_SUBSCRIBE' && e.status === 400,
    );
    client.close();
    await init;
  } finally {
    await emu.close();
  }
  const dead = new ExtensionClient({ runtimeApi: '127.0.0.1:1', name: 'x' });
  await assert.rejects(dead.register(['INVOKE']), (e: ExtensionApiError) => e.code === 'EXT_ERR_REGISTER');
});

test('/next bodies: both event types parse; anything else is EXT_ERR_BAD_EVENT', () => {
  assert.deepEqual(parseNextEvent('{"eventType":"INVOKE","requestId":"r","deadlineMs":5,"invokedFunctionArn":"a","tracing":{"type":"X-Amzn-Trace-Id","value":"v"}}'), {
    eventType: 'INVOKE',
    requestId: 'r',
    deadlineMs: 5,
    invokedFunctionArn: 'a',
    tracing: { type: 'X-Amzn-Trace-Id', value: 'v' },
  });
  assert.deepEqual(parseNextEvent('{"eventType":"SHUTDOWN","shutdownReason":"timeout","deadlineMs":9}'), { eventType: 'SHUTDOWN', shutdownReason: 'timeout', deadlineMs: 9 });
  for (const bad of ['', 'nope', '{}', '{"eventType":"INVOKE"}', '{"eventType":"RESTORE","deadlineMs":1}', 'null']) {
    assert.throws(
      () => parseNextEvent(bad),
      (e: ExtensionApiError) => e.code === 'EXT_ERR_BAD_EVENT',
      bad,
    );
  }
});

test('initError fails the init with the given error type', async () => {
  const emu = new LambdaEmulator({ attachExtensions: ['datadog-agent'] });
  await emu.start();
  try {
    const init = emu.init();
    const client = new ExtensionClient({ runtimeApi: emu.runtimeApi, name: 'datadog-agent' });
    await client.register(['INVOKE', 'SHUTDOWN']);
    await client.initError('Extension.UnsupportedNode', 'Node 18 is too old');
    const result = await init;
    assert.deepEqual([result.status, result.errorType], ['error', 'Extension.UnsupportedNode']);
    client.close();
  } finally {
    await emu.close();
  }
});
