import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@dd-lambda/config';
import { createLogger } from '@dd-lambda/logger';
import { buildFakeIntake } from '@dd-lambda/fake-intake';
import type { FakeIntake } from '@dd-lambda/fake-intake';
import type { UnitMessage } from '@dd-lambda/protocol';
import { buildLogs, MAX_BATCH_ENTRIES } from '../src/unit.js';
import type { Logs } from '../src/unit.js';

const API_KEY = 'a'.repeat(32);
const TAGS = { functionname: 'fn', function_arn: 'arn:aws:lambda:us-east-1:123456789012:function:fn' };
const logger = createLogger({ level: 'silent', bindings: { component: 'logs' } });
const body = (events: unknown[]): Buffer => Buffer.from(JSON.stringify(events));
const line = (text: string): unknown => ({ time: new Date().toISOString(), type: 'function', record: text });
const flush = (logs: Logs, reason: 'end' | 'shutdown' = 'end'): ReturnType<Logs['flush']> => logs.flush({ reason, deadline: Date.now() + 5_000 });

async function setup(env: Record<string, string> = {}): Promise<{ intake: FakeIntake; logs: Logs; sent: UnitMessage[]; close: () => Promise<void> }> {
  const intake = buildFakeIntake({ apiKey: API_KEY });
  const url = await intake.listen();
  const { config } = loadConfig({ DD_API_KEY: API_KEY, DD_LOGS_CONFIG_LOGS_DD_URL: url, AWS_LAMBDA_FUNCTION_NAME: 'fn', ...env }, { readYaml: false });
  const sent: UnitMessage[] = [];
  const logs = buildLogs({ config, tags: TAGS, logger, send: (_to, m) => sent.push(m) });
  return { intake, logs, sent, close: () => intake.close() };
}

test('logs reach the intake in agent-json batches of at most 1000; broken batches are skipped and counted', async () => {
  const { intake, logs, close } = await setup();
  try {
    logs.telemetry(body([{ time: new Date().toISOString(), type: 'platform.start', record: { requestId: 'r1' } }]));
    logs.telemetry(body(Array.from({ length: 2500 }, (_, i) => line(`line ${i}`))));
    logs.telemetry(Buffer.from('[{"type":"platform.runtimeDone", broken'));
    logs.telemetry(Buffer.from('{"not":"an array"}'));
    assert.equal(logs.counters.badBatches, 2);
    const res = await flush(logs);
    assert.deepEqual(res, { sent: 2501, dropped: 0, pending: 0 });
    const reqs = intake.requests({ kind: 'logs', accepted: true });
    assert.deepEqual(
      reqs.map((r) => r.headers['dd-protocol']),
      ['agent-json', 'agent-json', 'agent-json'],
    );
    assert.ok(
      reqs.every((r) => r.headers['content-encoding'] !== undefined),
      'compressed by default',
    );
    const got = intake.logs();
    assert.equal(got.length, 2501);
    assert.ok(got.every((l) => (l['lambda'] as { request_id: string }).request_id === 'r1' && l['nested'] === true));
    assert.ok(MAX_BATCH_ENTRIES === 1000);
  } finally {
    await close();
  }
});

test('uncompressed when DD_LOGS_CONFIG_USE_COMPRESSION=false; a 403 stops sending with one error; OOM reported once per request', async () => {
  const { intake, logs, sent, close } = await setup({ DD_LOGS_CONFIG_USE_COMPRESSION: 'false' });
  try {
    logs.telemetry(
      body([{ type: 'platform.start', record: { requestId: 'r9' } }, line('FATAL ERROR: JavaScript heap out of memory'), line('again: JavaScript heap out of memory')]),
    );
    assert.deepEqual(
      sent.map((m) => (m.t === 'OOM' ? m.requestId : m.t)),
      ['r9'],
      'one OOM message per request, for the lifecycle unit',
    );
    await flush(logs);
    assert.equal(intake.requests({ kind: 'logs' })[0]?.encoding, 'identity');
    intake.injectFault({ kind: 'logs', status: 403, times: 1 });
    logs.telemetry(body([line('refused')]));
    const refused = await flush(logs);
    assert.deepEqual([refused.sent, refused.dropped], [0, 1]);
    logs.telemetry(body([line('not even tried')]));
    const after = await flush(logs);
    assert.deepEqual(after, { sent: 0, dropped: 0, pending: 0 });
    assert.equal(logs.counters.forbidden, 1);
    assert.equal(intake.requests({ kind: 'logs' }).length, 2);
  } finally {
    await close();
  }
});

