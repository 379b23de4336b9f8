// The client against real local servers: plain HTTP, HTTPS with a test CA (DD_TLS_CERT_FILE), and a
// CONNECT proxy in front of the HTTPS one (DD_PROXY_HTTPS), each answering as the test scripts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { createLogger } from '@dd-lambda/logger';
import { buildIntakeClient, bypassesProxy } from '../src/client.js';
import { compress, hasZstd } from '../src/compress.js';
import { SYNC_COMPRESS_BYTES } from '../src/compress.js';

const MIN_LARGE = SYNC_COMPRESS_BYTES + 1;
import type { ClientConfig, IntakeRequest } from '../src/client.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures');
const config: ClientConfig = {
  apiKey: 'k'.repeat(32),
  proxyHttps: undefined,
  proxyNoProxy: [],
  tlsCertFile: undefined,
  skipSslValidation: false,
  flushTimeoutMs: 2_000,
};
const logger = createLogger({ level: 'silent', bindings: { component: 'test' } });

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
/** What the server answers, one entry per request (the last one repeats); 'reset' destroys the socket, 'hang' never answers. */
type Script = ({ status: number; body?: string } | 'reset' | 'hang')[];

async function intake(script: Script, tlsServer = false): Promise<{ origin: string; seen: Seen[]; close: () => Promise<void>; port: number }> {
  const seen: Seen[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      const step = script[Math.min(seen.length, script.length) - 1] ?? { status: 202 };
      if (step === 'reset') req.socket.destroy();
      else if (step !== 'hang') res.writeHead(step.status).end(step.body ?? '');
    });
  };
  const server = tlsServer
    ? https.createServer({ key: readFileSync(path.join(fixtures, 'key.pem')), cert: readFileSync(path.join(fixtures, 'cert.pem')) }, handler)
    : http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    origin: `${tlsServer ? 'https' : 'http'}://localhost:${port}`,
    seen,
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

function req(origin: string, over: Partial<IntakeRequest> = {}): IntakeRequest {
  return {
    url: `${origin}/api/v2/series`,
    body: Buffer.from(JSON.stringify({ series: Array.from({ length: 20 }, (_, i) => ({ metric: `m${i}`, points: [[1, i]] })) })),
    contentType: 'application/json',
    encoding: 'gzip',
    level: 3,
    deadline: Date.now() + 5_000,
    ...over,
  };
}

test('sends compressed with the API key and content headers', async () => {
  const srv = await intake([{ status: 202, body: '{}' }]);
  const client = buildIntakeClient({ config, logger });
  const r = req(srv.origin, { headers: { 'dd-protocol': 'agent-json' } });
  const out = await client.send(r);
  await client.close();
  await srv.close();
  assert.equal(out.ok, true);
  const seen = srv.seen[0];
  assert.ok(seen);
  assert.equal(seen.method, 'POST');
  assert.equal(seen.url, '/api/v2/series');
  assert.equal(seen.headers['dd-api-key'], config.apiKey);
  assert.equal(seen.headers['content-type'], 'application/json');
  assert.equal(seen.headers['content-encoding'], 'gzip');
  assert.equal(seen.headers['dd-protocol'], 'agent-json');
  assert.equal(gunzipSync(seen.body).toString(), r.body.toString());
});

test('retries 5xx and network errors, then succeeds', async () => {
  const srv = await intake([{ status: 503, body: 'busy' }, 'reset', { status: 202, body: '{}' }]);
  const client = buildIntakeClient({ config, logger });
  const out = await client.send(req(srv.origin));
  await client.close();
  await srv.close();
  assert.deepEqual({ ok: out.ok, attempts: out.attempts }, { ok: true, attempts: 3 });
});

test('a 4xx is final and not retryable', async () => {
  const srv = await intake([{ status: 400, body: 'bad payload' }]);
  const client = buildIntakeClient({ config, logger });
  const out = await client.send(req(srv.origin));
  await client.close();
  await srv.close();
  assert.equal(out.ok, false);
  if (out.ok) return;
  assert.equal(out.retryable, false);
  assert.equal(out.attempts, 1);
  assert.equal(out.error.code, 'IC_ERR_REJECTED');
  assert.match(out.error.message, /400: bad payload/);
});

