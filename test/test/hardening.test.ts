// The extension against a misbehaving intake and platform, end to end under the emulator: an outage
// never stalls the function, and SHUTDOWN uses its budget without overrunning it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { FakeIntake } from '@dd-lambda/fake-intake';
import { fixtures, rig } from './helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const emitted = (intake: FakeIntake): string[] =>
  intake
    .logs()
    .map((l) => String(l.message))
    .filter((m) => m.includes('emitted {'))
    .sort();
const counted = (intake: FakeIntake, name: string): number => intake.metricPoints(name).reduce((n, p) => n + p.value, 0);
/** The platform's REPORT line of that invocation reached the logs intake. */
const reportArrived = (intake: FakeIntake, requestId: string): boolean =>
  intake.logs().some((l) => String(l.message).startsWith('REPORT RequestId') && String(l.message).includes(requestId));

test('a silent intake (accepts, never answers) costs an invocation at most ~1 s, never a timeout; nothing is lost after it recovers', async () => {
  const r = await rig(undefined, { DD_SERVERLESS_FLUSH_STRATEGY: 'end' }, { timeoutMs: 3000 });
  try {
    assert.equal((await r.emu.init()).status, 'success');
    r.intake.injectFault({ hang: true });
    const post: number[] = [];
    for (const [i, gap] of [
      [0, 0],
      [1, 5_000],
      [2, 35_000],
    ] as const) {
      await sleep(gap);
      const res = await r.emu.invoke({ dsd: `outage.m:1|c|#i:${i}` });
      assert.equal(res.status, 'success', `invocation ${i} after a ${gap} ms gap: ${res.status}`);
      post.push(res.postRuntimeMs ?? Infinity);
    }
    // The first flush waits out the transport's 1 s response timeout; later ones find the breaker open.
    assert.ok(
      post.every((ms) => ms < 1_600),
      `post-runtime per invocation: ${post.map((ms) => ms.toFixed(0)).join(', ')} ms`,
    );
    assert.ok((post[1] ?? Infinity) < 500 && (post[2] ?? Infinity) < 500, `breaker open: ${post.join(', ')}`);

    r.intake.clearFaults();
    // After the backoff a flush probes in the background; its success lets the next flush send everything kept.
    await sleep(5_000);
    for (const i of [3, 4]) assert.equal((await r.emu.invoke({ dsd: `outage.m:1|c|#i:${i}` })).status, 'success');
    await sleep(1_500);
    assert.equal((await r.emu.invoke({ dsd: 'outage.m:1|c|#i:5' })).status, 'success');
    assert.equal(counted(r.intake, 'outage.m'), 6, 'every point of the outage arrived before SHUTDOWN');
    assert.equal(emitted(r.intake).length, 6, 'and every log line');
    const sd = await r.emu.shutdown();
    assert.equal(sd.extensions.find((e) => e.name === 'datadog-agent')?.killed, false);
  } finally {
    await r.done();
  }
});

test('SHUTDOWN with a failing intake keeps retrying inside its budget: the last REPORT and logs arrive', async () => {
  const r = await rig(undefined, { DD_SERVERLESS_FLUSH_STRATEGY: 'periodically,600000' });
  try {
    for (let i = 0; i < 2; i++) assert.equal((await r.emu.invoke({ dsd: 'final.m:1|c' })).status, 'success');
    const last = await r.emu.invoke({ dsd: 'final.m:1|c' });
    // More refusals than three quick tries would outlast: the flush must keep going.
    r.intake.injectFault({ kind: 'logs', status: 503, times: 4 });
    r.intake.injectFault({ kind: 'series', status: 429, times: 4 });
    const sd = await r.emu.shutdown();
    const me = sd.extensions.find((e) => e.name === 'datadog-agent');
    assert.deepEqual([me?.killed, me?.exitCode], [false, 0]);
    assert.equal(counted(r.intake, 'final.m'), 3);
    assert.ok(reportArrived(r.intake, last.requestId), 'the last REPORT line arrived');
  } finally {
    await r.done();
  }
});

test('SHUTDOWN with a silent intake exits before the deadline with a margin', async () => {
  const r = await rig(undefined, { DD_SERVERLESS_FLUSH_STRATEGY: 'periodically,600000' }, { memoryMB: 128, limits: true });
  try {
    assert.equal((await r.emu.invoke({ dsd: 'silent.m:1|c' })).status, 'success');
    r.intake.injectFault({ hang: true });
    const sd = await r.emu.shutdown();
    const me = sd.extensions.find((e) => e.name === 'datadog-agent');
    assert.equal(me?.killed, false, 'not SIGKILLed at the deadline');
    assert.ok((me?.exitMs ?? Infinity) < sd.budgetMs - 100, `exit after ${me?.exitMs?.toFixed(0)} ms of ${sd.budgetMs}`);
  } finally {
    await r.done();
  }
});