test('the buffer is bounded: oldest logs dropped and reported at flush; orphans ship at SHUTDOWN', async () => {
  const { intake, logs, close } = await setup();
  try {
    const big = 'x'.repeat(200_000);
    logs.telemetry(body([{ type: 'platform.start', record: { requestId: 'r1' } }]));
    for (let i = 0; i < 100; i++) logs.telemetry(body([line(`${i} ${big}`)]));
    const res = await flush(logs);
    assert.ok(logs.counters.overflow > 0);
    assert.equal(res.dropped, logs.counters.overflow);
    assert.equal(res.sent + res.dropped, 101);
    const kept = intake.logs().map((l) => Number(String(l.message).split(' ')[0]));
    assert.equal(Math.max(...kept), 99, 'the newest survive');
    assert.ok(Math.min(...kept) > 0, 'the oldest went first');
    logs.telemetry(body([{ type: 'platform.runtimeDone', record: { requestId: 'r1', status: 'success' } }, line('late orphan')]));
    await flush(logs, 'shutdown');
    const last = intake.logs().at(-1);
    assert.deepEqual([last?.message, (last?.['lambda'] as { request_id: unknown }).request_id], ['late orphan', null]);
  } finally {
    await close();
  }
});

test('DD_LOGS_CONFIG_ADDITIONAL_ENDPOINTS: every batch also goes to each extra intake under its own key; a bad entry is skipped with a warning', async () => {
  const mirror = buildFakeIntake({ apiKey: 'b'.repeat(32) });
  const mirrorUrl = await mirror.listen();
  const lines: string[] = [];
  const warnings = createLogger({
    level: 'warn',
    write: (l) => {
      lines.push(l);
    },
  });
  const main = buildFakeIntake({ apiKey: API_KEY });
  const url = await main.listen();
  const { config } = loadConfig(
    {
      DD_API_KEY: API_KEY,
      DD_LOGS_CONFIG_LOGS_DD_URL: url,
      AWS_LAMBDA_FUNCTION_NAME: 'fn',
      DD_LOGS_CONFIG_ADDITIONAL_ENDPOINTS: JSON.stringify([{ api_key: 'b'.repeat(32), Host: mirrorUrl, Port: 443, is_reliable: true }, { Host: 'no-key.example' }]),
    },
    { readYaml: false },
  );
  const logs = buildLogs({ config, tags: TAGS, logger: warnings });
  try {
    logs.telemetry(body([{ time: new Date().toISOString(), type: 'platform.start', record: { requestId: 'r1' } }, line('dual shipped')]));
    await flush(logs);
    await new Promise((r) => setTimeout(r, 200)); // mirrors are fire-and-forget
    for (const intake of [main, mirror]) assert.ok(intake.logs().some((l) => String(l.message) === 'dual shipped'));
    assert.ok(lines.some((l) => l.includes('DD_LOGS_CONFIG_ADDITIONAL_ENDPOINTS[1] needs')));
  } finally {
    await main.close();
    await mirror.close();
  }
});

test('after a 403 logs wait for another API key (a rotated secret), then flow again', async () => {
  const intake = buildFakeIntake({ apiKey: API_KEY });
  const url = await intake.listen();
  // A worker's config is a structured clone (not frozen), which the API_KEY message updates in place.
  const config = { ...loadConfig({ DD_API_KEY: 'c'.repeat(32), DD_LOGS_CONFIG_LOGS_DD_URL: url, AWS_LAMBDA_FUNCTION_NAME: 'fn' }, { readYaml: false }).config };
  const logs = buildLogs({ config, tags: TAGS, logger });
  try {
    logs.telemetry(body([{ time: new Date().toISOString(), type: 'platform.start', record: { requestId: 'r1' } }, line('refused')]));
    await flush(logs);
    logs.telemetry(body([line('held back')]));
    assert.deepEqual(await flush(logs), { sent: 0, dropped: 0, pending: 0 });
    assert.equal(logs.counters.forbidden, 1, 'held back: nothing is sent on a refused key');
    // The supervisor delivers the re-resolved key into the config every unit shares (API_KEY).
    (config as { apiKey: string | undefined }).apiKey = API_KEY;
    logs.telemetry(body([line('after the rotation')]));
    const res = await flush(logs);
    assert.equal(res.sent, 1);
    assert.ok(intake.logs().some((l) => String(l.message) === 'after the rotation'));
  } finally {
    await intake.close();
  }
});
