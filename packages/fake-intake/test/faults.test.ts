import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { buildFakeIntake, type FakeIntake } from '../src/intake.js';
import { post } from './helpers.js';

let intake: FakeIntake;
before(async () => {
  intake = buildFakeIntake();
  await intake.listen();
});
after(() => intake.close());
beforeEach(() => {
  intake.clearFaults();
  intake.reset();
});

const log = '[{"message":"x"}]';
const h = { 'DD-API-KEY': 'any', 'Content-Type': 'application/json' };

test('a status fault answers instead of the intake, for `times` requests', async () => {
  const f = intake.injectFault({ kind: 'logs', status: 503, times: 2 });
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await post(`${intake.url}/api/v2/logs`, log, h)).status);
  assert.deepEqual(statuses, [503, 503, 202]);
  assert.equal(f.hits, 2);
  assert.equal(intake.logs().length, 1, 'only the third request was accepted');
  assert.deepEqual(
    intake.requests().map((r) => r.fault ?? 'none'),
    ['status 503', 'status 503', 'none'],
  );
});

test('a fault matches by path or RegExp and can be removed', async () => {
  const f = intake.injectFault({ path: /^\/api\/v2\//, status: 500 });
  assert.equal((await post(`${intake.url}/api/v2/logs`, log, h)).status, 500);
  f.remove();
  assert.equal((await post(`${intake.url}/api/v2/logs`, log, h)).status, 202);
  intake.injectFault({ path: '/api/v2/series', status: 429 });
  assert.equal((await post(`${intake.url}/api/v2/logs`, log, h)).status, 202);
});

test('latency delays the answer and the request is still processed', async () => {
  intake.injectFault({ kind: 'logs', latencyMs: 150 });
  const t0 = performance.now();
  const res = await post(`${intake.url}/api/v2/logs`, log, h);
  assert.equal(res.status, 202);
  assert.ok(performance.now() - t0 >= 140);
  assert.equal(intake.logs().length, 1);
});

test('hang never answers; the client must time out', async () => {
  intake.injectFault({ kind: 'logs', hang: true });
  await assert.rejects(
    fetch(`${intake.url}/api/v2/logs`, { method: 'POST', body: log, headers: h, signal: AbortSignal.timeout(200) }),
    (err: Error) => err.name === 'TimeoutError',
  );
  assert.equal(intake.requests()[0]!.fault, 'hang');
});

test('reset destroys the connection', async () => {
  intake.injectFault({ kind: 'logs', reset: true, times: 1 });
  await assert.rejects(post(`${intake.url}/api/v2/logs`, log, h), TypeError);
  assert.equal((await post(`${intake.url}/api/v2/logs`, log, h)).status, 202);
});

test('waitFor resolves when the predicate holds and rejects on timeout', async () => {
  const waiting = intake.waitFor((i) => i.logs().length >= 2, 2000);
  await post(`${intake.url}/api/v2/logs`, log, h);
  await post(`${intake.url}/api/v2/logs`, log, h);
  await waiting;
  await assert.rejects(
    intake.waitFor((i) => i.logs().length >= 5, 50),
    /not met within 50 ms/,
  );
});
