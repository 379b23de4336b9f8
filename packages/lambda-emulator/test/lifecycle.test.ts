// Integration: a real extension process (the recorder fixture) and a real runtime process
// through INIT, invocations (one timing out), freeze, and SHUTDOWN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LambdaEmulator } from '../src/emulator.js';
import { fnDir, optDir, recorded, telemetryOf, tempFile } from './helpers.js';

function emulator(out: string, opts: ConstructorParameters<typeof LambdaEmulator>[0] = {}, env: Record<string, string> = {}): LambdaEmulator {
  return new LambdaEmulator({
    optDir,
    runtime: { handler: 'index.handler', taskRoot: fnDir },
    timeoutMs: 1500,
    memoryMB: 512,
    ...opts,
    env: { RECORDER_OUT: out, ...env },
  });
}

test('INIT, three invocations (one timing out) and SHUTDOWN, as the extension sees them', async () => {
  const out = tempFile('rec.jsonl');
  const emu = emulator(out);
  const init = await emu.init();
  assert.equal(init.status, 'success');
  const [timing] = init.extensions;
  assert.equal(timing!.name, 'recorder');
  assert.ok(timing!.registerMs! <= timing!.subscribeMs! && timing!.subscribeMs! <= timing!.readyMs!, JSON.stringify(timing));

  const first = await emu.invoke({ action: 'none' });
  const slow = await emu.invoke({ action: 'sleep', ms: 5000 });
  const third = await emu.invoke({ action: 'multiline' });
  const sd = await emu.shutdown();
  await emu.close();

  assert.equal(first.status, 'success');
  assert.ok(first.postRuntimeMs !== undefined && first.postRuntimeMs >= 0);
  assert.equal(slow.status, 'timeout');
  assert.equal(slow.error?.errorType, 'Sandbox.Timedout');
  assert.equal(slow.reset, true);
  assert.ok(slow.durationMs >= 1500);
  assert.equal(third.status, 'success');
  assert.equal(third.init?.status, 'success', 'the sandbox re-initialised after the timeout');
  assert.equal(sd.reason, 'spindown');
  assert.deepEqual(
    sd.extensions.map((e) => [e.name, e.killed, e.exitCode]),
    [['recorder', false, 0]],
  );

  const rows = recorded(out);
  // Two sandboxes: the first registered, saw INVOKE x2 then SHUTDOWN(timeout); the second INVOKE then SHUTDOWN(spindown).
  const events = rows.filter((r) => r.kind === 'event').map((r) => r.event as Record<string, unknown>);
  assert.deepEqual(
    events.map((e) => (e.eventType === 'SHUTDOWN' ? `SHUTDOWN:${e.shutdownReason}` : `INVOKE:${e.requestId}`)),
    [`INVOKE:${first.requestId}`, `INVOKE:${slow.requestId}`, 'SHUTDOWN:timeout', `INVOKE:${third.requestId}`, 'SHUTDOWN:spindown'],
  );
  const regs = rows.filter((r) => r.kind === 'register');
  assert.equal(regs.length, 2);
  assert.deepEqual(regs[0]!.env, { fn: 'test_function', mem: '512', initType: 'on-demand' }, '_HANDLER is hidden from extensions');
  assert.equal(rows.filter((r) => r.kind === 'exit').length, 2);

  const telemetry = telemetryOf(rows);
  const platform = telemetry.filter((t) => t.type.startsWith('platform.')).map((t) => t.type);
  assert.deepEqual(platform, [
    'platform.initStart',
    'platform.telemetrySubscription',
    'platform.initRuntimeDone',
    'platform.extension',
    'platform.initReport',
    'platform.start',
    'platform.runtimeDone',
    'platform.report',
    'platform.start',
    'platform.runtimeDone',
    'platform.report',
    'platform.initStart',
    'platform.telemetrySubscription',
    'platform.initRuntimeDone',
    'platform.extension',
    'platform.initReport',
    'platform.start',
    'platform.runtimeDone',
    'platform.report',
  ]);
  const reports = telemetry.filter((t) => t.type === 'platform.report').map((t) => t.record as unknown as { requestId: string; status: string; metrics: Record<string, number> });
  assert.deepEqual(
    reports.map((r) => [r.requestId, r.status]),
    [
      [first.requestId, 'success'],
      [slow.requestId, 'timeout'],
      [third.requestId, 'success'],
    ],
  );
  assert.equal(reports[0]!.metrics.memorySizeMB, 512);
  assert.ok(reports[0]!.metrics.maxMemoryUsedMB! > 0, 'measured from the processes');
  assert.ok(reports[0]!.metrics.initDurationMs! > 0, 'initDurationMs on the first report after init');
  assert.equal(reports[1]!.metrics.initDurationMs, undefined);
  assert.ok(reports[2]!.metrics.initDurationMs! > 0);
  assert.equal(reports[0]!.metrics.billedDurationMs, Math.ceil(reports[0]!.metrics.durationMs!));
  const runtimeDone = telemetry.filter((t) => t.type === 'platform.runtimeDone').map((t) => t.record as unknown as Record<string, unknown>);
  assert.deepEqual(
    runtimeDone.map((r) => r.status),
    ['success', 'timeout', 'success'],
  );
  assert.deepEqual(
    (runtimeDone[0]!.spans as { name: string }[]).map((s) => s.name),
    ['responseLatency', 'responseDuration'],
  );
  const fnLines = telemetry.filter((t) => t.type === 'function').map((t) => t.record as unknown as string);
  assert.ok(fnLines.some((l) => l.includes(`${third.requestId}\tINFO\tline one\nline two`)));
  assert.ok(telemetry.some((t) => t.type === 'extension' && t.record === 'recorder extension ready'));
  // SHUTDOWN comes after the last invocation's report reached the extension.
  const lastReportAt = rows.find(
    (r) =>
      r.kind === 'telemetry' && (r.batch as { type: string; record: { requestId?: string } }[]).some((t) => t.type === 'platform.report' && t.record.requestId === third.requestId),
  )!.at;
  const lastShutdownAt = rows.filter((r) => r.kind === 'event').at(-1)!.at;
  assert.ok(lastReportAt <= lastShutdownAt);
});

