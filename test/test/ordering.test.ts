// With 2 and 4 workers, lifecycle, DogStatsD and the trace agent sit on different threads: invocation
// N's enhanced metrics (lifecycle → DogStatsD) and aws.lambda span (lifecycle → trace agent) travel over
// peer channels while the supervisor's FLUSH goes to every thread. With `end` flushing, each
// invocation's data must be in that invocation's own flush: checked right after each invoke returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fixtures, rig } from './helpers.js';

const universal = { runtime: { handler: 'index.handler', taskRoot: path.join(fixtures, 'universal-function') } };

for (const workers of [2, 4]) {
  test(`${workers} workers, end flushing: every invocation's enhanced metrics and aws.lambda span ship in its own flush`, async () => {
    const r = await rig(undefined, { DD_SERVERLESS_FLUSH_STRATEGY: 'end', DD_EXTENSION_WORKERS: String(workers) }, { ...universal, memoryMB: 10240 });
    try {
      assert.equal((await r.emu.init()).status, 'success');
      const assignment = r.logs.find('worker assignment');
      assert.equal(assignment?.['workers'], workers, JSON.stringify(assignment));
      for (let i = 1; i <= 6; i++) {
        const res = await r.emu.invoke({ event: {} });
        assert.equal(res.status, 'success');
        const invocations = r.intake.sketchPoints('aws.lambda.enhanced.invocations').reduce((n, p) => n + p.count, 0);
        const spans = r.intake
          .spans()
          .map((s) => s.span)
          .filter((s) => s.name === 'aws.lambda' && s.meta['request_id'] === res.requestId);
        assert.equal(invocations, i, `invocation ${i}: enhanced invocations shipped so far`);
        assert.equal(spans.length, 1, `invocation ${i}: its aws.lambda span shipped with its flush`);
      }
    } finally {
      await r.done();
    }
  });
}