test('429 and 408 are retryable; after the attempts the outcome says keep it', async () => {
  const srv = await intake([{ status: 429 }, { status: 408 }, { status: 429 }]);
  const client = buildIntakeClient({ config, logger });
  const out = await client.send(req(srv.origin));
  await client.close();
  await srv.close();
  assert.equal(out.ok, false);
  if (out.ok) return;
  assert.equal(out.retryable, true);
  assert.equal(out.attempts, 3);
  assert.equal(out.error.code, 'IC_ERR_UNAVAILABLE');
});

test('a custom accept function narrows success (stats: only 202)', async () => {
  const srv = await intake([{ status: 200 }]);
  const client = buildIntakeClient({ config, logger });
  const out = await client.send(req(srv.origin, { url: `${srv.origin}/api/v0.2/stats`, accept: (s) => s === 202, attempts: 1 }));
  await client.close();
  await srv.close();
  assert.equal(out.ok, false);
});

test('no API key: nothing is sent, the error says why', async () => {
  const client = buildIntakeClient({ config: { ...config, apiKey: undefined }, logger });
  const out = await client.send(req('http://127.0.0.1:9'));
  assert.equal(out.ok, false);
  if (out.ok) return;
  assert.equal(out.error.code, 'IC_ERR_NO_API_KEY');
  assert.equal(out.attempts, 0);
});

test('a past deadline stops before any attempt', async () => {
  const client = buildIntakeClient({ config, logger });
  const out = await client.send(req('http://127.0.0.1:9', { deadline: Date.now() - 1 }));
  assert.equal(out.ok, false);
  if (out.ok) return;
  assert.equal(out.error.code, 'IC_ERR_DEADLINE');
});

test('a hanging intake is cut at the deadline', async () => {
  const srv = await intake(['hang']);
  const client = buildIntakeClient({ config, logger });
  const t0 = Date.now();
  const out = await client.send(req(srv.origin, { deadline: Date.now() + 300, attempts: 1 }));
  await client.close();
  await srv.close();
  assert.equal(out.ok, false);
  assert.ok(Date.now() - t0 < 2_000, 'send returned soon after the deadline');
});

test('a silent intake (accepts, never answers) is given up after the response timeout, not at the deadline', async () => {
  const srv = await intake(['hang']);
  const client = buildIntakeClient({ config, logger, timeouts: { connectMs: 300, responseMs: 300 } });
  const t0 = Date.now();
  const out = await client.send(req(srv.origin, { deadline: Date.now() + 10_000, attempts: 1 }));
  const took = Date.now() - t0;
  await client.close();
  await srv.close();
  assert.equal(out.ok, false);
  if (!out.ok) {
    assert.equal(out.retryable, true);
    assert.match(out.error.message, /no answer from localhost:\d+ within 300 ms/);
  }
  assert.ok(took >= 250 && took < 2_000, `gave up after ${took} ms`);
});

test('attempts: Infinity (the final flush) keeps trying until an answer or the deadline', async () => {
  const srv = await intake([{ status: 503 }, { status: 429 }, { status: 500 }, { status: 503 }, { status: 202 }]);
  const client = buildIntakeClient({ config, logger });
  const out = await client.send(req(srv.origin, { deadline: Date.now() + 5_000, attempts: Infinity }));
  await client.close();
  await srv.close();
  assert.deepEqual({ ok: out.ok, attempts: out.attempts }, { ok: true, attempts: 5 });
});

