import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { MessageChannel } from 'node:worker_threads';
import { loadConfig } from '@dd-lambda/config';
import { createLogger } from '@dd-lambda/logger';
import type { PlatformEvent, ToWorker, UnitSpec } from '@dd-lambda/protocol';
import { IngressServers } from '../src/ingress.js';
import { kernelUdpDrops } from '../src/ingress-udp.js';
import type { WorkerSet } from '../src/workers.js';

test('the trace socket: DD_APM_RECEIVER_SOCKET on Unix, the named pipe of DD_APM_WINDOWS_PIPE_NAME on Windows', () => {
  const { config } = loadConfig({ DD_APM_RECEIVER_SOCKET: '/tmp/apm.socket', DD_APM_WINDOWS_PIPE_NAME: 'dd-apm' }, { readYaml: false });
  assert.equal(IngressServers.apmSocketPath(config, 'linux'), '/tmp/apm.socket');
  assert.equal(IngressServers.apmSocketPath(config, 'win32'), '\\\\.\\pipe\\dd-apm');
  assert.equal(IngressServers.apmSocketPath(loadConfig({}, { readYaml: false }).config, 'linux'), undefined);
  assert.equal(IngressServers.apmSocketPath(loadConfig({ DD_APM_RECEIVER_SOCKET: '/x' }, { readYaml: false }).config, 'win32'), undefined);
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('platform events are read from a telemetry batch that is transferred (detached) to the logs unit, however large', async () => {
  const [apm, lifecycle, dogstatsd, telemetry] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const env = {
    DD_APM_RECEIVER_PORT: String(apm),
    DD_EXTENSION_LIFECYCLE_PORT: String(lifecycle),
    DD_DOGSTATSD_PORT: String(dogstatsd),
    DD_EXTENSION_TELEMETRY_PORT: String(telemetry),
  };
  const { config } = loadConfig(env, { readYaml: false });
  const channel = new MessageChannel();
  const toUnits: string[] = [];
  // Transfers for real, as the worker set does: a body that owns its memory is detached by it.
  const workers = {
    send(unit: string, msg: ToWorker, transfer: ArrayBuffer[] = []): boolean {
      channel.port1.postMessage(null, transfer);
      toUnits.push(`${unit}:${msg.t}`);
      return true;
    },
  } as unknown as WorkerSet;
  const seen: PlatformEvent[][] = [];
  const units: UnitSpec[] = [
    { name: 'logs', module: 'x', ingress: ['telemetry'], events: [] },
    { name: 'lifecycle', module: 'y', ingress: ['lifecycle'], events: ['platform'] },
  ];
  const ingress = new IngressServers({ config, logger: createLogger({ level: 'silent' }), workers, units, onPlatform: (e) => seen.push(e) });
  await ingress.bind();
  try {
    const logs = Array.from({ length: 200 }, (_, i) => ({ time: '2026-11-21T10:00:00.000Z', type: 'function', record: `a function log line of some length, number ${i}` }));
    for (const size of ['small', 'large'] as const) {
      const batch = [...(size === 'large' ? logs : []), { time: '2026-11-21T10:00:00.000Z', type: 'platform.runtimeDone', record: { requestId: size, status: 'success' } }];
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: telemetry, path: '/', method: 'POST' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(JSON.stringify(batch));
      });
      assert.equal(status, 200);
    }
    assert.deepEqual(
      seen.map((e) => (e[0]?.record as { requestId: string }).requestId),
      ['small', 'large'],
    );
    assert.deepEqual(toUnits, ['logs:TELEMETRY', 'lifecycle:PLATFORM', 'logs:TELEMETRY', 'lifecycle:PLATFORM']);
  } finally {
    await ingress.close();
    channel.port1.close();
  }
});

test('kernel UDP drops are read from /proc/net/udp for 127.0.0.1:port', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'udp-')), 'udp');
  writeFileSync(
    file,
    [
      '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
      '  101: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1111 2 0000000000000000 3',
      '  275: 0100007F:1FBD 00000000:0000 07 00000000:00034000 00:00000000 00000000     0        0 2222 2 0000000000000000 1234',
      '',
    ].join('\n'),
  );
  assert.equal(kernelUdpDrops(8125, file), 1234);
  assert.equal(kernelUdpDrops(8126, file), undefined);
  assert.equal(kernelUdpDrops(8125, '/nonexistent'), undefined);
});

test('DD_DOGSTATSD_BUFFER_SIZE cuts a larger datagram at its last whole line (counted, warned once); DD_DOGSTATSD_QUEUE_SIZE bounds a batch', async () => {
  const { DogStatsDSocket } = await import('../src/ingress-udp.js');
  const dgram = await import('node:dgram');
  const counters = { datagrams: 0, truncatedDatagrams: 0, droppedDatagrams: 0, kernelDroppedDatagrams: 0 };
  const batches: string[][] = [];
  const sock = new DogStatsDSocket({
    counters,
    bufferSize: 512,
    queueSize: 2,
    forward: (packed, lengths) => {
      let at = 0;
      batches.push(lengths.map((n) => packed.subarray(at, (at += n)).toString()));
      return true;
    },
  });
  const lines: string[] = [];
  const logger = createLogger({ level: 'warn', bindings: { component: 'test' }, write: (l: string) => lines.push(l) });
  const port = await (async () => {
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
    const p = probe.address().port;
    probe.close();
    return p;
  })();
  await sock.bind(port, undefined, logger, () => undefined);
  const client = dgram.createSocket('udp4');
  const send = (b: string): Promise<void> => new Promise((r) => client.send(b, port, '127.0.0.1', () => r()));
  const long = `${'a.metric:1|c\n'.repeat(45)}cut.here:1|c`; // 597 bytes: 39 whole lines fit in 512
  try {
    await send(long);
    await send(`${'x'.repeat(600)}:1|c`); // no line break within the size: nothing is kept
    await send('m1:1|c');
    await send('m2:1|c');
    await send('m3:1|c');
    await new Promise((r) => setTimeout(r, 100));
    sock.close();
    const all = batches.flat();
    assert.equal(counters.truncatedDatagrams, 2);
    assert.equal(all[0]?.split('\n').length, 39);
    assert.ok(!all.some((d) => d.includes('cut.here') || d.startsWith('xxx')));
    assert.ok(all.includes('m3:1|c'));
    assert.ok(
      batches.every((b) => b.length <= 2),
      'no batch over the queue size',
    );
    assert.equal(lines.filter((l) => l.includes('SV_ERR_DATAGRAM_TRUNCATED')).length, 1);
    assert.match(lines.join(''), /DD_DOGSTATSD_BUFFER_SIZE/);
  } finally {
    client.close();
  }
});
