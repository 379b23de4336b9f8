// The pipeline against the fake intake, which decodes series, sketches, events and check runs strictly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { loadConfig } from '@dd-lambda/config';
import { createLogger } from '@dd-lambda/logger';
import { buildFakeIntake } from '@dd-lambda/fake-intake';
import type { FakeIntake } from '@dd-lambda/fake-intake';
import { buildDogStatsD } from '../src/unit.js';
import { keyLowerBound } from '../src/sketch.js';
import type { DogStatsD } from '../src/unit.js';

const API_KEY = 'a'.repeat(32);
const TAGS = { functionname: 'fn', region: 'us-east-1', account_id: '123456789012', function_arn: 'arn:aws:lambda:us-east-1:123456789012:function:fn' };
const logger = createLogger({ level: 'silent', bindings: { component: 'dogstatsd' } });
const NOW = 1_700_000_005_000;

async function setup(env: Record<string, string> = {}, url?: string): Promise<{ intake: FakeIntake; dsd: DogStatsD; close: () => Promise<void> }> {
  const intake = buildFakeIntake({ apiKey: API_KEY });
  const base = url ?? (await intake.listen());
  const { config } = loadConfig({ DD_API_KEY: API_KEY, DD_DD_URL: base, AWS_LAMBDA_FUNCTION_NAME: 'fn', ...env }, { readYaml: false });
  const dsd = buildDogStatsD({ config, tags: TAGS, logger, now: () => NOW });
  return { intake, dsd, close: () => intake.close() };
}
const flush = (dsd: DogStatsD, ms = 5_000, reason: 'end' | 'shutdown' = 'end'): ReturnType<DogStatsD['flush']> => dsd.flush({ reason, deadline: Date.now() + ms });

test('series, sketches, events and check runs reach the intake with function tags', async () => {
  const { intake, dsd, close } = await setup({ DD_LAMBDA_CUSTOMER_METRICS_EXCLUDE_TAGS: 'region' });
  try {
    const one = Buffer.from('hs.count:3|c|#g:v\nhs.gauge:1.5|g\nhs.set:u1|s');
    const two = Buffer.from('hs.set:u2|s\nhs.dist:9|d|T1700000000|#g:v,d:y');
    dsd.datagrams?.(Buffer.concat([one, two]), [one.length, two.length]);
    dsd.ingest('_e{5,4}:Title|body|t:error|#e:1\n_sc|svc.check|2|#sc:1|m:down');
    const res = await flush(dsd);
    assert.deepEqual(res, { sent: 6, dropped: 0, pending: 0 }); // 3 series, 1 sketch sample, 1 event, 1 check
    const count = intake.metricPoints('hs.count')[0];
    assert.deepEqual([count?.kind, count?.value, count?.timestamp, count?.series.interval], ['count', 3, 1_700_000_000, 10]);
    assert.deepEqual(count?.tags, ['account_id:123456789012', 'function_arn:arn:aws:lambda:us-east-1:123456789012:function:fn', 'functionname:fn', 'g:v']);
    assert.deepEqual([intake.metricPoints('hs.gauge')[0]?.kind, intake.metricPoints('hs.gauge')[0]?.value], ['gauge', 1.5]);
    assert.deepEqual([intake.metricPoints('hs.set')[0]?.kind, intake.metricPoints('hs.set')[0]?.value], ['gauge', 2]);
    const sk = intake.sketchPoints('hs.dist')[0];
    assert.ok(sk);
    assert.deepEqual([sk.timestamp, sk.count, sk.min, sk.max, sk.sum, sk.avg, sk.host], [1_700_000_000, 1, 9, 9, 9, 9, '']);
    assert.equal(sk.k.length, 1);
    assert.ok(Math.abs(keyLowerBound(sk.k[0] ?? 0) - 9) / 9 < 1 / 128);
    assert.ok(sk.tags.includes('d:y') && sk.tags.includes('functionname:fn') && !sk.tags.some((t) => t.startsWith('region:')));
    const ev = intake.events()[0];
    assert.deepEqual([ev?.title, ev?.text, ev?.alert_type], ['Title', 'body', 'error']);
    assert.ok(ev?.tags?.includes('e:1'));
    const sc = intake.checkRuns()[0];
    assert.deepEqual([sc?.check, sc?.status, sc?.message, sc?.host_name], ['svc.check', 2, 'down', TAGS.function_arn]);
    assert.equal(intake.requests({ kind: 'series' })[0]?.headers['content-type'], 'application/json');
  } finally {
    await close();
  }
});

test('an empty flush sends nothing', async () => {
  const { intake, dsd, close } = await setup();
  try {
    assert.deepEqual(await flush(dsd), { sent: 0, dropped: 0, pending: 0 });
    assert.equal(intake.requests().length, 0);
  } finally {
    await close();
  }
});

test('5xx: payloads are kept, not retried while the intake backs off, and sent by the final flush; nothing is lost', async () => {
  const { intake, dsd, close } = await setup();
  try {
    intake.injectFault({ kind: 'series', status: 503, times: 3 });
    dsd.ingest('a:1|c\nb:2|g');
    const first = await flush(dsd);
    assert.deepEqual(first, { sent: 0, dropped: 0, pending: 2 });
    assert.equal(intake.requests({ kind: 'series' }).length, 1, 'one try per flush: retries happen across flushes');
    dsd.ingest('a:1|c');
    const backingOff = await flush(dsd);
    assert.deepEqual(backingOff, { sent: 0, dropped: 0, pending: 3 });
    assert.equal(intake.requests({ kind: 'series' }).length, 1, 'nothing tried during the backoff');
    // The final flush keeps trying inside its deadline: two more 503s, then the intake takes it.
    const final = await flush(dsd, 5_000, 'shutdown');
    assert.deepEqual(final, { sent: 3, dropped: 0, pending: 0 });
    const a = intake.metricPoints('a');
    assert.equal(
      a.reduce((n, p) => n + p.value, 0),
      2,
    );
  } finally {
    await close();
  }
});

