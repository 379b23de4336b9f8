import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { MockAgent } from 'undici';
import { createLogger } from '@dd-lambda/logger';
import { buildIntakeClient, bypassesProxy, compress, hasZstd } from '../src/index.js';
import type { ClientConfig, IntakeRequest } from '../src/index.js';

const config: ClientConfig = {
  apiKey: 'k'.repeat(32),
  proxyHttps: undefined,
  proxyNoProxy: [],
  tlsCertFile: undefined,
  skipSslValidation: false,
  flushTimeoutMs: 2_000,
};
const logger = createLogger({ level: 'silent', bindings: { component: 'test' } });
const ORIGIN = 'https://api.example.test';

function setup(cfg: Partial<ClientConfig> = {}): { agent: MockAgent; client: ReturnType<typeof buildIntakeClient> } {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const client = buildIntakeClient({ config: { ...config, ...cfg }, logger, dispatcher: agent });
  return { agent, client };
}

function req(over: Partial<IntakeRequest> = {}): IntakeRequest {
  return {
    url: `${ORIGIN}/api/v2/series`,
    body: Buffer.from('{"series":[]}'),
    contentType: 'application/json',
    encoding: 'gzip',
    level: 3,
    deadline: Date.now() + 5_000,
    ...over,
  };
}

test('sends compressed with the API key and content headers', async () => {
  const { agent, client } = setup();
  let seen: { headers: Record<string, string>; body: Buffer } | undefined;
  agent.get(ORIGIN).intercept({ path: '/api/v2/series', method: 'POST' }).reply((opts) => {
    seen = { headers: opts.headers as Record<string, string>, body: Buffer.from(opts.body as Uint8Array) };
    return { statusCode: 202, data: '{}' };
  });
  const out = await client.send(req({ headers: { 'dd-protocol': 'agent-json' } }));
  assert.equal(out.ok, true);
  assert.ok(seen);
  assert.equal(seen.headers['dd-api-key'], config.apiKey);
  assert.equal(seen.headers['content-type'], 'application/json');
  assert.equal(seen.headers['content-encoding'], 'gzip');
  assert.equal(seen.headers['dd-protocol'], 'agent-json');
  assert.equal(gunzipSync(seen.body).toString(), '{"series":[]}');
});

test('retries 5xx and network errors, then succeeds', async () => {
  const { agent, client } = setup();
  const pool = agent.get(ORIGIN);
  pool.intercept({ path: '/api/v2/series', method: 'POST' }).reply(503, 'busy');
  pool.intercept({ path: '/api/v2/series', method: 'POST' }).replyWithError(new Error('socket hang up'));
  pool.intercept({ path: '/api/v2/series', method: 'POST' }).reply(202, '{}');
  const out = await client.send(req());
  assert.deepEqual({ ok: out.ok, attempts: out.attempts }, { ok: true, attempts: 3 });
});

test('a 4xx is final and not retryable', async () => {
  const { agent, client } = setup();
  agent.get(ORIGIN).intercept({ path: '/api/v2/series', method: 'POST' }).reply(400, 'bad payload');
  const out = await client.send(req());
  assert.equal(out.ok, false);
  if (out.ok) return;
  assert.equal(out.retryable, false);
  assert.equal(out.attempts, 1);
  assert.equal(out.error.code, 'IC_ERR_REJECTED');
  assert.match(out.error.message, /400: bad payload/);
});

test('429 and 408 are retryable; after the attempts the outcome says keep it', async () => {
  const { agent, client } = setup();
  const pool = agent.get(ORIGIN);
  pool.intercept({ path: '/api/v2/series', method: 'POST' }).reply(429, '').times(3);
  const out = await client.send(req());
  assert.equal(out.ok, false);
  if (out.ok) return;
  assert.equal(out.retryable, true);
  assert.equal(out.attempts, 3);
  assert.equal(out.error.code, 'IC_ERR_UNAVAILABLE');
});

test('a custom accept function narrows success (stats: only 202)', async () => {
  const { agent, client } = setup();
  agent.get(ORIGIN).intercept({ path: '/api/v0.2/stats', method: 'POST' }).reply(200, '').times(3);
  const out = await client.send(req({ url: `${ORIGIN}/api/v0.2/stats`, accept: (s) => s === 202, attempts: 1 }));
  assert.equal(out.ok, false);
});

test('no API key: nothing is sent, the error says why', async () => {
  const { client } = setup({ apiKey: undefined });
  const out = await client.send(req());
  assert.equal(out.ok, false);
  if (out.ok) return;
  assert.equal(out.error.code, 'IC_ERR_NO_API_KEY');
  assert.equal(out.attempts, 0);
});

test('a past deadline stops before any attempt', async () => {
  const { client } = setup();
  const out = await client.send(req({ deadline: Date.now() - 1 }));
  assert.equal(out.ok, false);
  if (out.ok) return;
  assert.equal(out.error.code, 'IC_ERR_DEADLINE');
});

test('a hanging intake is cut at the deadline', async () => {
  const { agent, client } = setup();
  agent.get(ORIGIN).intercept({ path: '/api/v2/series', method: 'POST' }).reply(202, '{}').delay(5_000);
  const t0 = Date.now();
  const out = await client.send(req({ deadline: Date.now() + 300, attempts: 1 }));
  assert.equal(out.ok, false);
  assert.ok(Date.now() - t0 < 2_000, 'send returned soon after the deadline');
});

test('NO_PROXY matching', () => {
  assert.equal(bypassesProxy('api.datadoghq.com', ['datadoghq.com']), true);
  assert.equal(bypassesProxy('api.datadoghq.com', ['.datadoghq.com']), true);
  assert.equal(bypassesProxy('api.datadoghq.com', ['*']), true);
  assert.equal(bypassesProxy('api.datadoghq.com', ['example.com', 'datadoghq.eu']), false);
  assert.equal(bypassesProxy('notdatadoghq.com', ['datadoghq.com']), false);
});

test('compression falls back to gzip where zstd is missing; level 0 sends identity', async () => {
  const body = Buffer.from('x'.repeat(1000));
  const z = await compress(body, 'zstd', 3);
  assert.equal(z.encoding, hasZstd ? 'zstd' : 'gzip');
  assert.ok(z.data.length < body.length);
  const id = await compress(body, 'gzip', 0);
  assert.equal(id.encoding, 'identity');
  assert.equal(id.data, body);
});
