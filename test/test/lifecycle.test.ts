// The invocation lifecycle end to end: the built layer under the emulator, a function that speaks
// universal instrumentation over raw HTTP as the Java tracer does, and the fake intake. Enhanced
// metrics are checked against the reports the emulator itself emitted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import type { FakeIntake } from '@dd-lambda/fake-intake';
import type { TelemetryEvent } from '@dd-lambda/lambda-emulator';
import { fixtures, rig } from './helpers.js';

const universal = { runtime: { handler: 'index.handler', taskRoot: path.join(fixtures, 'universal-function') } };
const sketch = (intake: FakeIntake, name: string): { count: number; sum: number } =>
  intake.sketchPoints(`aws.lambda.enhanced.${name}`).reduce((a, p) => ({ count: a.count + p.count, sum: a.sum + p.sum }), { count: 0, sum: 0 });
const records = (events: readonly TelemetryEvent[], type: string): Record<string, unknown>[] =>
  events.filter((e) => e.type === type).map((e) => e.record as Record<string, unknown>);
const metric = (r: Record<string, unknown>, k: string): number => (r['metrics'] as Record<string, number>)[k] as number;
const near = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-6 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

function get(port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p }, (res) => {
        let s = '';
        res.on('data', (c) => (s += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: s }));
      })
      .on('error', reject);
  });
}

test("universal instrumentation over raw HTTP: one extension-made aws.lambda with the tracer's ids, error and status code", async () => {
  const r = await rig(undefined, { DD_SERVERLESS_FLUSH_STRATEGY: 'end' }, universal);
  try {
    assert.equal((await r.emu.init()).status, 'success');
    const hello = await get(Number(r.env['DD_EXTENSION_LIFECYCLE_PORT']), '/lambda/hello');
    assert.deepEqual(hello, { status: 200, body: '{}' }, 'datadog-lambda-go needs the hello answered');
    const event = { headers: { 'x-datadog-trace-id': '1111', 'x-datadog-parent-id': '2222', 'x-datadog-sampling-priority': '2' } };
    const res = await r.emu.invoke({ event, fail: 'boom', statusCode: 500 });
    assert.equal(res.status, 'success');
    const out = JSON.parse(res.payload.toString()) as { traceId: string; spanId: string; childId: string; startHeaders: Record<string, string> };
    assert.deepEqual([out.startHeaders['x-datadog-trace-id'], out.startHeaders['x-datadog-sampling-priority'], out.startHeaders['x-datadog-parent-id']], ['1111', '2', undefined]);
    await r.emu.shutdown();

    const spans = r.intake.spans().map((s) => s.span);
    const lambda = spans.filter((s) => s.name === 'aws.lambda');
    assert.equal(lambda.length, 1, 'exactly one aws.lambda: the placeholder is replaced, not shipped');
    const s = lambda[0];
    assert.ok(s);
    assert.deepEqual(
      [s.traceID, s.spanID, s.parentID, s.resource, s.service, s.type, s.error],
      [1111n, BigInt(out.spanId), 2222n, 'test_function', 'test_function', 'serverless', 1],
    );
    assert.deepEqual(
      [
        s.meta['http.status_code'],
        s.meta['error.message'],
        s.meta['error.type'],
        s.meta['error.stack']?.split('\n')[0],
        s.meta['request_id'],
        s.meta['cold_start'],
        s.meta['language'],
        s.meta['_dd.origin'],
      ],
      ['500', 'boom', 'java.lang.RuntimeException', 'java.lang.RuntimeException: boom', res.requestId, 'true', 'jvm', 'lambda'],
    );
    assert.equal(s.metrics['_sampling_priority_v1'], 2);
    assert.ok(s.meta['functionname'] === 'test_function' && s.meta['region'] !== undefined, 'function tags like every span');
    const runtimeDone = records(r.emu.telemetry.events, 'platform.runtimeDone')[0];
    assert.equal(Number(s.duration) / 1e6, metric(runtimeDone ?? {}, 'durationMs'), "duration = the platform's runtime duration");
    // The tracer's child keeps the placeholder's id as its parent, now aws.lambda's.
    const child = spans.find((x) => x.name === 'db.query');
    assert.deepEqual([child?.parentID, child?.traceID], [BigInt(out.spanId), 1111n]);
    assert.equal(spans.filter((x) => x.resource === 'dd-tracer-serverless-span').length, 0);
    // The cold start joins this first invocation's trace.
    const cold = spans.find((x) => x.name === 'aws.lambda.cold_start');
    assert.deepEqual([cold?.traceID, cold?.parentID], [1111n, BigInt(out.spanId)]);
    assert.equal(sketch(r.intake, 'errors').count, 1, 'the end-invocation error counts once');
  } finally {
    await r.done();
  }
});

