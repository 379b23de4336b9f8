// The built extension (layer/dist/opt) under the emulator: lifecycle, checkpoints, the idle
// fallback, worker supervision and a SHUTDOWN that loses nothing a pipeline accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readFileSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FakeIntake } from '@dd-lambda/fake-intake';
import { API_KEY, rig } from './helpers.js';

const messages = (intake: FakeIntake): string[] =>
  intake
    .logs()
    .map((l) => String(l.message))
    .sort();

test('registers, subscribes, reaches /next, serves invocations and exits 0 on SHUTDOWN; checkpoints emitted; no API key in logs', async () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'ddl-cp-')), 'checkpoints.jsonl');
  const r = await rig(undefined, { DD_LOG_LEVEL: 'debug', DD_EXTENSION_CHECKPOINTS: file });
  try {
    const init = await r.emu.init();
    assert.equal(init.status, 'success');
    const ext = init.extensions.find((e) => e.name === 'datadog-agent');
    assert.ok(ext?.registerMs !== undefined && ext.subscribeMs !== undefined && ext.readyMs !== undefined);
    for (let i = 0; i < 3; i++) assert.equal((await r.emu.invoke({ i })).status, 'success');
    const sd = await r.emu.shutdown();
    const me = sd.extensions.find((e) => e.name === 'datadog-agent');
    assert.deepEqual([me?.killed, me?.exitCode], [false, 0]);
    assert.ok((me?.exitMs ?? Infinity) < sd.budgetMs, 'exited before the deadline');
  } finally {
    await r.done();
  }
  const record = JSON.parse(readFileSync(file, 'utf8').trim()) as { checkpoints: { name: string; deltaMs: number; totalMs: number }[] };
  const names = record.checkpoints.map((c) => c.name);
  for (const n of ['process start', 'config parsed', 'register done', 'listeners bound', 'subscribed', 'first /next sent']) assert.ok(names.includes(n), n);
  assert.ok(names.indexOf('subscribed') > names.indexOf('listeners bound'), 'telemetry listener bound before subscribing');
  const totals = record.checkpoints.map((c) => c.totalMs);
  assert.deepEqual(
    [...totals].sort((a, b) => a - b),
    totals,
    'cumulative times increase',
  );
  assert.ok(record.checkpoints.every((c) => c.deltaMs >= 0));
  // Debug level prints them too; and whatever the level, the API key never appears.
  assert.ok(r.logs.json.some((j) => typeof j['msg'] === 'string' && j['msg'].startsWith('extension ready in')));
  assert.ok(r.logs.raw.length > 5);
  assert.ok(!r.logs.raw.join('\n').includes(API_KEY));
  assert.ok(r.logs.find('invoke'), 'debug lines were written');
});

test('SHUTDOWN drains pipelines that still hold data: nothing accepted is lost', async () => {
  const r = await rig(
    [{ name: 'holder', file: 'holder.cjs', ingress: ['apm', 'dogstatsd', 'telemetry'], events: ['invocation'] }],
    // No flush after the first invocation: everything later is still held at SHUTDOWN.
    { DD_SERVERLESS_FLUSH_STRATEGY: 'periodically,600000' },
  );
  try {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await r.emu.invoke({ apm: `trace-${i}`, dsd: `m${i}:1|c` });
      assert.equal(res.status, 'success');
      assert.equal(JSON.parse(res.payload.toString()).apm.status, 200);
      ids.push(res.requestId);
    }
    // One request still in flight in the worker, and one datagram just sent, as SHUTDOWN arrives.
    const port = Number(r.env['DD_APM_RECEIVER_PORT']);
    const inflight = new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/late?delay=300', method: 'POST' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end('late-trace');
    });
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((res) => sock.send('late:1|c', Number(r.env['DD_DOGSTATSD_PORT']), '127.0.0.1', () => res()));
    sock.close();
    await new Promise((res) => setTimeout(res, 50));
    const sd = await r.emu.shutdown();
    assert.equal(await inflight, 200, 'the in-flight request was answered');
    const me = sd.extensions.find((e) => e.name === 'datadog-agent');
    assert.deepEqual([me?.killed, me?.exitCode], [false, 0]);
    const got = messages(r.intake);
    for (let i = 0; i < 3; i++) {
      assert.ok(got.includes(`holder:http:/v0.4/traces:trace-${i}`), `trace ${i}`);
      assert.ok(got.includes(`holder:dsd:m${i}:1|c`), `metric ${i}`);
      assert.ok(got.includes(`holder:invoke:${ids[i]}`), `invoke ${i}`);
      assert.ok(got.includes(`holder:runtimeDone:${ids[i]}`), `telemetry ${i}`);
    }
    assert.ok(got.includes('holder:http:/late:late-trace'));
    assert.ok(got.includes('holder:dsd:late:1|c'));
    assert.equal(new Set(got).size, got.length, 'nothing shipped twice');
    const shutdown = r.logs.find('shutdown complete');
    assert.ok(shutdown);
    assert.deepEqual(shutdown['failed'], []);
  } finally {
    await r.done();
  }
});

