import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { LambdaEmulator } from '../src/emulator.js';
import { TelemetryHub, type TelemetryEvent } from '../src/telemetry.js';
import { validateSubscription } from '../src/subscription.js';
import { api, register, next } from './helpers.js';

const dest = (port: number) => ({ protocol: 'HTTP', URI: `http://sandbox.localdomain:${port}/` });
const body = (over: Record<string, unknown> = {}) => ({
  schemaVersion: '2022-12-13',
  types: ['platform', 'function'],
  buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 },
  destination: dest(1234),
  ...over,
});

test('subscription validation: versions, types, buffering limits, destination', () => {
  assert.ok(validateSubscription(body(), false).ok);
  for (const v of ['2022-07-01', '2022-12-13', '2025-01-29']) assert.ok(validateSubscription(body({ schemaVersion: v }), false).ok, v);
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ schemaVersion: '2021-01-01' }, /schemaVersion/],
    [{ types: [] }, /types should not be empty/],
    [{ types: ['platform', 'metrics'] }, /unknown telemetry type/],
    [{ buffering: { maxItems: 999 } }, /maxItems must be an integer from 1000 to 10000/],
    [{ buffering: { maxItems: 10001 } }, /maxItems/],
    [{ buffering: { maxBytes: 262143 } }, /maxBytes must be an integer from 262144 to 1048576/],
    [{ buffering: { maxBytes: 1048577 } }, /maxBytes/],
    [{ buffering: { timeoutMs: 24 } }, /timeoutMs must be an integer from 25 to 30000/],
    [{ buffering: { timeoutMs: 30001 } }, /timeoutMs/],
    [{ destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain/' } }, /URI port is not provided/],
    [{ destination: { protocol: 'HTTP', URI: 'http://example.com:80/' } }, /host must be sandbox/],
    [{ destination: { protocol: 'HTTP', URI: 'https://sandbox:80/' } }, /must use http/],
    [{ destination: { protocol: 'TCP', port: 4000 } }, /protocol must be HTTP/],
  ];
  for (const [over, re] of bad) {
    const v = validateSubscription(body(over), false);
    assert.ok(!v.ok, JSON.stringify(over));
    assert.equal(v.errorType, 'ValidationError');
    assert.match(v.message, re);
  }
  const defaults = validateSubscription({ schemaVersion: '2022-07-01', types: ['platform'], destination: { protocol: 'HTTP', URI: 'http://sandbox:8999' } }, false);
  assert.ok(defaults.ok);
  assert.deepEqual(defaults.value.buffering, { maxItems: 10000, maxBytes: 262144, timeoutMs: 1000 });
  assert.equal(defaults.value.host, 'sandbox');
  const lmi = validateSubscription(body(), true);
  assert.ok(!lmi.ok && /2025-01-29/.test(lmi.message));
});

