#!/usr/bin/env node
// Turns a cold-start bench result (JSON of raw samples) into the printed table, a Markdown report and
// an SVG chart. Everything here is a pure function of the JSON, so a report can be regenerated from
// the same file at any time: node bench/report.mjs bench/results/cold-start.json
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import hdr from 'hdr-histogram-js';

export const TARGETS = { readyRatio: 1.5, rssMB: { 128: 55, 1769: 80 }, postRuntimeP50Ms: 5 };

/** min / p50 / p90 / p99 / max / mean (ms) of samples in ms, through an HDR histogram in µs. */
export function stats(samples) {
  if (!samples || samples.length === 0) return undefined;
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  for (const ms of samples) h.recordValue(Math.max(1, Math.round(ms * 1000)));
  const at = (p) => h.getValueAtPercentile(p) / 1000;
  const out = { n: samples.length, min: h.minNonZeroValue / 1000, p50: at(50), p90: at(90), p99: at(99), max: h.maxValue / 1000, mean: h.mean / 1000 };
  if (typeof h.destroy === 'function') h.destroy();
  return out;
}

const f1 = (x) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(1));
const pad = (s, n) => String(s).padStart(n);

/** The rows of the cold-start table: [label, stats] for a set of samples keyed by metric name. */
function rows(set) {
  return Object.entries(set.samples).map(([name, xs]) => [name, stats(xs)]);
}

function table(result) {
  const lines = [];
  const head = `${'metric'.padEnd(34)}${['n', 'min', 'p50', 'p90', 'p99', 'max', 'mean'].map((h) => pad(h, 8)).join('')}`;
  const base = stats(result.coldStart.baseline.samples['node -e 0']);
  for (const set of [result.coldStart.baseline, ...result.coldStart.candidates]) {
    lines.push(`${set.label}:`);
    lines.push(`  ${head}`);
    for (const [name, s] of rows(set)) {
      if (!s) continue;
      lines.push(`  ${name.padEnd(34)}${[s.n, ...[s.min, s.p50, s.p90, s.p99, s.max, s.mean].map(f1)].map((v) => pad(v, 8)).join('')}`);
    }
  }
  // Δ rows: each candidate against the first one (and the first against node -e 0 for "ready").
  const [first, ...others] = result.coldStart.candidates;
  const ready = stats(first.samples['spawn → first /next (ready)']);
  if (ready && base) {
    const ratio = ready.p50 / base.p50;
    lines.push('');
    lines.push(
      `ready p50 ${f1(ready.p50)} ms vs node -e 0 p50 ${f1(base.p50)} ms: Δ ${f1(ready.p50 - base.p50)} ms, ratio ${ratio.toFixed(2)} (target ≤ ${TARGETS.readyRatio.toFixed(2)})${ratio <= TARGETS.readyRatio ? '' : '  MISS'}`,
    );
  }
  for (const o of others) {
    lines.push(`Δ ${o.label} − ${first.label} (p50, ms):`);
    for (const [name, s] of rows(o)) {
      const a = stats(first.samples[name]);
      if (s && a) lines.push(`  ${name.padEnd(34)}${pad(f1(s.p50 - a.p50), 8)}  (${f1(a.p50)} → ${f1(s.p50)}, ${(((s.p50 - a.p50) / a.p50) * 100).toFixed(1)} %)`);
    }
  }
  lines.push('');
  lines.push(
    `sweep (flush strategy, memory): RSS (anonymous + file-backed) and post-runtime duration per invocation (${result.sweep.invocations} invocations each, local fake intake)`,
  );
  lines.push(
    `  ${'strategy'.padEnd(20)}${pad('MB', 7)}${pad('workers', 9)}${pad('RSS MB', 9)}${pad('anon', 7)}${pad('file', 7)}${pad('peak MB', 9)}${pad('post p50', 10)}${pad('post p90', 10)}  targets`,
  );
  for (const r of result.sweep.rows) {
    const post = stats(r.postRuntimeMs);
    const notes = [];
    const rssTarget = TARGETS.rssMB[r.memoryMB];
    if (rssTarget !== undefined) notes.push(`RSS ≤ ${rssTarget}${r.rssMB <= rssTarget ? '' : ' MISS'}`);
    if (r.strategy === 'end' && post) notes.push(`post p50 ≤ ${TARGETS.postRuntimeP50Ms}${post.p50 <= TARGETS.postRuntimeP50Ms ? '' : ' MISS'}`);
    lines.push(
      `  ${r.strategy.padEnd(20)}${pad(r.memoryMB, 7)}${pad(r.workers ?? '-', 9)}${pad(f1(r.rssMB), 9)}${pad(f1(r.anonMB), 7)}${pad(f1(r.fileMB), 7)}${pad(f1(r.hwmMB), 9)}${pad(f1(post?.p50), 10)}${pad(f1(post?.p90), 10)}  ${notes.join(', ')}`,
    );
  }
  return lines.join('\n');
}

