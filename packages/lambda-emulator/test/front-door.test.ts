import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LambdaEmulator } from '../src/emulator.js';
import { buildFrontDoor, toEvent, fromResult } from '../src/front-door.js';
import { fnDir } from './helpers.js';

const ctx = { accountId: '123456789012', region: 'us-east-1', functionName: 'f' };
const req = {
  method: 'POST',
  url: '/users/7?x=1&x=2&y=3',
  headers: { 'content-type': 'application/json', cookie: 'a=1; b=2', 'user-agent': 'curl' },
  body: Buffer.from('{"a":1}'),
};

test('API Gateway v1 event shape', () => {
  const e = toEvent('apigw-v1', req, ctx) as Record<string, any>;
  assert.equal(e.httpMethod, 'POST');
  assert.equal(e.path, '/users/7');
  assert.equal(e.resource, '/{proxy+}');
  assert.deepEqual(e.queryStringParameters, { x: '2', y: '3' });
  assert.deepEqual(e.multiValueQueryStringParameters, { x: ['1', '2'], y: ['3'] });
  assert.equal(e.body, '{"a":1}');
  assert.equal(e.isBase64Encoded, false);
  assert.equal(e.requestContext.stage, 'prod');
  assert.equal(e.requestContext.identity.userAgent, 'curl');
});

test('HTTP API v2 and Function URL event shapes', () => {
  const v2 = toEvent('apigw-v2', req, ctx) as Record<string, any>;
  assert.equal(v2.version, '2.0');
  assert.equal(v2.rawPath, '/users/7');
  assert.equal(v2.rawQueryString, 'x=1&x=2&y=3');
  assert.deepEqual(v2.cookies, ['a=1', 'b=2']);
  assert.equal(v2.headers.cookie, undefined);
  assert.equal(v2.requestContext.http.method, 'POST');
  assert.equal(v2.routeKey, 'POST /users/7');
  const url = toEvent('function-url', { ...req, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0xff, 0x00]) }, ctx) as Record<string, any>;
  assert.equal(url.routeKey, '$default');
  assert.match(url.requestContext.domainName, /\.lambda-url\.us-east-1\.on\.aws$/);
  assert.equal(url.isBase64Encoded, true);
  assert.equal(url.body, Buffer.from([0xff, 0x00]).toString('base64'));
});

test('ALB event shape', () => {
  const e = toEvent('alb', req, ctx) as Record<string, any>;
  assert.match(e.requestContext.elb.targetGroupArn, /^arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup\/f\//);
  assert.equal(e.httpMethod, 'POST');
});

test('results: proxy-shaped, inferred 200 for v2, 502 for errors and malformed v1 results', () => {
  const ok = fromResult('apigw-v1', {
    requestId: 'r',
    payload: Buffer.from(JSON.stringify({ statusCode: 204, headers: { 'X-A': 'b' }, multiValueHeaders: { 'set-cookie': ['c=1', 'd=2'] }, body: '' })),
  });
  assert.equal(ok.status, 204);
  assert.deepEqual(ok.headers, { 'x-a': 'b', 'set-cookie': ['c=1', 'd=2'] });
  const b64 = fromResult('apigw-v2', {
    requestId: 'r',
    payload: Buffer.from(JSON.stringify({ statusCode: 200, body: Buffer.from('hi').toString('base64'), isBase64Encoded: true, cookies: ['z=1'] })),
  });
  assert.equal(b64.body.toString(), 'hi');
  assert.deepEqual(b64.headers['set-cookie'], ['z=1']);
  const inferred = fromResult('function-url', { requestId: 'r', payload: Buffer.from('{"plain":true}') });
  assert.deepEqual([inferred.status, inferred.body.toString()], [200, '{"plain":true}']);
  assert.equal(fromResult('apigw-v1', { requestId: 'r', payload: Buffer.from('{"plain":true}') }).status, 502);
  assert.equal(fromResult('alb', { requestId: 'r', payload: Buffer.from('{}'), error: { errorType: 'Error', errorMessage: 'x' } }).status, 502);
});

test('curl the function through the front door', async () => {
  const emu = new LambdaEmulator({ runtime: { handler: 'http.handler', taskRoot: fnDir } });
  const door = buildFrontDoor({ emulator: emu, source: 'apigw-v2' });
  const url = await door.listen();
  try {
    const res = await fetch(`${url}/items?q=1`, { method: 'PUT', body: 'payload', headers: { 'content-type': 'text/plain' } });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-fn'), 'yes');
    assert.deepEqual(await res.json(), { path: '/items', method: 'PUT', body: 'payload', q: { q: '1' }, v: '2.0', elb: false });
    const plain = await fetch(`${url}/plain`);
    assert.deepEqual([plain.status, await plain.json()], [200, { plain: true }]);
    assert.equal((await fetch(`${url}/fail`)).status, 502);
  } finally {
    await door.close();
    await emu.close();
  }
});