test('post-runtime duration measures the extension finishing after the runtime', async () => {
  const out = tempFile('rec.jsonl');
  const emu = emulator(out, {}, { RECORDER_POST_INVOKE_MS: '120' });
  try {
    const r = await emu.invoke({ action: 'none' });
    assert.equal(r.status, 'success');
    assert.ok(r.postRuntimeMs! >= 100, `postRuntimeMs ${r.postRuntimeMs}`);
    assert.ok(r.durationMs >= r.runtimeMs! + r.postRuntimeMs! - 1);
  } finally {
    await emu.close();
  }
});

test('freeze stops every sandbox process between invocations and thaws them for the next', async () => {
  const out = tempFile('rec.jsonl');
  const emu = emulator(out, { freeze: true });
  const state = (pid: number | undefined): string => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[0]!;
  try {
    await emu.invoke({ action: 'none' });
    assert.equal(emu.frozen, true);
    const pids = emu.sandboxPids();
    assert.equal(state(pids.runtime), 'T');
    assert.equal(state(pids.extensions.recorder), 'T');
    const second = await emu.invoke({ action: 'none' });
    assert.equal(second.status, 'success');
    assert.equal(second.init, undefined, 'same sandbox, no re-init');
  } finally {
    await emu.close();
  }
  // Telemetry of the second invocation still reached the extension (after the thaw for SHUTDOWN).
  const reports = telemetryOf(recorded(out)).filter((t) => t.type === 'platform.report');
  assert.equal(reports.length, 2);
});

test('an extension that ignores SHUTDOWN is killed at the 2000 ms deadline', async () => {
  const out = tempFile('rec.jsonl');
  const emu = emulator(out, {}, { RECORDER_SHUTDOWN_MS: '10000' });
  try {
    await emu.invoke({ action: 'none' });
    const sd = await emu.shutdown();
    assert.equal(sd.budgetMs, 2000);
    assert.ok(sd.durationMs >= 1900);
    assert.deepEqual(
      sd.extensions.map((e) => [e.name, e.killed]),
      [['recorder', true]],
    );
  } finally {
    await emu.close();
  }
  assert.equal(recorded(out).filter((r) => r.kind === 'exit').length, 0);
});

test('managed instances: INVOKE registration is refused; SHUTDOWN-only extensions see concurrent invocations through telemetry', async () => {
  const refused = tempFile('rec.jsonl');
  const bad = emulator(refused, { initializationType: 'lambda-managed-instances' }, { RECORDER_SCHEMA: '2025-01-29' });
  try {
    const init = await bad.init();
    assert.equal(init.status, 'error');
    assert.equal(init.errorType, 'Extension.Crash');
    const reg = recorded(refused).find((r) => r.kind === 'register')!;
    assert.equal(reg.status, 403);
    assert.equal((reg.body as Record<string, unknown>).errorType, 'Extension.InvalidEventType');
  } finally {
    await bad.close();
  }

  const out = tempFile('rec.jsonl');
  const emu = emulator(out, { initializationType: 'lambda-managed-instances', maxConcurrency: 3 }, { RECORDER_SCHEMA: '2025-01-29', RECORDER_EVENTS: 'SHUTDOWN' });
  try {
    assert.equal((await emu.init()).status, 'success');
    const results = await Promise.all([1, 2, 3].map(() => emu.invoke({ action: 'sleep', ms: 300 })));
    assert.deepEqual(
      results.map((r) => r.status),
      ['success', 'success', 'success'],
    );
    const types = emu.telemetry.events.filter((e) => e.type === 'platform.start' || e.type === 'platform.report').map((e) => e.type);
    assert.deepEqual(types.slice(0, 3), ['platform.start', 'platform.start', 'platform.start'], 'the three ran at once');
    assert.ok(!emu.telemetry.events.some((e) => e.type === 'platform.runtimeDone'));
    const report = emu.telemetry.events.find((e) => e.type === 'platform.report')!.record as { metrics: Record<string, number> };
    assert.deepEqual(Object.keys(report.metrics), ['durationMs']);
  } finally {
    await emu.close();
  }
  const rows = recorded(out);
  assert.equal(rows.find((r) => r.kind === 'register')!.status, 200);
  assert.deepEqual(
    rows.filter((r) => r.kind === 'event').map((r) => (r.event as { eventType: string }).eventType),
    ['SHUTDOWN'],
  );
  assert.equal(telemetryOf(rows).filter((t) => t.type === 'platform.report').length, 3);
});
