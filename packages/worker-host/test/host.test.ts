import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { loadConfig } from '@dd-lambda/config';
import type { Config } from '@dd-lambda/config';
import { createBootLogger } from '@dd-lambda/logger';
import { PROTOCOL } from '@dd-lambda/protocol';
import type { FromWorker, UnitSpec, WorkerInit } from '@dd-lambda/protocol';
import { buildFakeIntake } from '@dd-lambda/fake-intake';
import { PortDuplex } from '../src/port-duplex.js';
import { UnitHost } from '../src/host.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const unitsDir = path.resolve(here, '../../test/fixtures/units');
const spec = (name: string, file = `${name}.cjs`): UnitSpec => ({ name, module: file, ingress: [], events: [] });

function makeInit(units: UnitSpec[], env: Record<string, string> = {}, remoteUnits: string[] = []): WorkerInit<Config> {
  return { p: PROTOCOL, worker: 1, units, remoteUnits, unitsDir, config: loadConfig({ DD_API_KEY: 'k', ...env }, { readYaml: false }).config, tags: {}, accountId: undefined };
}

function makeHost(init: WorkerInit<Config>): { host: UnitHost; out: FromWorker[]; next: (t: FromWorker['t']) => Promise<FromWorker> } {
  const out: FromWorker[] = [];
  const waiters: { t: string; resolve: (m: FromWorker) => void }[] = [];
  const host = new UnitHost(init, {
    post: (m) => {
      const i = waiters.findIndex((w) => w.t === m.t);
      if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m);
      else out.push(m);
    },
    logger: createBootLogger({ level: 'silent' }),
  });
  const next = (t: FromWorker['t']): Promise<FromWorker> =>
    new Promise((resolve) => {
      const i = out.findIndex((m) => m.t === t);
      if (i >= 0) resolve(out.splice(i, 1)[0]!);
      else waiters.push({ t, resolve });
    });
  return { host, out, next };
}

test('a unit that fails to start is reported; READY lists the ones that started', async () => {
  const { host, out } = makeHost(makeInit([spec('holder'), spec('broken')]));
  await host.start();
  assert.deepEqual(
    out.map((m) => m.t),
    ['ERROR', 'READY'],
  );
  const err = out[0] as Extract<FromWorker, { t: 'ERROR' }>;
  assert.equal(err.unit, 'broken');
  assert.equal(err.error.code, 'WH_ERR_UNIT_LOAD');
  assert.equal(err.fatal, false);
  assert.deepEqual((out[1] as Extract<FromWorker, { t: 'READY' }>).units, ['holder']);
});

test('a handed-over connection is served by node:http through PortDuplex, keep-alive included', async () => {
  const { host } = makeHost(makeInit([spec('holder')]));
  await host.start();
  // Play the supervisor: accept raw sockets and bridge each to a port, as the supervisor does.
  const net = await import('node:net');
  const raw = net.createServer((socket) => {
    const ch = new MessageChannel();
    socket.on('data', (b: Buffer) => {
      const ab = new Uint8Array(b).slice().buffer;
      ch.port1.postMessage(ab, [ab]);
    });
    socket.on('end', () => ch.port1.postMessage({ c: 'end' }));
    ch.port1.on('message', (f: ArrayBuffer | { c: string }) => (f instanceof ArrayBuffer ? socket.write(Buffer.from(f)) : f.c === 'end' ? socket.end() : socket.destroy()));
    host.handle({ p: PROTOCOL, t: 'CONNECTION', unit: 'holder', ingress: 'apm', connId: 1, port: ch.port2 });
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  const port = (raw.address() as { port: number }).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const call = (p: string, body: string): Promise<{ status: number; json: { worker: number } }> =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: p, method: 'POST', agent }, (res) => {
        let s = '';
        res.on('data', (c) => (s += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(s) }));
      });
      req.on('error', reject);
      req.end(body);
    });
  assert.deepEqual(await call('/v0.4/traces', 'a'), { status: 200, json: { rate_by_service: {}, worker: 1 } as never });
  assert.equal((await call('/v0.4/traces', 'b')).status, 200);
  agent.destroy();
  raw.close();
});