function markdown(result, text) {
  const m = result.meta;
  return [
    '# Cold-start bench',
    '',
    `${m.runs} forced cold starts per build under the local Lambda emulator, ${m.date}; extension Node ${m.extensionNode}, emulator Node ${m.hostNode}, ${m.cpus} CPUs (${m.cpuModel}).`,
    'Medians and ratios come from one run on a shared machine; compare them within a report, not across machines.',
    '',
    '![cold start waterfall and sweep](cold-start.svg)',
    '',
    '```',
    text,
    '```',
    '',
    'Builds:',
    ...result.coldStart.candidates.map((c) => `- **${c.label}**: ${c.description}`),
    '',
    `Flush strategies and memory sizes: ${result.sweep.description}`,
    '',
  ].join('\n');
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Left: the p50 waterfall of the extension's checkpoints. Right: RSS and post-runtime p50 per sweep row. */
function svg(result) {
  const W = 980;
  const H = 420;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
  ];
  const first = result.coldStart.candidates[0];
  const phases = Object.entries(first.phases ?? {}).map(([name, v]) => ({ name, start: (stats(v.total)?.p50 ?? 0) - (stats(v.delta)?.p50 ?? 0), end: stats(v.total)?.p50 ?? 0 }));
  const base = stats(result.coldStart.baseline.samples['node -e 0'])?.p50 ?? 0;
  const maxT = Math.max(base, ...phases.map((p) => p.end), 1);
  const x0 = 170;
  const wW = 300;
  parts.push(`<text x="10" y="20" font-size="13" font-weight="bold">${esc(first.label)}: checkpoints from process start (p50, ms)</text>`);
  phases.forEach((p, i) => {
    const y = 36 + i * 22;
    const x = x0 + (p.start / maxT) * wW;
    const w = Math.max(1, ((p.end - p.start) / maxT) * wW);
    parts.push(`<text x="${x0 - 6}" y="${y + 12}" text-anchor="end">${esc(p.name)}</text>`);
    parts.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="15" fill="#632ca6"/>`);
    parts.push(`<text x="${(x + w + 4).toFixed(1)}" y="${y + 12}">${f1(p.end)}</text>`);
  });
  const bx = x0 + (base / maxT) * wW;
  const bottom = 36 + phases.length * 22;
  parts.push(`<line x1="${bx.toFixed(1)}" y1="30" x2="${bx.toFixed(1)}" y2="${bottom}" stroke="#e07a00" stroke-dasharray="4 3"/>`);
  parts.push(`<text x="${bx.toFixed(1)}" y="${bottom + 14}" fill="#e07a00" text-anchor="middle">node -e 0 (${f1(base)})</text>`);

  // Sweep: two bar series per row.
  const rowsS = result.sweep.rows;
  const sx = 540;
  const sw = 420;
  parts.push(`<text x="${sx}" y="20" font-size="13" font-weight="bold">sweep: RSS MB (purple) and post-runtime p50 ms (orange)</text>`);
  const maxV = Math.max(1, ...rowsS.map((r) => r.rssMB), ...rowsS.map((r) => stats(r.postRuntimeMs)?.p50 ?? 0));
  rowsS.forEach((r, i) => {
    const y = 36 + i * 30;
    const post = stats(r.postRuntimeMs)?.p50 ?? 0;
    parts.push(`<text x="${sx + 118}" y="${y + 14}" text-anchor="end">${esc(`${r.strategy} @${r.memoryMB}`)}</text>`);
    const rw = (r.rssMB / maxV) * (sw - 160);
    const pw = (post / maxV) * (sw - 160);
    parts.push(`<rect x="${sx + 124}" y="${y}" width="${rw.toFixed(1)}" height="11" fill="#632ca6"/><text x="${(sx + 128 + rw).toFixed(1)}" y="${y + 10}">${f1(r.rssMB)}</text>`);
    parts.push(
      `<rect x="${sx + 124}" y="${y + 12}" width="${Math.max(1, pw).toFixed(1)}" height="11" fill="#e07a00"/><text x="${(sx + 128 + pw).toFixed(1)}" y="${y + 22}">${f1(post)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Prints the table and writes `<base>.md` and `<base>.svg` next to the JSON. */
export function report(result, jsonFile) {
  const text = table(result);
  console.log(text);
  if (jsonFile) {
    const dir = path.dirname(jsonFile);
    writeFileSync(path.join(dir, 'cold-start.md'), markdown(result, text));
    writeFileSync(path.join(dir, 'cold-start.svg'), svg(result));
    console.log(`\nreport: ${path.join(dir, 'cold-start.md')}, ${path.join(dir, 'cold-start.svg')}, raw samples ${jsonFile}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: report.mjs <cold-start.json>');
    process.exit(2);
  }
  report(JSON.parse(readFileSync(file, 'utf8')), file);
}
