// The extension against a misbehaving intake and platform, end to end under the emulator: an outage
// never stalls the function, and SHUTDOWN uses its budget without overrunning it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FakeIntake } from '@dd-lambda/fake-intake';
import { rig } from './helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const emitted = (intake: FakeIntake): string[] => intake.logs().map((l) => String(l.message)).filter((m) => m.includes('emitted {')).sort();
const counted = (intake: FakeIntake, name: string): number => intake.metricPoints(name).reduce((n, p) => n + p.value, 0);

test('a silent intake (accepts, never answers) costs an invocation at most ~1 s, never a timeout; nothing is lost after it recovers', async () => {
  const r = await rig(undefined, { DD_SERVERLESS_FLUSH_STRATEGY: 'end' }, { timeoutMs: 3000 });
  try {
    assert.equal((await r.emu.init()).status, 'success');
    r.intake.injectFault({ hang: true });
    const post: number[] = [];
    for (const [i, gap] of [[0, 0], [1, 5_000], [2, 35_000]] as const) {
      await sleep(gap);
      const res = await r.emu.invoke({ dsd: `outage.m:1|c|#i:${i}` });
      assert.equal(res.status, 'success', `invocation ${i} after a ${gap} ms gap: ${res.status}`);
      post.push(res.postRuntimeMs ?? Infinity);
    }
    // The first flush waits out the transport's 1 s response timeout; later ones find the breaker open.
    assert.ok(post.every((ms) => ms < 1_600), `post-runtime per invocation: ${post.map((ms) => ms.toFixed(0)).join(', ')} ms`);
    assert.ok((post[1] ?? Infinity) < 500 && (post[2] ?? Infinity) < 500, `breaker open: ${post.join(', ')}`);

    r.intake.clearFaults();
    // After the backoff a flush probes in the background; its success lets the next flush send everything kept.
    await sleep(5_000);
    for (const i of [3, 4]) assert.equal((await r.emu.invoke({ dsd: `outage.m:1|c|#i:${i}` })).status, 'success');
    await sleep(1_500);
    assert.equal((await r.emu.invoke({ dsd: 'outage.m:1|c|#i:5' })).status, 'success');
    assert.equal(counted(r.intake, 'outage.m'), 6, 'every point of the outage arrived before SHUTDOWN');
    assert.equal(emitted(r.intake).length, 6, 'and every log line');
    const sd = await r.emu.shutdown();
    assert.equal(sd.extensions.find((e) => e.name === 'datadog-agent')?.killed, false);
  } finally {
    await r.done();
  }
});

test('SHUTDOWN with a failing intake keeps retrying inside its budget: the last REPORT and logs arrive', async () => {
  const r = await rig(undefined, { DD_SERVERLESS_FLUSH_STRATEGY: 'periodically,600000' });
  try {
    for (let i = 0; i < 2; i++) assert.equal((await r.emu.invoke({ dsd: 'final.m:1|c' })).status, 'success');
    const last = await r.emu.invoke({ dsd: 'final.m:1|c' });
    // More refusals than three quick tries would outlast: the flush must keep going.
    r.intake.injectFault({ kind: 'logs', status: 503, times: 4 });
    r.intake.injectFault({ kind: 'series', status: 429, times: 4 });
    const sd = await r.emu.shutdown();
    const me = sd.extensions.find((e) => e.name === 'datadog-agent');
    assert.deepEqual([me?.killed, me?.exitCode], [false, 0]);
    assert.equal(counted(r.intake, 'final.m'), 3);
    const reports = r.intake.logs().map((l) => String(l.message)).filter((m) => m.startsWith('REPORT RequestId'));
    assert.ok(reports.some((m) => m.includes(last.requestId)), 'the last REPORT line arrived');
  } finally {
    await r.done();
  }
});

test('SHUTDOWN with a silent intake exits before the deadline with a margin', async () => {
  const r = await rig(undefined, { DD_SERVERLESS_FLUSH_STRATEGY: 'periodically,600000' }, { memoryMB: 128, limits: true });
  try {
    assert.equal((await r.emu.invoke({ dsd: 'silent.m:1|c' })).status, 'success');
    r.intake.injectFault({ hang: true });
    const sd = await r.emu.shutdown();
    const me = sd.extensions.find((e) => e.name === 'datadog-agent');
    assert.equal(me?.killed, false, 'not SIGKILLed at the deadline');
    assert.ok((me?.exitMs ?? Infinity) < sd.budgetMs - 100, `exit after ${me?.exitMs?.toFixed(0)} ms of ${sd.budgetMs}`);
  } finally {
    await r.done();
  }
});