/** A telemetry listener recording each POSTed batch; `status` decides the answer. */
async function listener(status: () => number = () => 200) {
  const batches: TelemetryEvent[][] = [];
  const sizes: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = status();
      if (s === 200) {
        const raw = Buffer.concat(chunks);
        sizes.push(raw.length);
        batches.push(JSON.parse(raw.toString()) as TelemetryEvent[]);
      }
      res.writeHead(s);
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return { batches, sizes, port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const req = (port: number, buffering = { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 }) => ({
  schemaVersion: '2022-12-13' as const,
  types: ['platform' as const, 'function' as const],
  buffering,
  host: 'sandbox',
  port,
  path: '/',
});

test('delivery honours maxItems and maxBytes, keeps order, and replays earlier events', async () => {
  const l = await listener();
  const hub = new TelemetryHub();
  hub.emit('platform.initStart', { phase: 'init' });
  hub.emit('extension', 'not subscribed to extension records');
  const sub = hub.subscribe('x', req(l.port));
  for (let i = 0; i < 2500; i++) hub.emit('function', `line ${i}`);
  await until(() => sub.stats.events === 2501);
  assert.ok(l.batches.every((b) => b.length <= 1000));
  const all = l.batches.flat();
  assert.equal(all[0]!.type, 'platform.initStart', 'replayed first');
  assert.ok(!all.some((e) => e.type === 'extension'), 'types are filtered');
  assert.deepEqual(
    all.slice(1).map((e) => e.record),
    Array.from({ length: 2500 }, (_, i) => `line ${i}`),
  );
  // maxBytes: 40 records of 10 KB (400 KB) cannot travel in one 256 KiB batch.
  l.batches.length = 0;
  l.sizes.length = 0;
  for (let i = 0; i < 40; i++) hub.emit('function', 'y'.repeat(10_000));
  await until(() => l.batches.flat().length === 40);
  assert.ok(l.batches.length >= 2);
  assert.ok(
    l.sizes.every((s) => s <= 262144),
    `sizes ${l.sizes}`,
  );
  sub.close();
  await l.close();
});

test('a small batch waits for timeoutMs; nothing is delivered while paused', async () => {
  const l = await listener();
  const hub = new TelemetryHub();
  const sub = hub.subscribe('x', req(l.port, { maxItems: 1000, maxBytes: 262144, timeoutMs: 200 }));
  const t0 = performance.now();
  hub.emit('function', 'one');
  await until(() => l.batches.length === 1);
  assert.ok(performance.now() - t0 >= 190, 'not before timeoutMs');
  hub.pause();
  hub.emit('function', 'frozen');
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(l.batches.length, 1, 'nothing delivered while frozen');
  hub.resume();
  await until(() => l.batches.length === 2);
  assert.equal(l.batches[1]![0]!.record, 'frozen');
  sub.close();
  await l.close();
});

test('a failing listener gets retries; a backlog over the cap drops the oldest logs and says so', async () => {
  let fail = true;
  const l = await listener(() => (fail ? 500 : 200));
  const hub = new TelemetryHub();
  const sub = hub.subscribe('x', req(l.port));
  hub.emit('platform.start', { requestId: 'r' });
  for (let i = 0; i < 120; i++) hub.emit('function', `${i} ${'z'.repeat(10_000)}`);
  await until(() => sub.stats.failedAttempts >= 2);
  fail = false;
  await until(() => sub.pending === 0);
  assert.ok(sub.stats.droppedRecords > 0);
  const all = l.batches.flat();
  assert.equal(all[0]!.type, 'platform.start', 'platform events are never dropped');
  const dropped = all.filter((e) => e.type === 'platform.logsDropped');
  assert.ok(dropped.length > 0, 'logsDropped delivered');
  const reported = dropped.reduce((n, e) => n + (e.record as { droppedRecords: number }).droppedRecords, 0);
  assert.equal(reported, sub.stats.droppedRecords, 'every drop is reported');
  const kept = all.filter((e) => e.type === 'function').map((e) => Number(String(e.record).split(' ')[0]));
  assert.equal(kept.at(-1), 119, 'the newest records are kept');
  assert.equal(kept.length + sub.stats.droppedRecords, 120);
  sub.close();
  await l.close();
});

test('subscribe through the API: 200 OK, 400 on validation, 403 when closed or unknown', async () => {
  const emu = new LambdaEmulator({ attachExtensions: ['ext'] });
  await emu.start();
  const init = emu.init();
  const base = emu.runtimeApi;
  const id = (await register(base, 'ext')).headers.get('lambda-extension-identifier')!;
  const l = await listener();
  const put = (h: Record<string, string>, b: unknown) => api(base, 'PUT', '/2022-07-01/telemetry', { 'content-type': 'application/json', ...h }, b);
  let r = await put({ 'Lambda-Extension-Identifier': id }, body({ types: [] }));
  assert.deepEqual([r.status, r.json.errorType], [400, 'ValidationError']);
  r = await put({ 'Lambda-Extension-Identifier': '00000000-0000-4000-8000-000000000000' }, body());
  assert.deepEqual([r.status, r.json.errorType], [403, 'Extension.UnknownExtensionIdentifier']);
  r = await put({ 'Lambda-Extension-Identifier': id }, body({ destination: dest(l.port) }));
  assert.deepEqual([r.status, r.text], [200, 'OK']);
  const pending = next(base, id);
  await init;
  r = await put({ 'Lambda-Extension-Identifier': id }, body({ destination: dest(l.port) }));
  assert.deepEqual([r.status, r.json.errorType], [403, 'Telemetry.SubscriptionClosed']);
  await until(() => l.batches.flat().some((e) => e.type === 'platform.initReport'));
  const types = l.batches.flat().map((e) => e.type);
  assert.deepEqual(types, ['platform.initStart', 'platform.telemetrySubscription', 'platform.initRuntimeDone', 'platform.extension', 'platform.initReport']);
  const closing = emu.close();
  await pending;
  void next(base, id).catch(() => undefined);
  await closing;
  await l.close();
});