/** POSTs to the extension's Telemetry API listener as the platform would; resolves with the status (or the socket error). */
function postTelemetry(port: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: Number(port), method: 'POST', path: '/', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end(body);
  });
}

test("a telemetry batch with deeply nested records neither crashes the extension nor loses the batch's other events", async () => {
  const r = await rig(undefined, { DD_SERVERLESS_FLUSH_STRATEGY: 'end' });
  try {
    assert.equal((await r.emu.init()).status, 'success');
    const port = r.env['DD_EXTENSION_TELEMETRY_PORT'] ?? '';
    const nest = (d: number): string => `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`;
    const time = new Date().toISOString();
    const batch =
      `[{"time":"${time}","type":"platform.start","record":{"requestId":${nest(150_000)}}},` +
      `{"time":"${time}","type":"platform.runtimeDone","record":{"requestId":"deep-1","status":"success","metrics":${nest(2_000)}}},` +
      `{"time":"${time}","type":"function","record":${nest(5_000)}},` +
      `{"time":"${time}","type":"function","record":"after the deep ones"}]`;
    assert.ok(batch.length < 1024 * 1024);
    assert.equal(await postTelemetry(port, batch), 200);
    // Alive: the next invocations go through and their data ships, and so does the batch's plain log line.
    for (let i = 0; i < 2; i++) assert.equal((await r.emu.invoke({ dsd: 'deep.m:1|c' })).status, 'success');
    assert.equal(counted(r.intake, 'deep.m'), 2);
    const sd = await r.emu.shutdown();
    assert.deepEqual(
      sd.extensions.map((e) => [e.killed, e.exitCode]),
      [[false, 0]],
    );
    assert.ok(
      r.intake.logs().some((l) => String(l.message) === 'after the deep ones'),
      'the plain record of the batch arrived',
    );
  } finally {
    await r.done();
  }
});

test('an oversize telemetry body is refused without being read: by Content-Length at once, and mid-stream at the cap', async () => {
  const r = await rig(undefined, { DD_SERVERLESS_FLUSH_STRATEGY: 'end' });
  try {
    assert.equal((await r.emu.init()).status, 'success');
    const port = r.env['DD_EXTENSION_TELEMETRY_PORT'] ?? '';
    const pid = r.emu.sandboxPids().extensions['datadog-agent'];
    const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    const before = rss();
    // An absurd length with a few bytes: answered 413 at once, the connection closed (not left waiting for 300 MB).
    const t0 = Date.now();
    assert.equal(await postTelemetry(port, '[]', { 'content-length': String(300 * 1024 * 1024) }), 413);
    assert.ok(Date.now() - t0 < 2_000);
    // A chunked body that never ends: refused once past 1 MiB; the writer sees the answer or the closed socket.
    const streamed = await new Promise<number | string>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: Number(port), method: 'POST', path: '/', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      let sent = 0;
      const pump = (): void => {
        while (sent < 64 && req.write(chunk)) sent++;
        if (sent < 64) req.once('drain', pump);
        else req.end();
      };
      pump();
    });
    assert.ok(streamed === 413 || streamed === 'ECONNRESET' || streamed === 'EPIPE', String(streamed));
    assert.ok(rss() - before < 12, `RSS grew by ${(rss() - before).toFixed(1)} MB`);
    assert.equal((await r.emu.invoke({ dsd: 'big.m:1|c' })).status, 'success');
    assert.equal(counted(r.intake, 'big.m'), 1);
  } finally {
    await r.done();
  }
});

