import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@dd-lambda/config';
import { createBootLogger } from '@dd-lambda/logger';
import { PROTOCOL } from '@dd-lambda/protocol';
import type { UnitSpec } from '@dd-lambda/protocol';
import { WorkerSet } from '../src/workers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const unitsDir = path.resolve(here, '../../../worker-host/test/fixtures/units');
const entry = createRequire(import.meta.url).resolve('@dd-lambda/worker-host/worker');
const spec = (name: string, file: string): UnitSpec => ({ name, module: file, ingress: [], events: [] });

function makeSet(threads: UnitSpec[][], maxRestarts = 2): { set: WorkerSet; ready: number[]; lines: string[] } {
  const ready: number[] = [];
  const lines: string[] = [];
  const set = new WorkerSet({
    entry,
    threads,
    unitsDir,
    maxRestarts,
    config: loadConfig({}, { readYaml: false }).config,
    env: {},
    logger: createBootLogger({ level: 'info', write: (l) => lines.push(l) }),
    onReady: (slot) => ready.push(slot),
  });
  return { set, ready, lines };
}

test('commands queue until READY; a flush waits for the thread instead of failing', async () => {
  const { set } = makeSet([[spec('holder', 'holder.cjs')]]);
  // Sent before the thread exists: it must arrive after READY, in order.
  const flushing = set.request('FLUSH', 'end', Date.now() + 5000);
  set.start();
  const reports = await flushing;
  assert.deepEqual(
    reports.map((r) => [r.unit, r.ok]),
    [['holder', true]],
  );
  await set.close();
});

test('a pending request fails as soon as its worker exits; the worker is restarted, within a bound', async () => {
  const { set, ready, lines } = makeSet([[spec('hang', 'hang.cjs')], [spec('holder', 'holder.cjs')]], 1);
  set.start();
  assert.ok(await set.whenReady(Date.now() + 5000));
  const started = Date.now();
  const flushing = set.request('FLUSH', 'end', Date.now() + 10_000);
  await new Promise((r) => setTimeout(r, 50));
  // Kill worker 1 (the one whose flush hangs) with a protocol violation.
  (set as unknown as { send: WorkerSet['send'] }).send('hang', { p: PROTOCOL, t: 'BOGUS' } as never);
  const reports = await flushing;
  assert.ok(Date.now() - started < 5000, 'failed on exit, not at the deadline');
  const hang = reports.find((r) => r.unit === 'hang');
  assert.equal(hang?.ok, false);
  assert.equal(hang?.error?.code, 'SV_ERR_WORKER_EXIT');
  assert.equal(reports.find((r) => r.unit === 'holder')?.ok, true, 'the other worker answered');
  assert.ok(await set.whenReady(Date.now() + 5000));
  assert.deepEqual(ready.sort(), [1, 1, 2]);
  assert.equal(set.stats.restarts, 1);
  // Second crash: over the bound, the worker stays down and its units' input is refused.
  set.send('hang', { p: PROTOCOL, t: 'BOGUS' } as never);
  for (let i = 0; i < 100 && set.hasUnit('hang'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(set.hasUnit('hang'), false);
  assert.equal(set.send('hang', { p: PROTOCOL, t: 'TELEMETRY', unit: 'hang', data: new ArrayBuffer(8) }, [], 8), false);
  assert.ok(lines.some((l) => l.includes('worker exited too often')));
  await set.close();
});

test('connections wait, paused, until the thread is READY', async () => {
  const { set } = makeSet([[spec('holder', 'holder.cjs')]]);
  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => set.connect('holder', 'apm', socket, 1));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const answer = new Promise<string>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out));
    s.on('error', reject);
    // Like real HTTP clients, no half-close: the server closes after answering (connection: close).
    s.write('POST /x HTTP/1.1\r\nhost: a\r\nconnection: close\r\ncontent-length: 2\r\n\r\nhi');
  });
  await new Promise((r) => setTimeout(r, 100));
  set.start();
  assert.match(await answer, /^HTTP\/1.1 200 OK[\s\S]*rate_by_service/);
  server.close();
  await set.close();
});
