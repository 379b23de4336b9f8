// The logs pipeline end to end: a function's text and JSON lines through the emulator's Telemetry
// API, the built extension, and the fake intake decoding the logs strictly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { LogEntry } from '@dd-lambda/fake-intake';
import { fixtures, rig } from './helpers.js';

const requestIdOf = (l: LogEntry): unknown => (l['lambda'] as { request_id?: unknown } | undefined)?.request_id;

test('every line of 3 invocations arrives with its request id and status, with START/END/REPORT, a card masked, the last by SHUTDOWN', async () => {
  const rules = JSON.stringify([{ type: 'mask_sequences', name: 'cards', pattern: '\\d{4}(?:[ -]?\\d{4}){3}', replace_placeholder: '[card]' }]);
  // A periodic strategy far longer than the test: only SHUTDOWN ships the last invocation's lines.
  const r = await rig(
    undefined,
    { DD_LOGS_CONFIG_PROCESSING_RULES: rules, DD_SERVICE: 'Logs-Svc', DD_SERVERLESS_FLUSH_STRATEGY: 'periodically,600000' },
    { runtime: { handler: 'index.handler', taskRoot: path.join(fixtures, 'logs-function') } },
  );
  try {
    assert.equal((await r.emu.init()).status, 'success');
    const ids: string[] = [];
    for (let n = 1; n <= 3; n++) {
      const res = await r.emu.invoke({ n });
      assert.equal(res.status, 'success');
      ids.push(res.requestId);
    }
    await r.emu.shutdown();
    const logs = r.intake.logs();
    const find = (text: string): LogEntry | undefined => logs.find((l) => String(l.message).includes(text));
    for (const [i, id] of ids.entries()) {
      const n = i + 1;
      for (const [text, status] of [
        [`plain line ${n}`, 'info'],
        [`warning line ${n}`, 'warn'],
        [`error line ${n}`, 'error'],
        [`json line ${n}`, 'debug'],
        [`multi ${n} first\nmulti ${n} second`, 'info'],
      ] as const) {
        const l = find(text);
        assert.ok(l, `"${text}" reached the intake`);
        assert.equal(requestIdOf(l), id, text);
        assert.equal(l.status, status, text);
      }
      assert.match(String(find(`payment ${n}`)?.message), /with card \[card\]$/);
      assert.ok(find(`START RequestId: ${id}`));
      assert.ok(find(`END RequestId: ${id}`));
      assert.match(String(find(`REPORT RequestId: ${id}`)?.message), /Duration: [\d.]+ ms .*Billed Duration: \d+ ms Memory Size: \d+ MB Max Memory Used: \d+ MB/);
      assert.ok(find(`json line ${n}`)?.ddtags?.split(',').includes(`n:${n}`));
    }
    assert.equal(requestIdOf(find('init: loading config') as LogEntry), ids[0], 'an init line waits for the first START');
    assert.ok(logs.every((l) => l.ddsource === 'lambda' && l.service === 'logs-svc' && l.hostname?.startsWith('arn:aws:lambda:') && l['nested'] === true));
    assert.ok(!logs.some((l) => String(l.message).includes('4111')), 'no card number left');
    assert.equal(r.intake.requests({ accepted: false }).length, 0);
    const down = r.logs.find('shutdown complete') as { totals?: { flushes?: number } } | undefined;
    assert.ok(down);
  } finally {
    await r.done();
  }
});
