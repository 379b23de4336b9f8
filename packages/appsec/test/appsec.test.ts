import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppSecMessage } from '@dd-lambda/protocol';
import { createLogger } from '@dd-lambda/logger';
import { requestFacts, responseAddresses } from '../src/addresses.js';
import { AppSecProcessor, MAX_CONTEXTS } from '../src/processor.js';
import { buildWaf } from '../src/waf.js';
import { ApiSecuritySampler } from '../src/api-security.js';
import { gunzipSync } from 'node:zlib';

const restEvent = {
  resource: '/items/{id}',
  path: '/items/42',
  httpMethod: 'POST',
  headers: { 'User-Agent': 'curl/8', Cookie: 'session=abc; theme=dark', 'Content-Type': 'application/json', 'X-Forwarded-For': '203.0.113.9, 10.0.0.1' },
  multiValueHeaders: { Accept: ['text/html', 'application/json'] },
  queryStringParameters: { q: 'x' },
  multiValueQueryStringParameters: { q: ['x', 'y'] },
  pathParameters: { id: '42' },
  requestContext: { stage: 'prod', identity: { sourceIp: '198.51.100.1' } },
  body: '{"name":"widget"}',
  isBase64Encoded: false,
};

test('addresses: API Gateway REST with multi-value headers and query, cookies apart, client IP from X-Forwarded-For, JSON body', () => {
  const f = requestFacts(restEvent);
  assert.ok(f);
  assert.equal(f.kind, 'api-gateway-rest');
  assert.equal(f.uri, '/items/42?q=x&q=y');
  assert.equal(f.route, '/items/{id}');
  assert.equal(f.clientIp, '203.0.113.9');
  const a = f.addresses;
  assert.deepEqual(a['server.request.cookies'], { session: ['abc'], theme: ['dark'] });
  assert.equal((a['server.request.headers.no_cookies'] as Record<string, string>)['cookie'], undefined);
  assert.equal((a['server.request.headers.no_cookies'] as Record<string, string>)['accept'], 'text/html, application/json');
  assert.deepEqual(a['server.request.query'], { q: ['x', 'y'] });
  assert.deepEqual(a['server.request.path_params'], { id: '42' });
  assert.deepEqual(a['server.request.body'], { name: 'widget' });
});

test('addresses: HTTP API v2, function URL, ALB, WebSocket; base64 form bodies; non-HTTP events are skipped', () => {
  const v2 = {
    version: '2.0',
    routeKey: 'GET /hello/{name}',
    rawPath: '/hello/bob',
    rawQueryString: 'a=1&a=2',
    cookies: ['c=1'],
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    requestContext: { domainName: 'abc.execute-api.us-east-1.amazonaws.com', http: { method: 'GET', path: '/hello/bob', sourceIp: '192.0.2.7' } },
    body: Buffer.from('k=v&k=w').toString('base64'),
    isBase64Encoded: true,
  };
  const f2 = requestFacts(v2);
  assert.deepEqual([f2?.kind, f2?.uri, f2?.route, f2?.clientIp], ['api-gateway-http', '/hello/bob?a=1&a=2', '/hello/{name}', '192.0.2.7']);
  assert.deepEqual(f2?.addresses['server.request.body'], { k: ['v', 'w'] });
  assert.deepEqual(f2?.addresses['server.request.cookies'], { c: ['1'] });
  const url = { ...v2, requestContext: { domainName: 'x.lambda-url.us-east-1.on.aws', http: { method: 'POST', path: '/', sourceIp: '192.0.2.8' } } };
  assert.equal(requestFacts(url)?.kind, 'function-url');
  const alb = { httpMethod: 'GET', path: '/lb', multiValueHeaders: { host: ['a'], 'x-h': ['1', '2'] }, requestContext: { elb: { targetGroupArn: 'arn' } } };
  assert.deepEqual([requestFacts(alb)?.kind, (requestFacts(alb)?.addresses['server.request.headers.no_cookies'] as Record<string, string>)['x-h']], ['alb', '1, 2']);
  const ws = { requestContext: { routeKey: '$default', connectionId: 'c1', messageDirection: 'IN', identity: { sourceIp: '192.0.2.9' } }, body: 'hi' };
  assert.equal(requestFacts(ws)?.kind, 'websocket');
  assert.equal(requestFacts({ Records: [{ eventSource: 'aws:sqs' }] }), undefined);
  assert.equal(requestFacts('not an object'), undefined);
  const r = responseAddresses('api-gateway-rest', { statusCode: 201, headers: { 'Content-Type': 'application/json', 'Set-Cookie': 'a=b' }, body: '{"ok":true}' });
  assert.deepEqual([r.status, r.addresses['server.response.body']], ['201', { ok: true }]);
  assert.equal(responseAddresses('api-gateway-http', { plain: 1 }).status, '200');
});

function harness(): { p: AppSecProcessor; out: AppSecMessage[] } {
  const waf = buildWaf(undefined);
  const out: AppSecMessage[] = [];
  const p = new AppSecProcessor({ waf: () => waf, timeoutUs: 50_000, emit: (m) => out.push(m), logger: createLogger({ level: 'silent' }) });
  return { p, out };
}

