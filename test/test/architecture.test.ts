// ARCHITECTURE.md's unit table must say what the protocol's unit table says: who owns which ingress,
// takes which messages and sends what to whom.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UNIT_TABLE } from '@dd-lambda/protocol';
import { root } from './helpers.js';

const list = (cell: string): string[] => (cell.trim() === '—' ? [] : cell.split(',').map((s) => s.trim()));

test('ARCHITECTURE.md lists every unit as UNIT_TABLE does', () => {
  const md = readFileSync(path.join(root, 'ARCHITECTURE.md'), 'utf8');
  const section = md.slice(md.indexOf('## Units'), md.indexOf('## Cold-start path'));
  const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| unit') && !l.startsWith('|---'));
  const doc = Object.fromEntries(rows.map((r) => {
    const [name, ingress, events, takes, sends] = r.split('|').slice(1, -1).map((c) => c.trim()) as [string, string, string, string, string];
    const out: Record<string, string[]> = {};
    if (sends !== '—') for (const part of sends.split(';')) {
      const [to, tags] = part.split(':') as [string, string];
      out[to.trim()] = list(tags);
    }
    return [name, { ingress: list(ingress), events: list(events), accepts: list(takes), sends: out }];
  }));
  const table = Object.fromEntries(Object.entries(UNIT_TABLE).map(([name, u]) => [name, { ingress: [...u.ingress], events: [...u.events], accepts: [...u.accepts], sends: Object.fromEntries(Object.entries(u.sends).map(([k, v]) => [k, [...(v ?? [])]])) }]));
  assert.deepEqual(doc, table);
});
