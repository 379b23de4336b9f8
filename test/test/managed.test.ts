// Lambda Managed Instances end to end, under the emulator's managed mode (which refuses an INVOKE
// registration and any Telemetry schema but 2025-01-29, as Lambda does): concurrent invocations, the
// background flush at the configured interval, nothing of ours between the runtime's answer and the
// caller, enhanced metrics without cold_start, and the sandbox's /proc peaks at SHUTDOWN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rig } from './helpers.js';

const MANAGED = { initializationType: 'lambda-managed-instances' as const, maxConcurrency: 4 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('managed instances: SHUTDOWN-only registration, concurrent invocations, a background flush every DD_SERVERLESS_FLUSH_STRATEGY interval, no post-runtime', async () => {
  const r = await rig(undefined, { DD_SERVERLESS_FLUSH_STRATEGY: 'continuously,1000' }, MANAGED);
  try {
    const init = await r.emu.init();
    assert.equal(init.status, 'success', 'the emulator refuses INVOKE registration and other schemas in managed mode');
    const ext = init.extensions.find((e) => e.name === 'datadog-agent');
    assert.ok(ext?.subscribeMs !== undefined, 'subscribed to telemetry (schema 2025-01-29)');
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => r.emu.invoke({ dsd: `managed.orders:${i + 1}|c|#n:${i}` })));
    assert.ok(results.every((x) => x.status === 'success'));
    // The caller gets the answer when the runtime gives it: no extension sits in between.
    assert.ok(
      results.every((x) => (x.postRuntimeMs ?? 0) < 50),
      JSON.stringify(results.map((x) => x.postRuntimeMs)),
    );
    // Without SHUTDOWN, the background flush ships what the invocations sent.
    const until = Date.now() + 8_000;
    while (Date.now() < until && r.intake.metricPoints('managed.orders').reduce((n, p) => n + p.value, 0) < 21) await sleep(100);
    assert.equal(
      r.intake.metricPoints('managed.orders').reduce((n, p) => n + p.value, 0),
      21,
      'shipped before SHUTDOWN',
    );
    await sleep(1_500);
    const invocations = r.intake.sketchPoints('aws.lambda.enhanced.invocations');
    assert.equal(
      invocations.reduce((n, p) => n + p.count, 0),
      6,
    );
    assert.ok(
      invocations.every((p) => !p.tags.some((t) => t.startsWith('cold_start:'))),
      'no cold_start tag in managed mode',
    );
    assert.equal(r.logs.all('INVOKE received in managed-instance mode').length, 0);
    await r.emu.shutdown();
    // At SHUTDOWN: the sandbox's peak usage and its limits, once.
    const fds = r.intake.sketchPoints('aws.lambda.enhanced.fd_use');
    assert.equal(fds.length, 1);
    assert.ok((fds[0]?.max ?? 0) > 0);
    assert.equal(r.intake.sketchPoints('aws.lambda.enhanced.threads_max').length, 1);
    assert.equal(r.intake.requests({ accepted: false }).length, 0);
  } finally {
    await r.done();
  }
});

test('managed instances: another flush strategy is replaced by the 30 s continuous flush (warned); SHUTDOWN still ships everything', async () => {
  const r = await rig(undefined, { DD_SERVERLESS_FLUSH_STRATEGY: 'end' }, MANAGED);
  try {
    assert.equal((await r.emu.init()).status, 'success');
    await Promise.all([1, 2, 3].map((n) => r.emu.invoke({ dsd: `managed.kept:${n}|c` })));
    await sleep(1_500);
    assert.equal(r.intake.metricPoints('managed.kept').length, 0, 'nothing before the 30 s tick');
    assert.equal(r.logs.all('managed instances flush continuously; DD_SERVERLESS_FLUSH_STRATEGY ignored').length, 1);
    await r.emu.shutdown();
    assert.equal(
      r.intake.metricPoints('managed.kept').reduce((n, p) => n + p.value, 0),
      6,
    );
  } finally {
    await r.done();
  }
});