test('4xx: the payload is dropped and counted, the others still arrive', async () => {
  const { intake, dsd, close } = await setup();
  try {
    intake.injectFault({ kind: 'series', status: 400, times: 1 });
    dsd.ingest('a:1|c\nd:5|d');
    const res = await flush(dsd);
    assert.deepEqual(res, { sent: 1, dropped: 1, pending: 0 });
    assert.equal(intake.sketchPoints('d').length, 1);
  } finally {
    await close();
  }
});

test('malformed lines are counted as dropped input and never stop the good ones', async () => {
  const { intake, dsd, close } = await setup();
  try {
    dsd.ingest('good:1|c\n\u0000\u0001garbage\nbad:x|c\nalso.good:2|g|#k:v');
    const res = await flush(dsd);
    assert.deepEqual(res, { sent: 2, dropped: 2, pending: 0 });
    assert.deepEqual(
      intake
        .series()
        .map((s) => s.metric)
        .sort(),
      ['also.good', 'good'],
    );
  } finally {
    await close();
  }
});

test('a dead intake: the flush ends by its deadline and keeps the data', async () => {
  // A port with nothing listening.
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const { dsd, close } = await setup({}, `http://127.0.0.1:${port}`);
  try {
    dsd.ingest('x:1|c');
    const res = await flush(dsd, 1_000);
    assert.deepEqual(res, { sent: 0, dropped: 0, pending: 1 });
  } finally {
    await close();
  }
});

test('proxy lines and extension points arrive through message()', async () => {
  const { intake, dsd, close } = await setup();
  try {
    const lines = new TextEncoder().encode('my.count:2|c|#version:1.0.0,service:svc,env:test,a:b|c:in-1\n');
    dsd.message?.('trace-agent', { t: 'DSD_LINES', data: lines.buffer.slice(0) as ArrayBuffer });
    dsd.message?.('lifecycle', {
      t: 'METRICS',
      points: [{ name: 'aws.lambda.enhanced.invocations', kind: 'count', value: 1, tags: ['cold_start:true'], timestamp: 1_700_000_001 }],
    });
    await flush(dsd);
    assert.equal(intake.metricPoints('my.count')[0]?.value, 2);
    const inv = intake.metricPoints('aws.lambda.enhanced.invocations');
    assert.equal(inv.length, 1);
    assert.ok(inv[0]?.tags.includes('cold_start:true') && inv[0]?.tags.includes('region:us-east-1'));
  } finally {
    await close();
  }
});

test('additional endpoints get a copy with their own key', async () => {
  const other = buildFakeIntake({ apiKey: 'b'.repeat(32) });
  const otherUrl = await other.listen();
  const { intake, dsd, close } = await setup({ DD_ADDITIONAL_ENDPOINTS: JSON.stringify({ [otherUrl]: ['b'.repeat(32)] }) });
  try {
    dsd.ingest('x:1|c');
    await flush(dsd);
    await other.waitFor(() => other.series().length > 0, 2_000);
    assert.equal(intake.series().length, 1);
    assert.equal(other.series()[0]?.metric, 'x');
  } finally {
    await close();
    await other.close();
  }
});

test("the library's invocations are dropped (the lifecycle unit counts them), its errors kept; all kept with DD_ENHANCED_METRICS=false", async () => {
  const { intake, dsd, close } = await setup();
  try {
    for (let i = 0; i < 3; i++) {
      dsd.message?.('lifecycle', { t: 'METRICS', points: [{ name: 'aws.lambda.enhanced.invocations', kind: 'distribution', value: 1, tags: [], timestamp: 1_700_000_004 }] });
      dsd.ingest('aws.lambda.enhanced.invocations:1|d|#functionname:fn,cold_start:false|T1700000004');
      dsd.ingest('aws.lambda.enhanced.errors:1|d|#functionname:fn|T1700000004');
    }
    await flush(dsd);
    const inv = intake.sketchPoints('aws.lambda.enhanced.invocations');
    assert.equal(
      inv.reduce((n, p) => n + p.count, 0),
      3,
    );
    assert.equal(
      intake.sketchPoints('aws.lambda.enhanced.errors').reduce((n, p) => n + p.count, 0),
      3,
    );
    assert.equal(dsd.aggregator.counters.deduplicated, 3);
  } finally {
    await close();
  }
  const off = await setup({ DD_ENHANCED_METRICS: 'false' });
  try {
    off.dsd.ingest('aws.lambda.enhanced.invocations:1|d');
    await flush(off.dsd);
    assert.equal(
      off.intake.sketchPoints('aws.lambda.enhanced.invocations').reduce((n, p) => n + p.count, 0),
      1,
    );
  } finally {
    await off.close();
  }
});

test('DD_STATSD_METRIC_NAMESPACE prefixes DogStatsD metrics; an invalid one is ignored', async () => {
  const ok = await setup({ DD_STATSD_METRIC_NAMESPACE: 'shop.' });
  try {
    ok.dsd.ingest('orders:1|c');
    await flush(ok.dsd);
    assert.deepEqual(
      ok.intake.series().map((s) => s.metric),
      ['shop.orders'],
    );
  } finally {
    await ok.close();
  }
  const bad = await setup({ DD_STATSD_METRIC_NAMESPACE: '9bad-ns' });
  try {
    bad.dsd.ingest('orders:1|c');
    await flush(bad.dsd);
    assert.deepEqual(
      bad.intake.series().map((s) => s.metric),
      ['orders'],
    );
  } finally {
    await bad.close();
  }
});