test("enhanced metrics for 5 invocations equal the emulator's reports: counts exact, durations equal", async () => {
  const r = await rig(undefined, {}, { memoryMB: 256 });
  try {
    assert.equal((await r.emu.init()).status, 'success');
    for (let i = 0; i < 5; i++) assert.equal((await r.emu.invoke({ dsd: `n:${i}|c` })).status, 'success');
    await r.emu.shutdown();
    const ev = r.emu.telemetry.events;
    const reports = records(ev, 'platform.report');
    const done = records(ev, 'platform.runtimeDone');
    assert.equal(reports.length, 5);
    const total = (rs: Record<string, unknown>[], k: string, scale = 1): number => rs.reduce((a, x) => a + metric(x, k) * scale, 0);
    const { intake } = r;
    for (const [name, want] of [
      ['invocations', 5],
      ['shutdowns', 1],
      ['errors', 0],
      ['timeouts', 0],
      ['out_of_memory', 0],
      ['unused_init', 0],
    ] as const) {
      assert.equal(sketch(intake, name).count, want, name);
    }
    for (const [name, rs, key, scale] of [
      ['duration', reports, 'durationMs', 1 / 1000],
      ['billed_duration', reports, 'billedDurationMs', 1 / 1000],
      ['max_memory_used', reports, 'maxMemoryUsedMB', 1],
      ['memorysize', reports, 'memorySizeMB', 1],
      ['runtime_duration', done, 'durationMs', 1],
      ['produced_bytes', done, 'producedBytes', 1],
    ] as const) {
      const got = sketch(intake, name);
      assert.equal(got.count, 5, `${name} count`);
      near(got.sum, total(rs, key, scale), name);
    }
    near(sketch(intake, 'post_runtime_duration').sum, total(reports, 'durationMs') - total(done, 'durationMs'), 'post_runtime_duration');
    near(
      sketch(intake, 'estimated_cost').sum,
      reports.reduce((a, x) => a + 2e-7 + (metric(x, 'billedDurationMs') / 1000) * (256 / 1024) * 0.0000166667, 0),
      'estimated_cost',
    );
    const init = records(ev, 'platform.initReport')[0];
    assert.deepEqual([sketch(intake, 'init_duration').count], [1]);
    near(sketch(intake, 'init_duration').sum, metric(init ?? {}, 'durationMs') / 1000, 'init_duration');
    const inv = intake.sketchPoints('aws.lambda.enhanced.invocations');
    assert.equal(
      inv.filter((p) => p.tags.includes('cold_start:true')).reduce((a, p) => a + p.count, 0),
      1,
    );
    assert.ok(
      inv.every((p) => p.tags.includes('functionname:test_function') && p.tags.includes('memorysize:256')),
      'function tags on enhanced metrics',
    );
    assert.equal(r.intake.spans().filter((s) => s.span.name === 'aws.lambda').length, 0, 'no tracer, no extension-made aws.lambda');
  } finally {
    await r.done();
  }
});

test('a handler past its timeout: timeouts and errors count once, aws.lambda says "Datadog detected a Timeout"', async () => {
  const r = await rig(undefined, {}, { ...universal, timeoutMs: 1500 });
  try {
    assert.equal((await r.emu.init()).status, 'success');
    const res = await r.emu.invoke({ sleepMs: 5000 });
    assert.equal(res.status, 'timeout');
    assert.ok(res.reset);
    const { intake } = r;
    await waitFor(() => intake.sketchPoints('aws.lambda.enhanced.timeouts').length > 0 && intake.spans().length > 0);
    assert.equal(sketch(intake, 'timeouts').count, 1);
    assert.equal(sketch(intake, 'errors').count, 1);
    assert.equal(sketch(intake, 'invocations').count, 1);
    const lambda = intake
      .spans()
      .map((s) => s.span)
      .filter((s) => s.name === 'aws.lambda');
    assert.equal(lambda.length, 1);
    assert.deepEqual(
      [lambda[0]?.error, lambda[0]?.meta['error.msg'], lambda[0]?.meta['error.type'], lambda[0]?.meta['request_id']],
      [1, 'Datadog detected a Timeout', 'Timeout', res.requestId],
    );
  } finally {
    await r.done();
  }
});

test('a runtime that runs out of memory: out_of_memory counts once (log line and crash), with the error', async () => {
  const r = await rig(undefined, {}, universal);
  try {
    assert.equal((await r.emu.init()).status, 'success');
    const res = await r.emu.invoke({ mode: 'oom' });
    assert.equal(res.status, 'failure');
    const { intake } = r;
    await waitFor(() => intake.sketchPoints('aws.lambda.enhanced.out_of_memory').length > 0);
    assert.equal(sketch(intake, 'out_of_memory').count, 1);
    assert.equal(sketch(intake, 'errors').count, 1);
    const oom = intake.sketchPoints('aws.lambda.enhanced.out_of_memory')[0];
    assert.ok(oom?.tags.includes('cold_start:true'));
  } finally {
    await r.done();
  }
});

/** A reset sandbox flushes in its own SHUTDOWN; the emulator returns before that is over. */
async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond() && Date.now() < until) await new Promise((res) => setTimeout(res, 20));
}
