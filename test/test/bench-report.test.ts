// The cold-start bench's report is a pure function of its JSON: rendering the same result twice gives
// the same table, Markdown and SVG, with each figure checked against its target.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root } from './helpers.js';

const series = (base: number, n = 25): number[] => Array.from({ length: n }, (_, i) => base + (i % 5));
const result = {
  meta: { runs: 25, date: '2026-11-21', extensionNode: '22.23.3', hostNode: '20.20.2', cpus: 2, cpuModel: 'test cpu' },
  coldStart: {
    baseline: { label: 'baseline: node -e 0', samples: { 'node -e 0': series(20) } },
    candidates: [
      {
        label: 'layer',
        description: 'the layer',
        samples: { 'spawn → first /next (ready)': series(28) },
        phases: { 'config parsed': { delta: series(20), total: series(20) }, 'first /next sent': { delta: series(1), total: series(28) } },
      },
      { label: 'other', description: 'another build', samples: { 'spawn → first /next (ready)': series(38) }, phases: {} },
    ],
  },
  sweep: {
    invocations: 20,
    description: 'test sweep',
    rows: [
      { strategy: 'end', memoryMB: 128, workers: 1, rssMB: 50, anonMB: 30, fileMB: 20, hwmMB: 52, threads: 12, postRuntimeMs: series(2, 20) },
      { strategy: 'end', memoryMB: 1769, workers: 1, rssMB: 90, anonMB: 60, fileMB: 30, hwmMB: 95, threads: 12, postRuntimeMs: series(30, 20) },
    ],
  },
};

function render(dir: string): { out: string; md: string; svg: string } {
  const json = path.join(dir, 'cold-start.json');
  writeFileSync(json, JSON.stringify(result));
  const out = execFileSync(process.execPath, [path.join(root, 'bench', 'report.mjs'), json], { encoding: 'utf8' });
  return {
    out: out.replace(dir, '<dir>').replaceAll(dir, '<dir>'),
    md: readFileSync(path.join(dir, 'cold-start.md'), 'utf8'),
    svg: readFileSync(path.join(dir, 'cold-start.svg'), 'utf8'),
  };
}

test('the bench report renders the same bytes from the same JSON and marks every target', () => {
  const dirs = [mkdtempSync(path.join(tmpdir(), 'ddl-report-a-')), mkdtempSync(path.join(tmpdir(), 'ddl-report-b-'))];
  try {
    const [a, b] = dirs.map(render);
    assert.ok(a && b);
    assert.deepEqual(a, b, 'reproducible');
    // p50 of 28..32 is 30, of node -e 0 (20..24) 22: ratio 1.36, within 1.5.
    assert.match(a.out, /ready p50 30\.0 ms vs node -e 0 p50 22\.0 ms: Δ 8\.0 ms, ratio 1\.36 \(target ≤ 1\.50\)\n/);
    assert.match(a.out, /Δ other − layer \(p50, ms\):\n {2}spawn → first \/next \(ready\)\s+10\.0/);
    const row128 = a.out.split('\n').find((l) => /^ {2}end\s+128 /.test(l)) ?? '';
    assert.match(row128, /RSS ≤ 55, post p50 ≤ 5$/, 'both met at 128 MB');
    const row1769 = a.out.split('\n').find((l) => /^ {2}end\s+1769 /.test(l)) ?? '';
    assert.match(row1769, /RSS ≤ 80 MISS, post p50 ≤ 5 MISS$/);
    assert.ok(a.md.includes('![cold start waterfall and sweep](cold-start.svg)') && a.md.includes('**other**: another build'));
    assert.ok(a.svg.startsWith('<svg') && a.svg.includes('config parsed') && a.svg.includes('end @1769'));
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});
