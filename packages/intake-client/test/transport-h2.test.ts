// DD_HTTP_PROTOCOL=http2: posts to an https:// intake go over one HTTP/2 session; an intake that does
// not negotiate h2 is served over HTTP/1.1 (and remembered); http1, plain http:// and proxies stay on 1.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTransport } from '../src/transport.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures');
const tls = { key: readFileSync(path.join(fixtures, 'key.pem')), cert: readFileSync(path.join(fixtures, 'cert.pem')) };
const config = { proxyHttps: undefined, proxyNoProxy: [], tlsCertFile: path.join(fixtures, 'cert.pem'), skipSslValidation: false };

interface Seen {
  version: string;
  path: string;
  apiKey: string | undefined;
  bytes: number;
}

async function server(h2: boolean): Promise<{ origin: string; seen: Seen[]; sessions: () => number; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  let sessions = 0;
  const handler = (req: http2.Http2ServerRequest | IncomingMessage, res: http2.Http2ServerResponse | ServerResponse): void => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      seen.push({ version: req.httpVersion, path: req.url ?? '', apiKey: req.headers['dd-api-key'] as string | undefined, bytes });
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  };
  const s = h2 ? http2.createSecureServer({ ...tls, allowHTTP1: true }, handler) : https.createServer(tls, handler);
  if (h2) s.on('session', () => sessions++);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    origin: `https://localhost:${(s.address() as AddressInfo).port}`,
    seen,
    sessions: () => sessions,
    close: () => new Promise((r) => s.close(() => r())),
  };
}

const post = (t: ReturnType<typeof buildTransport>, origin: string, p: string): ReturnType<ReturnType<typeof buildTransport>['post']> =>
  t.post(new URL(`${origin}${p}`), { 'DD-API-KEY': 'k', 'content-type': 'application/json' }, Buffer.from('[1,2,3]'), AbortSignal.timeout(5_000));

test('http2: concurrent posts share one HTTP/2 session; headers and bodies arrive; http1 stays on HTTP/1.1', async () => {
  const s = await server(true);
  const t = buildTransport({ ...config, httpProtocol: 'http2' });
  try {
    const res = await Promise.all([post(t, s.origin, '/api/v2/series'), post(t, s.origin, '/api/beta/sketches'), post(t, s.origin, '/api/v2/logs?x=1')]);
    assert.deepEqual(
      res.map((r) => [r.status, r.text]),
      Array(3).fill([202, '{"ok":true}']),
    );
    assert.deepEqual(
      s.seen.map((x) => [x.version, x.apiKey, x.bytes]),
      Array(3).fill(['2.0', 'k', 7]),
    );
    assert.ok(s.seen.some((x) => x.path === '/api/v2/logs?x=1'));
    assert.equal(s.sessions(), 1);
    const h1 = buildTransport({ ...config, httpProtocol: 'http1' });
    await post(h1, s.origin, '/api/v2/series');
    assert.equal(s.seen.at(-1)?.version, '1.1');
    h1.close();
  } finally {
    t.close();
    await s.close();
  }
});

test('http2 against an intake without h2: HTTP/1.1, remembered; an untrusted certificate is refused as over 1.1', async () => {
  const s = await server(false);
  const t = buildTransport({ ...config, httpProtocol: 'http2' });
  try {
    for (let i = 0; i < 2; i++) assert.equal((await post(t, s.origin, '/api/v2/series')).status, 202);
    assert.deepEqual(
      s.seen.map((x) => x.version),
      ['1.1', '1.1'],
    );
    const untrusting = buildTransport({ ...config, tlsCertFile: undefined, httpProtocol: 'http2' });
    await assert.rejects(post(untrusting, s.origin, '/x'), /self.signed|certificate/i);
    untrusting.close();
  } finally {
    t.close();
    await s.close();
  }
});