test('a crashed worker is restarted, the other keeps working, and units message each other across workers', async () => {
  const r = await rig(
    [
      { name: 'holder', file: 'holder.cjs', ingress: ['apm'] },
      { name: 'relay', file: 'relay.cjs', ingress: ['dogstatsd'] },
    ],
    { DD_EXTENSION_WORKERS: '2', DD_SERVERLESS_FLUSH_STRATEGY: 'end' },
  );
  try {
    assert.equal((await r.emu.invoke({ apm: 'before', dsd: 'holder|m:1' })).status, 'success');
    const crash = await r.emu.invoke({ apm: 'x', path: '/crash' });
    assert.equal(crash.status, 'success');
    // The relay's worker is unaffected while holder's restarts; its message waits for the new peer channel.
    assert.equal((await r.emu.invoke({ dsd: 'holder|m:2' })).status, 'success');
    // The listening socket never closed: a new connection reaches the restarted worker.
    let after: { apm?: { status: number } } = {};
    for (let i = 0; i < 20 && after.apm?.status !== 200; i++) {
      const res = await r.emu.invoke({ apm: `after-${i}` });
      after = JSON.parse(res.payload.toString()) as typeof after;
      if (res.status !== 'success') await new Promise((s) => setTimeout(s, 50));
    }
    assert.equal(after.apm?.status, 200);
    await r.emu.shutdown();
    const got = messages(r.intake);
    assert.ok(got.includes('holder:http:/v0.4/traces:before'));
    assert.ok(got.includes('holder:metric-from-relay:m=1'), 'cross-worker message before the crash');
    assert.ok(got.includes('holder:metric-from-relay:m=2'), 'cross-worker message after the restart');
    assert.ok(got.some((m) => m.startsWith('holder:http:/v0.4/traces:after-')));
    const assignment = r.logs.find('worker assignment');
    assert.deepEqual(assignment?.['assignment'], ['w1:holder', 'w2:relay']);
    assert.ok(r.logs.find('worker crashed'));
    const restart = r.logs.find('worker exited; restarting it');
    assert.equal(restart?.['worker'], 1);
    const shutdown = r.logs.find('shutdown complete');
    assert.equal((shutdown?.['workers'] as { restarts: number }).restarts, 1);
  } finally {
    await r.done();
  }
});

test('worker count follows the memory size: at 128 MB every unit shares one worker', async () => {
  const r = await rig(
    [
      { name: 'holder', file: 'holder.cjs', ingress: ['apm'] },
      { name: 'relay', file: 'relay.cjs', ingress: ['dogstatsd'] },
    ],
    {},
    { memoryMB: 128 },
  );
  try {
    assert.equal((await r.emu.invoke({ dsd: 'holder|m:5' })).status, 'success');
    await r.emu.shutdown();
    assert.deepEqual(r.logs.find('worker assignment')?.['assignment'], ['w1:holder+relay']);
    assert.equal(r.logs.find('worker assignment')?.['budgetSource'], 'memory');
    assert.ok(messages(r.intake).includes('holder:metric-from-relay:m=5'));
  } finally {
    await r.done();
  }
});

test('idle fallback: when init fails after register (telemetry port taken) the function keeps working', async () => {
  const blocker = net.createServer();
  await new Promise<void>((res) => blocker.listen(0, '0.0.0.0', res));
  const port = (blocker.address() as net.AddressInfo).port;
  const r = await rig([{ name: 'holder', file: 'holder.cjs', ingress: ['apm'] }], { DD_EXTENSION_TELEMETRY_PORT: String(port) });
  try {
    const init = await r.emu.init();
    assert.equal(init.status, 'success');
    for (let i = 0; i < 2; i++) {
      const res = await r.emu.invoke({});
      assert.equal(res.status, 'success');
    }
    const sd = await r.emu.shutdown();
    assert.deepEqual(
      sd.extensions.map((e) => [e.killed, e.exitCode]),
      [[false, 0]],
    );
    const why = r.logs.find('init failed after register; running idle (no telemetry is collected) so the function keeps working');
    assert.ok(why, 'the reason is logged');
    assert.equal(why['code'], 'SV_ERR_BIND');
    assert.equal(r.logs.find('worker assignment'), undefined, 'no workers in idle mode');
  } finally {
    blocker.close();
    await r.done();
  }
});

test('garbage on the ingestion sockets is contained: broken telemetry JSON is acknowledged, no unit means a closed connection', async () => {
  // A layer whose only unit serves traces: nothing owns the lifecycle port.
  const r = await rig([{ name: 'holder', file: 'holder.cjs', ingress: ['apm'] }]);
  try {
    await r.emu.init();
    const tport = Number(r.env['DD_EXTENSION_TELEMETRY_PORT']);
    const post = (p: string, body: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: tport, path: p, method: 'POST' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(body);
      });
    assert.equal(await post('/', '[{"type":"platform.runtimeDone", broken'), 200);
    assert.equal(await post('/other', '[]'), 404);
    // Nothing serves the lifecycle API in this layer: the connection is closed rather than left hanging.
    const closed = await new Promise<boolean>((resolve) => {
      const s = net.connect(Number(r.env['DD_EXTENSION_LIFECYCLE_PORT']), '127.0.0.1');
      s.on('error', () => resolve(true));
      s.on('close', () => resolve(true));
      s.write('GET /lambda/hello HTTP/1.1\r\nhost: x\r\n\r\n');
    });
    assert.ok(closed);
    assert.equal((await r.emu.invoke({})).status, 'success');
    await r.emu.shutdown();
    const counters = r.logs.find('shutdown complete')?.['ingress'] as Record<string, number>;
    assert.equal(counters['badTelemetryBatches'], 1);
    assert.equal(counters['unownedConnections'], 1);
  } finally {
    await r.done();
  }
});
