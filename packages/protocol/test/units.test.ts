// The unit table's types: a wrong destination or message does not compile (the @ts-expect-error lines
// fail the build if they ever stop being errors), and the runtime check agrees with the types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UNIT_NAMES, UNIT_TABLE, accepts, isUnitName } from '../src/units.js';
import type { SendToUnit } from '../src/units.js';

const sent: [string, string][] = [];
const send: SendToUnit = (to, msg) => {
  sent.push([to, msg.t]);
};
send('dogstatsd', { t: 'DSD_LINES', data: new ArrayBuffer(0) });
send('trace-agent', { t: 'SPANS', spans: [] });
send('lifecycle', { t: 'OOM', requestId: undefined, timestamp: 0 });
// @ts-expect-error no such unit
send('appsec-typo', { t: 'SPANS', spans: [] });
// @ts-expect-error the trace agent does not take DogStatsD lines
send('trace-agent', { t: 'DSD_LINES', data: new ArrayBuffer(0) });
// @ts-expect-error the logs unit takes no peer message at all
send('logs', { t: 'OOM', requestId: undefined, timestamp: 0 });

test('the table and the runtime check agree with the types', () => {
  assert.deepEqual(sent.slice(0, 3), [
    ['dogstatsd', 'DSD_LINES'],
    ['trace-agent', 'SPANS'],
    ['lifecycle', 'OOM'],
  ]);
  assert.deepEqual(UNIT_NAMES, ['dogstatsd', 'trace-agent', 'logs', 'lifecycle', 'appsec']);
  assert.equal(accepts('trace-agent', 'SPANS'), true);
  assert.equal(accepts('trace-agent', 'APPSEC'), true);
  assert.equal(accepts('appsec', 'SPANS'), false);
  assert.equal(accepts('trace-agent', 'DSD_LINES'), false);
  assert.equal(accepts('logs', 'OOM'), false);
  assert.equal(isUnitName('appsec-typo'), false);
  // Every message a unit sends is one its destination accepts.
  for (const [from, entry] of Object.entries(UNIT_TABLE)) {
    for (const [to, tags] of Object.entries(entry.sends)) for (const tag of tags ?? []) assert.ok(accepts(to, tag), `${from} sends ${tag} to ${to}, which does not take it`);
  }
});