test('HTTPS: an unknown CA is refused; DD_TLS_CERT_FILE trusts it; DD_SKIP_SSL_VALIDATION skips the check', async () => {
  const srv = await intake([{ status: 202 }], true);
  const strict = buildIntakeClient({ config, logger });
  const refused = await strict.send(req(srv.origin, { attempts: 1 }));
  const trusting = buildIntakeClient({ config: { ...config, tlsCertFile: path.join(fixtures, 'cert.pem') }, logger });
  const trusted = await trusting.send(req(srv.origin));
  const skipping = buildIntakeClient({ config: { ...config, skipSslValidation: true }, logger });
  const skipped = await skipping.send(req(srv.origin));
  const missing = buildIntakeClient({ config: { ...config, tlsCertFile: '/nonexistent/ca.pem' }, logger });
  const noFile = await missing.send(req(srv.origin));
  for (const c of [strict, trusting, skipping, missing]) await c.close();
  await srv.close();
  assert.equal(refused.ok, false);
  if (!refused.ok) assert.match(refused.error.message, /self.signed|certificate/i);
  assert.equal(trusted.ok, true);
  assert.equal(skipped.ok, true);
  assert.equal(noFile.ok, false);
  if (!noFile.ok) assert.equal(noFile.error.code, 'IC_ERR_TLS_CERT_FILE');
});

test('DD_PROXY_HTTPS: HTTPS through a CONNECT tunnel (reused across sends, with proxy credentials); NO_PROXY goes direct', async () => {
  const srv = await intake([{ status: 202 }], true);
  const connects: { target: string; auth: string | undefined }[] = [];
  const proxy = http.createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (r: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    connects.push({ target: r.url ?? '', auth: r.headers['proxy-authorization'] });
    const [host, port] = (r.url ?? '').split(':');
    const upstream = net.connect(Number(port), host === 'localhost' ? '127.0.0.1' : (host ?? ''), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const proxyUrl = `http://user:p%40ss@127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
  const tlsCertFile = path.join(fixtures, 'cert.pem');
  const viaProxy = buildIntakeClient({ config: { ...config, tlsCertFile, proxyHttps: proxyUrl }, logger });
  const a = await viaProxy.send(req(srv.origin));
  const b = await viaProxy.send(req(srv.origin));
  const bypass = buildIntakeClient({ config: { ...config, tlsCertFile, proxyHttps: proxyUrl, proxyNoProxy: ['localhost'] }, logger });
  const c = await bypass.send(req(srv.origin));
  await viaProxy.close();
  await bypass.close();
  proxy.closeAllConnections();
  await new Promise((r) => proxy.close(r));
  await srv.close();
  assert.deepEqual([a.ok, b.ok, c.ok], [true, true, true]);
  assert.equal(srv.seen.length, 3);
  assert.deepEqual(connects, [{ target: `localhost:${srv.port}`, auth: `Basic ${Buffer.from('user:p@ss').toString('base64')}` }]);
});

test('NO_PROXY matching', () => {
  assert.equal(bypassesProxy('api.datadoghq.com', ['datadoghq.com']), true);
  assert.equal(bypassesProxy('api.datadoghq.com', ['.datadoghq.com']), true);
  assert.equal(bypassesProxy('api.datadoghq.com', ['*']), true);
  assert.equal(bypassesProxy('api.datadoghq.com', ['example.com', 'datadoghq.eu']), false);
  assert.equal(bypassesProxy('notdatadoghq.com', ['datadoghq.com']), false);
});

test('compression falls back to gzip where zstd is missing; level 0 and tiny bodies send identity; large ones use the pool', async () => {
  const body = Buffer.from('x'.repeat(1000));
  const z = await compress(body, 'zstd', 3);
  assert.equal(z.encoding, hasZstd ? 'zstd' : 'gzip');
  assert.ok(z.data.length < body.length);
  const id = await compress(body, 'gzip', 0);
  assert.equal(id.encoding, 'identity');
  assert.equal(id.data, body);
  const tiny = await compress(Buffer.from('{"series":[]}'), 'zstd', 3);
  assert.equal(tiny.encoding, 'identity');
  const large = Buffer.alloc(MIN_LARGE, 'y');
  const g = await compress(large, 'gzip', 6);
  assert.equal(gunzipSync(g.data).length, large.length);
  if (hasZstd) {
    const { zstdDecompressSync } = (await import('node:zlib')) as unknown as { zstdDecompressSync: (b: Buffer) => Buffer };
    assert.equal(zstdDecompressSync((await compress(large, 'zstd', 3)).data).length, large.length);
    assert.equal(zstdDecompressSync(z.data).toString(), body.toString());
  }
});
