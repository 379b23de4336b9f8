// ARCHITECTURE.md's unit table must say what the protocol's unit table says: who owns which ingress,
// takes which messages and sends what to whom.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { UNIT_TABLE } from '@dd-lambda/protocol';
import { root } from './helpers.js';

const list = (cell: string): string[] => (cell.trim() === '—' ? [] : cell.split(',').map((s) => s.trim()));

test('ARCHITECTURE.md lists every unit as UNIT_TABLE does', () => {
  const md = readFileSync(path.join(root, 'ARCHITECTURE.md'), 'utf8');
  const section = md.slice(md.indexOf('## Units'), md.indexOf('## Cold-start path'));
  const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| unit') && !l.startsWith('|---'));
  const doc = Object.fromEntries(
    rows.map((r) => {
      const [name, ingress, events, takes, sends] = r
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()) as [string, string, string, string, string];
      const out: Record<string, string[]> = {};
      if (sends !== '—')
        for (const part of sends.split(';')) {
          const [to, tags] = part.split(':') as [string, string];
          out[to.trim()] = list(tags);
        }
      return [name, { ingress: list(ingress), events: list(events), accepts: list(takes), sends: out }];
    }),
  );
  const table = Object.fromEntries(
    Object.entries(UNIT_TABLE).map(([name, u]) => [
      name,
      { ingress: [...u.ingress], events: [...u.events], accepts: [...u.accepts], sends: Object.fromEntries(Object.entries(u.sends).map(([k, v]) => [k, [...(v ?? [])]])) },
    ]),
  );
  assert.deepEqual(doc, table);
});

// Every stable code a package throws or logs (`XX_ERR_…`) is listed in that package's errors.ts, and
// every product package's error class comes from the one factory in @dd-lambda/protocol.
test('every error code a package uses is listed in its errors.ts; error classes come from codedError', () => {
  const pkgs = readdirSync(path.join(root, 'packages'));
  const missing: string[] = [];
  for (const p of pkgs) {
    const src = path.join(root, 'packages', p, 'src');
    const files = walkTs(src);
    const errorsFile = path.join(src, 'errors.ts');
    const listed = existsSync(errorsFile) ? readFileSync(errorsFile, 'utf8') : '';
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/'([A-Z]+_ERR_[A-Z0-9_]+)'/g)) {
        if (!listed.includes(`'${m[1]}'`)) missing.push(`${path.relative(root, f)}: ${m[1]}`);
      }
      // The test tools (emulator, fake intake, fake AWS) stay free of product packages.
      const tool = ['lambda-emulator', 'fake-intake', 'fake-aws'].includes(p);
      if (!tool && /class \w+ extends Error\b/.test(text)) missing.push(`${path.relative(root, f)}: an error class not built with codedError`);
    }
  }
  assert.deepEqual(missing, []);
});

function walkTs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walkTs(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}
