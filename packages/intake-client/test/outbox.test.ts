import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@dd-lambda/logger';
import { IntakeClientError } from '../src/errors.js';
import { Outbox } from '../src/outbox.js';
import type { IntakeClient, IntakeOutcome, IntakeRequest } from '../src/client.js';
import type { Parcel } from '../src/outbox.js';

const logger = createLogger({ level: 'silent', bindings: { component: 'test' } });

/** A client whose answer per request is decided by the test; it records what was tried. */
function client(answer: (req: IntakeRequest) => 'ok' | 'retry' | 'reject'): IntakeClient & { tried: string[] } {
  const tried: string[] = [];
  return {
    tried,
    async send(req): Promise<IntakeOutcome> {
      tried.push(req.body.toString());
      const a = answer(req);
      if (a === 'ok') return { ok: true, status: 202, attempts: 1, wireBytes: req.body.length };
      const retryable = a === 'retry';
      return { ok: false, retryable, status: retryable ? 503 : 400, attempts: 1, error: new IntakeClientError(retryable ? 'IC_ERR_UNAVAILABLE' : 'IC_ERR_REJECTED', 'x') };
    },
    async close() {},
  };
}

const parcel = (body: string, count = 1): Parcel => ({
  what: 'series',
  count,
  request: { url: 'http://x/api', body: Buffer.from(body), contentType: 'application/json', encoding: 'gzip', level: 0 },
});
const deadline = (): number => Date.now() + 1_000;

test('the first retryable failure keeps the rest untried and opens the breaker; open, flushes try nothing; the final one tries everything', async () => {
  let up = false;
  const c = client(() => (up ? 'ok' : 'retry'));
  let t = 0;
  const box = new Outbox({ client: c, logger, maxBytes: 1024, concurrency: 1, now: () => t });
  assert.deepEqual(await box.ship([parcel('a'), parcel('b'), parcel('c')], deadline()), { sent: 0, dropped: 0, pending: 3 });
  assert.deepEqual(c.tried, ['a']);
  assert.equal(box.open, true);
  t = 500; // inside the 1 s backoff
  assert.deepEqual(await box.ship([parcel('d')], deadline()), { sent: 0, dropped: 0, pending: 4, deferred: true });
  assert.deepEqual(c.tried, ['a']);
  up = true;
  assert.deepEqual(await box.ship([], deadline(), true), { sent: 4, dropped: 0, pending: 0 });
  assert.deepEqual(c.tried, ['a', 'a', 'b', 'c', 'd']);
});

test('open: after the backoff a flush starts one probe in the background; its success closes the breaker and the next flush sends the rest', async () => {
  let up = false;
  const c = client(() => (up ? 'ok' : 'retry'));
  let t = 0;
  const box = new Outbox({ client: c, logger, maxBytes: 1024, now: () => t });
  const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
  await box.ship([parcel('a')], deadline());
  t = 1_001;
  assert.equal((await box.ship([], deadline())).deferred, true);
  await settle(); // the probe failed: backoff doubles to 2 s
  t = 2_500;
  await box.ship([], deadline());
  await settle();
  assert.equal(c.tried.length, 2, 'no probe inside the doubled backoff');
  up = true;
  t = 3_002;
  assert.deepEqual(await box.ship([parcel('b')], deadline()), { sent: 0, dropped: 0, pending: 1, deferred: true });
  await settle();
  assert.equal(box.open, false, 'the probe succeeded');
  assert.deepEqual(await box.ship([], deadline()), { sent: 2, dropped: 0, pending: 0 }, "the probe's payload is reported with this flush");
});

test('open: a flush returns at once even while its probe hangs', async () => {
  let hang = false;
  const tried: string[] = [];
  const c: IntakeClient = {
    send: (req) => {
      tried.push(req.body.toString());
      if (hang) return new Promise<IntakeOutcome>(() => undefined);
      return Promise.resolve({ ok: false, retryable: true, status: undefined, attempts: 1, error: new IntakeClientError('IC_ERR_UNAVAILABLE', 'silent') });
    },
    close: async () => undefined,
  };
  let t = 0;
  const box = new Outbox({ client: c, logger, maxBytes: 1024, now: () => t });
  await box.ship([parcel('a')], deadline());
  hang = true;
  t = 2_000;
  const res = await Promise.race([box.ship([parcel('b')], deadline()), new Promise((r) => setTimeout(() => r('blocked'), 200))]);
  assert.deepEqual(res, { sent: 0, dropped: 0, pending: 1, deferred: true });
  assert.deepEqual(tried, ['a', 'a'], 'the probe took the oldest payload');
});

test('a 4xx drops that payload and not the others', async () => {
  const c = client((r) => (r.body.toString() === 'bad' ? 'reject' : 'ok'));
  const box = new Outbox({ client: c, logger, maxBytes: 1024 });
  assert.deepEqual(await box.ship([parcel('bad', 5), parcel('good', 2)], deadline()), { sent: 2, dropped: 5, pending: 0 });
});

test('kept bytes are bounded: the oldest payloads are dropped and counted', async () => {
  const c = client(() => 'retry');
  let t = 0;
  const box = new Outbox({ client: c, logger, maxBytes: 10, now: () => t });
  await box.ship([parcel('aaaa', 1), parcel('bbbb', 2)], deadline());
  t = 100;
  const res = await box.ship([parcel('cccc', 4)], deadline());
  assert.deepEqual(res, { sent: 0, dropped: 1, pending: 6, deferred: true });
});

test('mirrors get one copy of each fresh payload, never of kept ones', async () => {
  const c = client((r) => (r.url.startsWith('http://mirror') ? 'ok' : 'retry'));
  let t = 0;
  const box = new Outbox({ client: c, logger, maxBytes: 1024, now: () => t });
  const p = { ...parcel('m'), mirrors: [{ url: 'http://mirror/api', apiKey: 'k2' }] };
  await box.ship([p], deadline());
  t = 10_000;
  await box.ship([], deadline(), true);
  await new Promise((r) => setImmediate(r));
  assert.equal(c.tried.length, 3, 'primary twice, mirror once');
});