/** Opens a request that announces `length` bytes, sends a few, and holds the connection open. */
function holdOpen(port: string, path: string, contentType: string): net.Socket {
  const s = net.connect(Number(port), '127.0.0.1');
  s.on('error', () => undefined);
  s.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\nContent-Length: 100000\r\n\r\n[{"time":`);
  return s;
}

test('requests held open at SHUTDOWN (a telemetry body and a trace body that never complete) do not hold the drain: the final REPORT arrives, exit is early', async () => {
  const r = await rig(undefined, { DD_SERVERLESS_FLUSH_STRATEGY: 'periodically,600000' });
  const held: net.Socket[] = [];
  try {
    const last = await r.emu.invoke({ dsd: 'held.m:1|c' });
    assert.equal(last.status, 'success');
    held.push(holdOpen(r.env['DD_EXTENSION_TELEMETRY_PORT'] ?? '', '/', 'application/json'));
    held.push(holdOpen(r.env['DD_APM_RECEIVER_PORT'] ?? '', '/v0.4/traces', 'application/msgpack'));
    await sleep(100);
    const sd = await r.emu.shutdown();
    const me = sd.extensions.find((e) => e.name === 'datadog-agent');
    assert.deepEqual([me?.killed, me?.exitCode], [false, 0]);
    assert.ok((me?.exitMs ?? Infinity) < 1_500, `exit after ${me?.exitMs?.toFixed(0)} ms of ${sd.budgetMs}`);
    assert.equal(counted(r.intake, 'held.m'), 1);
    assert.ok(reportArrived(r.intake, last.requestId), 'the last REPORT line arrived');
  } finally {
    for (const s of held) s.destroy();
    await r.done();
  }
});

test('a duplicate start-invocation does not leak into the next invocation; a start/end pair for a request that never existed makes no span', async () => {
  const r = await rig(undefined, { DD_SERVERLESS_FLUSH_STRATEGY: 'end' }, { runtime: { handler: 'index.handler', taskRoot: path.join(fixtures, 'universal-function') } });
  try {
    const apigw = (p: string, traceId: string): Record<string, unknown> => ({
      resource: p,
      path: p,
      httpMethod: 'GET',
      headers: { 'x-datadog-trace-id': traceId, 'x-datadog-parent-id': '7' },
      requestContext: {
        stage: 'prod',
        requestId: `req${traceId}`,
        apiId: 'api1',
        domainName: 'api.example.com',
        requestTimeEpoch: Date.now(),
        path: `/prod${p}`,
        httpMethod: 'GET',
        resourcePath: p,
      },
    });
    const one = await r.emu.invoke({ mode: 'double-start', events: [apigw('/first', '111'), apigw('/second', '222')] });
    const two = await r.emu.invoke({ mode: 'none' });
    const ghost = await r.emu.invoke({ mode: 'ghost' });
    for (const res of [one, two, ghost]) assert.equal(res.status, 'success');
    await r.emu.shutdown();
    const spans = r.intake.spans().map((s) => s.span);
    const lambdas = spans.filter((s) => s.name === 'aws.lambda');
    assert.deepEqual(
      lambdas.map((s) => [s.meta['request_id'], String(s.traceID)]),
      [[one.requestId, '222']],
      'one span, for the first invocation, with its latest start',
    );
    assert.ok(!spans.some((s) => s.meta['request_id'] === two.requestId || s.meta['request_id'] === ghost.requestId || s.meta['request_id'] === 'ghost-request'));
    assert.ok(!spans.some((s) => String(s.meta['http.url'] ?? '').includes('/first')), 'no inferred span from the replaced start');
  } finally {
    await r.done();
  }
});

test("a DogStatsD burst past the receive buffer: the kernel's drops are counted and reach Datadog as a metric", async () => {
  const r = await rig(undefined, { DD_SERVERLESS_FLUSH_STRATEGY: 'end', DD_DOGSTATSD_SO_RCVBUF: '4096' });
  try {
    assert.equal((await r.emu.init()).status, 'success');
    const N = 20_000;
    const sock = dgram.createSocket('udp4');
    const line = Buffer.from('burst.m:1|c');
    await new Promise<void>((resolve) => {
      let done = 0;
      for (let i = 0; i < N; i++) sock.send(line, Number(r.env['DD_DOGSTATSD_PORT']), '127.0.0.1', () => ++done === N && resolve());
    });
    sock.close();
    await sleep(200);
    assert.equal((await r.emu.invoke({})).status, 'success');
    const received = counted(r.intake, 'burst.m');
    const dropped = counted(r.intake, 'datadog.serverless.dogstatsd.packets_dropped');
    assert.ok(dropped > 0, `no drop reported (received ${received} of ${N})`);
    assert.equal(received + dropped, N, 'every datagram is either counted or reported dropped');
    const warn = r.logs.json.find((j) => j['code'] === 'SV_ERR_UDP_DROPS');
    assert.equal(warn?.['dropped'], dropped);
  } finally {
    await r.done();
  }
});
