// The DogStatsD pipeline end to end: the real hot-shots and datadog-lambda-js inside a function
// under the emulator, the built extension, and the fake intake decoding series, sketches, events
// and check runs strictly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { FakeIntake } from '@dd-lambda/fake-intake';
import { fixtures, rig } from './helpers.js';

const sum = (xs: { value: number }[]): number => xs.reduce((n, p) => n + p.value, 0);
const sketchCount = (intake: FakeIntake, metric: string): number => intake.sketchPoints(metric).reduce((n, p) => n + p.count, 0);

for (const variant of [
  { name: 'unbuffered', maxBufferSize: 0, env: {} },
  { name: 'maxBufferSize 1432, DD_ENV set', maxBufferSize: 1432, env: { DD_ENV: 'staging' } },
]) {
  test(`hot-shots (${variant.name}): every type, sampling, timestamps, events and service checks arrive`, async () => {
    const r = await rig(undefined, variant.env, { runtime: { handler: 'index.handler', taskRoot: path.join(fixtures, 'hot-shots-function') } });
    try {
      assert.equal((await r.emu.init()).status, 'success');
      const ts = Math.floor(Date.now() / 1000) - 120;
      for (let i = 0; i < 2; i++) {
        const res = await r.emu.invoke({ maxBufferSize: variant.maxBufferSize, ts });
        assert.equal(res.status, 'success');
        assert.deepEqual(JSON.parse(res.payload?.toString() ?? '{}'), { errors: [] });
      }
      await r.emu.shutdown();
      const { intake } = r;

      const count = intake.metricPoints('hs.count');
      assert.equal(sum(count), 6);
      assert.ok(count.every((p) => p.kind === 'count'));
      assert.equal(sum(intake.metricPoints('hs.sampled')), 4, '@0.5 doubles each increment');
      assert.deepEqual(
        intake
          .metricPoints('hs.gauge')
          .map((p) => [p.kind, p.value])
          .at(-1),
        ['gauge', 1.5],
      );
      assert.deepEqual(Math.max(...intake.metricPoints('hs.set').map((p) => p.value)), 2);
      assert.equal(sketchCount(intake, 'hs.timer'), 2);
      assert.equal(sketchCount(intake, 'hs.hist'), 2);
      const dist = intake.sketchPoints('hs.dist');
      assert.equal(
        dist.reduce((n, p) => n + p.count, 0),
        2,
      );
      assert.ok(dist.every((p) => p.timestamp === ts - (ts % 10) && p.min === 9 && p.max === 9));

      const tags = count[0]?.tags ?? [];
      assert.ok(tags.includes('team:a') && tags.includes('functionname:test_function') && tags.includes('dd_extension_version:0.1.0'), tags.join(','));
      assert.ok(!tags.some((t) => t.startsWith('dd.internal.')), 'internal tags are not shipped');
      if ('DD_ENV' in variant.env) assert.equal(tags.filter((t) => t === 'env:staging').length, 1, 'env from hot-shots and from the function tags appears once');

      const events = intake.events();
      assert.equal(events.length, 2);
      assert.deepEqual([events[0]?.title, events[0]?.text, events[0]?.alert_type], ['Title ü', 'line1\nline2', 'error']);
      const checks = intake.checkRuns();
      assert.equal(checks.length, 2);
      assert.deepEqual([checks[0]?.check, checks[0]?.status, checks[0]?.message], ['svc.check', 1, 'msg | here']);

      // hot-shots' own telemetry is forwarded like the agent does.
      assert.ok(intake.series().some((s) => s.metric.startsWith('datadog.dogstatsd.client.')));
      assert.equal(r.logs.find('DogStatsD input dropped since the last flush (malformed lines, context or event cap, tags over 100)'), undefined);
      assert.equal(intake.requests({ accepted: false }).length, 0, 'the intake rejected nothing');
    } finally {
      await r.done();
    }
  });
}