test('processor: a scanner request gets appsec.event, its triggers, USER_KEEP and the request headers; a clean one only the enabled tags', () => {
  const { p, out } = harness();
  const attack = { ...restEvent, headers: { ...restEvent.headers, 'User-Agent': 'Arachni/v1.5.1' } };
  p.event('r1', Buffer.from(JSON.stringify(attack)));
  assert.deepEqual(
    out.map((m) => [m.requestId, m.state]),
    [['r1', 'pending']],
  );
  p.result('r1', 'response', Buffer.from(JSON.stringify({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' })));
  const v = out[1];
  assert.equal(v?.state, 'done');
  assert.equal(v?.meta['appsec.event'], 'true');
  const triggers = (JSON.parse(v?.meta['_dd.appsec.json'] ?? '{}') as { triggers: { rule: { id: string } }[] }).triggers;
  assert.ok(triggers.length > 0 && triggers.some((t) => t.rule.id.startsWith('ua0-')), JSON.stringify(triggers).slice(0, 200));
  assert.equal(v?.metrics['_sampling_priority_v1'], 2);
  assert.equal(v?.metrics['_dd.appsec.enabled'], 1);
  assert.equal(v?.meta['_dd.origin'], 'appsec');
  assert.equal(v?.meta['http.request.headers.user-agent'], 'Arachni/v1.5.1');
  assert.equal(v?.meta['http.status_code'], '200');
  assert.equal(v?.meta['network.client.ip'], '203.0.113.9');
  assert.match(v?.meta['_dd.appsec.event_rules.version'] ?? '', /^\d+\.\d+\.\d+$/);

  p.event('r2', Buffer.from(JSON.stringify(restEvent)));
  p.result('r2', 'error', Buffer.from('{}'));
  const clean = out.find((m) => m.requestId === 'r2' && m.state === 'done');
  assert.equal(clean?.meta['appsec.event'], undefined);
  assert.equal(clean?.metrics['_dd.appsec.enabled'], 1);
  assert.ok((clean?.metrics['_dd.appsec.waf.duration'] ?? -1) >= 0);
});

test('processor: non-HTTP events are skipped, garbage never throws, open invocations are bounded and finished at SHUTDOWN', () => {
  const { p, out } = harness();
  p.event('sqs', Buffer.from(JSON.stringify({ Records: [{ eventSource: 'aws:sqs' }] })));
  p.event('bad', Buffer.from('{{{'));
  p.result('unknown', 'response', Buffer.from('{}'));
  assert.equal(out.length, 0);
  assert.equal(p.counters.skipped, 2);
  for (let i = 0; i < MAX_CONTEXTS + 2; i++) p.event(`o${i}`, Buffer.from(JSON.stringify(restEvent)));
  assert.equal(out.filter((m) => m.state === 'done').length, 2, 'the oldest are finalised when the bound is reached');
  p.finishAll();
  assert.equal(out.filter((m) => m.state === 'done').length, MAX_CONTEXTS + 2);
});

test('API Security: schemas for an endpoint once per sample delay, as base64 gzip JSON; none without a route or when off', () => {
  const waf = buildWaf(undefined);
  const out: AppSecMessage[] = [];
  const p = new AppSecProcessor({
    waf: () => waf,
    timeoutUs: 50_000,
    emit: (m) => out.push(m),
    logger: createLogger({ level: 'silent' }),
    apiSecurity: { enabled: true, delayS: 30 },
  });
  const done = (id: string): AppSecMessage | undefined => out.find((m) => m.requestId === id && m.state === 'done');
  const ok = Buffer.from(JSON.stringify({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"id":1}' }));
  p.event('a', Buffer.from(JSON.stringify(restEvent)));
  p.result('a', 'response', ok);
  const schema = done('a')?.meta['_dd.appsec.s.req.body'];
  assert.ok(schema, `schema attributes: ${Object.keys(done('a')?.meta ?? {}).join(',')}`);
  assert.ok(Array.isArray(JSON.parse(gunzipSync(Buffer.from(schema, 'base64')).toString())), 'decodes to the WAF schema');
  p.event('b', Buffer.from(JSON.stringify(restEvent)));
  p.result('b', 'response', ok);
  assert.equal(done('b')?.meta['_dd.appsec.s.req.body'], undefined, 'the same endpoint within the delay is not sampled again');
  const sampler = new ApiSecuritySampler({ enabled: true, delayS: 30, now: () => clock });
  let clock = 0;
  assert.deepEqual(
    [sampler.sample('GET', '/a', '200'), sampler.sample('GET', '/a', '200'), sampler.sample('GET', '/a', '404'), sampler.sample('GET', undefined, '200')],
    [true, false, true, false],
  );
  clock = 31_000;
  assert.equal(sampler.sample('GET', '/a', '200'), true);
  assert.equal(new ApiSecuritySampler({ enabled: false, delayS: 30 }).sample('GET', '/a', '200'), false);
  const always = new ApiSecuritySampler({ enabled: true, delayS: 0 });
  assert.deepEqual([always.sample('GET', '/a', '200'), always.sample('GET', '/a', '200')], [true, true]);
});