test('flushes ship held data, never overlap per unit, and report a hung unit at the deadline', async () => {
  const intake = buildFakeIntake({ apiKey: 'k' });
  const url = await intake.listen(0, '127.0.0.1');
  try {
    const { host, next } = makeHost(makeInit([spec('holder'), spec('hang')], { DD_LOGS_CONFIG_LOGS_DD_URL: url }));
    await host.start();
    await next('READY');
    const data = Buffer.from('a:1|c\nb:2|c' + 'c:3|g');
    host.handle({ p: PROTOCOL, t: 'DATAGRAMS', unit: 'holder', data: data.buffer.slice(data.byteOffset, data.byteOffset + data.length) as ArrayBuffer, lengths: [11, 5] });
    host.handle({ p: PROTOCOL, t: 'FLUSH', id: 7, reason: 'end', deadline: Date.now() + 300 });
    const flushed = (await next('FLUSHED')) as Extract<FromWorker, { t: 'FLUSHED' }>;
    assert.equal(flushed.id, 7);
    const byUnit = Object.fromEntries(flushed.reports.map((r) => [r.unit, r]));
    assert.equal(byUnit['holder']?.ok, true);
    assert.equal(byUnit['holder']?.sent, 3);
    assert.equal(byUnit['hang']?.ok, false);
    assert.equal(byUnit['hang']?.error?.code, 'WH_ERR_FLUSH_DEADLINE');
    assert.deepEqual(
      intake
        .logs()
        .map((l) => (l as { message: string }).message)
        .sort(),
      ['holder:dsd:a:1|c', 'holder:dsd:b:2|c', 'holder:dsd:c:3|g'],
    );
    // An intake outage keeps the data for the next flush instead of losing it.
    intake.injectFault({ kind: 'logs', status: 503, times: 1 });
    host.handle({ p: PROTOCOL, t: 'INVOCATION', unit: 'holder', event: { kind: 'invoke', requestId: 'r1', deadlineMs: 0, invokedFunctionArn: '', receivedAt: 0 } });
    host.handle({ p: PROTOCOL, t: 'FLUSH', id: 8, reason: 'end', deadline: Date.now() + 300 });
    const failed = (await next('FLUSHED')) as Extract<FromWorker, { t: 'FLUSHED' }>;
    assert.equal(failed.reports.find((r) => r.unit === 'holder')?.pending, 1);
    host.handle({ p: PROTOCOL, t: 'FLUSH', id: 9, reason: 'end', deadline: Date.now() + 300 });
    const ok = (await next('FLUSHED')) as Extract<FromWorker, { t: 'FLUSHED' }>;
    assert.equal(ok.reports.find((r) => r.unit === 'holder')?.sent, 1);
    assert.ok(intake.logs().some((l) => (l as { message: string }).message === 'holder:invoke:r1'));
  } finally {
    await intake.close();
  }
});

test('unit messages: in-process delivery, waiting for a peer channel, and drops for unknown units', async () => {
  const a = makeHost(makeInit([spec('relay'), spec('holder')], {}, ['far']));
  await a.host.start();
  const lines = Buffer.from('holder|m:1far|n:2nowhere|x:3');
  a.host.handle({ p: PROTOCOL, t: 'DATAGRAMS', unit: 'relay', data: new Uint8Array(lines).buffer, lengths: [10, 7, 11] });
  await new Promise((r) => setImmediate(r));
  assert.equal(a.host.droppedMessages, 1); // 'nowhere' is in no worker
  // Wire a peer that hosts 'far': the waiting message goes through.
  const ch = new MessageChannel();
  const got = new Promise<unknown[]>((resolve) => ch.port2.once('message', (m) => resolve([m])));
  a.host.handle({ p: PROTOCOL, t: 'PEER', worker: 2, units: ['far'], port: ch.port1 });
  const [env] = await got;
  assert.deepEqual(env, { p: PROTOCOL, t: 'UNIT', to: 'far', from: 'relay', msg: { t: 'METRICS', points: [{ name: 'n', kind: 'count', value: 2, tags: [], timestamp: 0 }] } });
  ch.port1.close();
});

test('PortDuplex: end and close frames map to stream end and destroy', async () => {
  const ch = new MessageChannel();
  const d = new PortDuplex(ch.port2);
  const chunks: string[] = [];
  d.on('data', (c: Buffer) => chunks.push(c.toString()));
  const ended = once(d, 'end');
  const ab = new TextEncoder().encode('hi').buffer;
  ch.port1.postMessage(ab, [ab]);
  ch.port1.postMessage({ c: 'end' });
  await ended;
  assert.deepEqual(chunks, ['hi']);
  const back = new Promise<unknown[]>((resolve) => ch.port1.once('message', (m) => resolve([m])));
  d.end('bye');
  const [first] = await back;
  assert.equal(Buffer.from(first as ArrayBuffer).toString(), 'bye');
  // Both sides ended: the stream destroys itself and tells the supervisor's side.
  const [second] = await new Promise<unknown[]>((resolve) => ch.port1.once('message', (m) => resolve([m])));
  assert.deepEqual(second, { c: 'end' });
  ch.port1.close();
  // A reset from the supervisor's side destroys the stream with ECONNRESET.
  const ch2 = new MessageChannel();
  const d2 = new PortDuplex(ch2.port2);
  const failed = once(d2, 'error');
  ch2.port1.postMessage({ c: 'close', error: 'reset' });
  const [err] = (await failed) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ECONNRESET');
  assert.equal(d2.destroyed, true);
  ch2.port1.close();
});

test('the real worker entry: READY, and an unknown protocol tag ends the thread', async () => {
  const w = new Worker(new URL('../src/worker.js', import.meta.url), { workerData: makeInit([spec('holder')]), execArgv: [] });
  const [ready] = (await once(w, 'message')) as [FromWorker];
  assert.equal(ready.t, 'READY');
  const errored = once(w, 'error');
  const exited = new Promise<number[]>((resolve) => w.once('exit', (c) => resolve([c])));
  w.postMessage({ not: 'ours' });
  w.postMessage({ p: PROTOCOL, t: 'REBOOT' });
  const [err] = (await errored) as [Error];
  assert.match(err.message, /unknown protocol message tag REBOOT/);
  const [code] = await exited;
  assert.equal(code, 1);
});
