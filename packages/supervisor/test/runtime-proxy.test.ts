import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@dd-lambda/logger';
import { RuntimeApiProxy } from '../src/runtime-proxy.js';
import type { TeeKind } from '../src/runtime-proxy.js';

const logger = createLogger({ level: 'silent' });

function request(
  port: number,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let s = '';
      res.on('data', (c: Buffer) => (s += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: s }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('runtime proxy: bodies and Lambda headers both ways, hop-by-hop headers dropped, copies after forwarding, a malformed id never throws, a dead upstream is a 502', async () => {
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const upstream = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url?.endsWith('/next')) {
        res.writeHead(200, { 'lambda-runtime-aws-request-id': 'req-1', 'lambda-runtime-deadline-ms': '123', 'content-type': 'application/json' });
        res.end('{"event":"é"}');
      } else res.writeHead(202).end('{"status":"OK"}');
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const up = (upstream.address() as AddressInfo).port;
  const teed: [string, TeeKind, string][] = [];
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const proxy = new RuntimeApiProxy({ upstream: `127.0.0.1:${up}`, port, logger, tee: (id, kind, body) => teed.push([id, kind, body.toString()]) });
  await proxy.bind();
  try {
    const next = await request(port, 'GET', '/2018-06-01/runtime/invocation/next', undefined, { connection: 'keep-alive', 'proxy-authorization': 'x' });
    assert.deepEqual([next.status, next.body, next.headers['lambda-runtime-aws-request-id'], next.headers['lambda-runtime-deadline-ms']], [200, '{"event":"é"}', 'req-1', '123']);
    assert.equal(seen[0]?.headers['proxy-authorization'], undefined, 'hop-by-hop headers are not forwarded');
    const res = await request(port, 'POST', '/2018-06-01/runtime/invocation/req-1/response', '{"ok":true}', { 'content-type': 'application/json' });
    assert.equal(res.status, 202);
    assert.equal(seen[1]?.body, '{"ok":true}');
    const bad = await request(port, 'POST', '/2018-06-01/runtime/invocation/%E0%A4%A/error', '{}');
    assert.equal(bad.status, 202, 'forwarded as sent');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(teed, [
      ['req-1', 'event', '{"event":"é"}'],
      ['req-1', 'response', '{"ok":true}'],
      ['%E0%A4%A', 'error', '{}'],
    ]);
    await new Promise<void>((r) => upstream.close(() => r()));
    upstream.closeAllConnections();
    const dead = await request(port, 'GET', '/2018-06-01/runtime/invocation/next');
    assert.equal(dead.status, 502);
    assert.match(dead.body, /Runtime.ProxyError/);
    assert.equal(proxy.counters.upstreamErrors, 1);
  } finally {
    await proxy.close();
    upstream.close();
  }
});

test('runtime proxy: a pending /next cut by the platform just before the runtime goes, or by our own close, is not an upstream failure', async () => {
  const pending: http.ServerResponse[] = [];
  const upstream = http.createServer((_req, res) => void pending.push(res));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const up = (upstream.address() as AddressInfo).port;
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const proxy = new RuntimeApiProxy({ upstream: `127.0.0.1:${up}`, port, logger });
  await proxy.bind();
  const waitFor = async (cond: () => boolean): Promise<void> => {
    while (!cond()) await new Promise((r) => setTimeout(r, 5));
  };
  const poll = (): http.ClientRequest => {
    const req = http.request({ host: '127.0.0.1', port, path: '/2018-06-01/runtime/invocation/next' });
    req.on('error', () => {});
    req.end();
    return req;
  };
  try {
    // The platform's teardown: the upstream cut reaches the proxy first, the runtime's close just after.
    const runtime = poll();
    await waitFor(() => pending.length === 1);
    pending[0]?.socket?.destroy();
    await new Promise((r) => setTimeout(r, 20));
    runtime.destroy();
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(proxy.counters.upstreamErrors, 0, 'the runtime went within the grace');

    // Our own close with a /next pending.
    poll();
    await waitFor(() => pending.length === 2);
    await proxy.close();
    await new Promise((r) => setTimeout(r, 250));
    assert.deepEqual([proxy.counters.requests, proxy.counters.upstreamErrors], [2, 0]);
  } finally {
    await proxy.close();
    upstream.closeAllConnections();
    upstream.close();
  }
});
