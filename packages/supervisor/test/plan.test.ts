import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '@dd-lambda/config';
import type { UnitSpec } from '@dd-lambda/protocol';
import { Checkpoints } from '../src/checkpoints.js';
import { enabledUnits, planWorkers } from '../src/plan.js';
import { readUnits } from '../src/pipelines.js';

const u = (name: string, weight?: number, enabledBy?: string): UnitSpec => ({
  name,
  module: `${name}.cjs`,
  ingress: [],
  events: [],
  ...(weight ? { weight } : {}),
  ...(enabledBy ? { enabledBy } : {}),
});
const names = (threads: UnitSpec[][]): string[][] => threads.map((t) => t.map((x) => x.name));

test('plan: one worker hosts everything; more spread the heaviest first; never more threads than units', () => {
  const units = [u('trace-agent', 3), u('dogstatsd', 2), u('logs', 2), u('appsec', 1)];
  assert.deepEqual(names(planWorkers(1, units).threads), [['trace-agent', 'dogstatsd', 'logs', 'appsec']]);
  assert.deepEqual(names(planWorkers(2, units).threads), [
    ['trace-agent', 'appsec'],
    ['dogstatsd', 'logs'],
  ]);
  assert.deepEqual(names(planWorkers(4, units).threads), [['trace-agent'], ['dogstatsd'], ['logs'], ['appsec']]);
  const wide = planWorkers(6, units.slice(0, 2));
  assert.equal(wide.threads.length, 2);
  assert.deepEqual(planWorkers(3, []), { threads: [] });
});

test('units switched off by config are not started', () => {
  const { config } = loadConfig({ DD_SERVERLESS_APPSEC_ENABLED: 'false' }, { readYaml: false });
  assert.deepEqual(
    enabledUnits([u('a'), u('appsec', 1, 'appsecEnabled'), u('logs', 1, 'logsEnabled')], config).map((x) => x.name),
    ['a', 'logs'],
  );
});

test('units.json: missing means none; malformed is a coded error', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ddl-units-'));
  assert.deepEqual(readUnits(dir), []);
  writeFileSync(path.join(dir, 'units.json'), JSON.stringify({ units: [{ name: 'a', module: 'a.cjs', ingress: ['apm'], events: ['platform'], weight: 2 }] }));
  assert.deepEqual(readUnits(dir), [{ name: 'a', module: 'a.cjs', ingress: ['apm'], events: ['platform'], weight: 2 }]);
  for (const bad of [
    '{',
    '{"units":{}}',
    '{"units":[{"name":"a"}]}',
    '{"units":[{"name":"a","module":"m","ingress":["ftp"]}]}',
    '{"units":[{"name":"a","module":"m"},{"name":"a","module":"n"}]}',
  ]) {
    writeFileSync(path.join(dir, 'units.json'), bad);
    assert.throws(
      () => readUnits(dir),
      (e: { code?: string }) => e.code === 'SV_ERR_UNITS_MANIFEST',
      bad,
    );
  }
});

test('checkpoints: cumulative and delta times, one machine-readable line', () => {
  const cp = new Checkpoints();
  cp.mark('a');
  cp.mark('b');
  const [start, a, b] = cp.list;
  assert.equal(start?.totalMs, 0);
  assert.ok((a?.totalMs ?? 0) > 0 && (b?.totalMs ?? 0) >= (a?.totalMs ?? 0));
  assert.equal(Math.round(((b?.totalMs ?? 0) - (a?.totalMs ?? 0)) * 1000) / 1000, b?.deltaMs);
  const lines: string[] = [];
  cp.emit(undefined, (l) => lines.push(l));
  assert.equal(lines.length, 0, 'nothing without DD_EXTENSION_CHECKPOINTS');
  cp.emit('1', (l) => lines.push(l));
  cp.emit('1', (l) => lines.push(l));
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? '', /^DD_EXTENSION_CHECKPOINTS \{/);
  assert.deepEqual(
    JSON.parse((lines[0] ?? '').slice('DD_EXTENSION_CHECKPOINTS '.length)).checkpoints.map((c: { name: string }) => c.name),
    ['process start', 'a', 'b'],
  );
});
