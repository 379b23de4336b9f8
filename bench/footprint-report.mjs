// Renders bench/results/footprint.json as Markdown: per memory size the floor, the floor with one
// worker, the extension and its ratio to the floor, then the goals of the footprint issue, each
// marked met or missed. `node bench/footprint-report.mjs <json>` re-renders a saved run.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FIGURES = [
  ['readyCpuMs', 'CPU to all workers READY (ms)'],
  ['readyFromSpawnMs', 'workers READY from spawn (ms)'],
  ['spawnToNextMs', 'spawn → first /next (ms)'],
  ['coldPostMs', "first invocation's post-runtime (ms)"],
  ['coldCpuMs', "first invocation's CPU (ms)"],
  ['warmCpuP50', 'CPU per warm invocation, p50 (ms)'],
  ['warmCpuMean', 'CPU per warm invocation, mean (ms)'],
  ['warmPostP50', 'warm post-runtime p50 (ms)'],
  ['warmPostP90', 'warm post-runtime p90 (ms)'],
  ['rssAnonMB', 'own memory, RssAnon after the invocations (MB)'],
  ['rssMB', 'RSS incl. the mapped Node binary (MB)'],
  ['hwmMB', 'peak RSS, VmHWM (MB)'],
  ['oomKills', 'OOM kills'],
];

const fmt = (n) => (typeof n !== 'number' || !Number.isFinite(n) ? '—' : n >= 100 ? n.toFixed(0) : n.toFixed(1));
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '—');

/** The goals: [label, actual, limit, unit]; met when actual <= limit. */
export function goals(result) {
  const at = (size) => result.figures[`dd@${size}`] ?? {};
  const floor128 = result.figures['floor@128'] ?? {};
  return [
    ['CPU per warm invocation, p50, 128 MB', at(128).warmCpuP50, Math.min(5, 2.5 * (floor128.warmCpuP50 ?? Number.NaN)), 'ms (≤ 5 and ≤ 2.5 × floor)'],
    ['CPU to all workers READY, 128 MB', at(128).readyCpuMs, 150, 'ms'],
    ['warm post-runtime p50, 128 MB', at(128).warmPostP50, 60, 'ms'],
    ["first invocation's post-runtime, 128 MB", at(128).coldPostMs, 200, 'ms'],
    ['workers READY from spawn, 128 MB', at(128).readyFromSpawnMs, 1500, 'ms'],
    [`own memory (RssAnon) after ${result.meta.invocations} invocations, 128 MB`, at(128).rssAnonMB, 25, 'MB'],
    ['spawn → first /next, unlimited, ratio to node -e 0', at(0).spawnToNextMs / result.nodeE0Ms, 1.5, '×'],
    [`OOM kills at 128 MB over ${result.oom.invocations} invocations`, result.oom.kills, 0, ''],
  ];
}

export function renderFootprint(result) {
  const m = result.meta;
  const lines = [
    "# Footprint under Lambda's limits",
    '',
    `${m.date}, ${m.cpus} × ${m.cpuModel}; limits: ${m.limits}; the extension's Node ${m.extensionNode}; ${m.runs} cold sandboxes × ${m.invocations} invocations per cell, interleaved.`,
    `\`node -e 0\` on the layer's Node: **${fmt(result.nodeE0Ms)} ms** (median).`,
    '',
  ];
  const sizes = [128, 512, 1769, 0].filter((size) => Object.keys(result.figures).some((k) => k.endsWith(`@${size}`)));
  for (const size of sizes) {
    const f = (c) => result.figures[`${c}@${size}`] ?? {};
    lines.push(`## ${size ? `${size} MB (${(size / 1769).toFixed(3)} of a core after INIT)` : 'unlimited'}`, '');
    lines.push('| figure | floor | floor + 1 worker | dd-lambda | dd / floor |', '|---|---|---|---|---|');
    for (const [k, label] of FIGURES)
      lines.push(`| ${label} | ${fmt(f('floor')[k])} | ${fmt(f('floor-worker')[k])} | **${fmt(f('dd')[k])}** | ${ratio(f('dd')[k], f('floor')[k])} |`);
    lines.push('');
  }
  lines.push('## Goals', '', '| goal | measured | target | |', '|---|---|---|---|');
  for (const [label, actual, limit, unit] of goals(result)) {
    const met = Number.isFinite(actual) && actual <= limit;
    lines.push(`| ${label} | ${fmt(actual)} | ≤ ${fmt(limit)} ${unit} | ${met ? 'met' : '**MISS**'} |`);
  }
  const floorRatio = (result.figures['floor@0']?.spawnToNextMs ?? Number.NaN) / result.nodeE0Ms;
  lines.push(
    '',
    `For scale: in the same run the floor's own spawn → first /next is ${fmt(floorRatio)}× \`node -e 0\` (spawn to exit), so that ratio mostly measures the Lambda API round trips every extension makes; dd / floor is in the tables above.`,
  );
  lines.push(
    '',
    `OOM check: ${result.oom.invocations} invocations at 128 MB: ${result.oom.kills} OOM kills, ${result.oom.resets} resets, extension RssAnon ${fmt(result.oom.rssAnonMB)} MB, peak ${fmt(result.oom.hwmMB)} MB.`,
    '',
  );
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node bench/footprint-report.mjs <footprint.json>');
  process.stdout.write(renderFootprint(JSON.parse(readFileSync(file, 'utf8'))));
}
