import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentSketch, BIN_LIMIT, GAMMA, keyLowerBound, sketchKey, sketchQuantile } from '../src/sketch.js';

test('keys match the agent: bias 1338 puts 1.0 at key 1338; min value maps to 1; symmetric for negatives', () => {
  assert.equal(sketchKey(1), 1338);
  assert.equal(sketchKey(0), 0);
  assert.equal(sketchKey(1e-12), 0);
  const normMin = keyLowerBound(1);
  assert.ok(normMin <= 1e-9);
  assert.equal(sketchKey(normMin), 1);
  assert.equal(sketchKey(normMin * GAMMA), 2);
  assert.equal(sketchKey(-1), -1338);
  assert.equal(sketchKey(Number.MAX_VALUE), 0x7fff);
  for (let k = 2; k < 32000; k += 97) {
    const v = keyLowerBound(k);
    if (v > 0.5 && v < 2) continue; // log() is imprecise near 1, the agent allows ±1 there
    assert.equal(sketchKey(v), k, `key(f64(${k}))`);
  }
});

function exact(sorted: number[], q: number): number {
  const rank = Math.round(q * (sorted.length - 1));
  return sorted[rank] ?? NaN;
}

/** The value the sketch stands for at rank q: the representative (γ^k) of the bin holding that rank. */
function binValue(sk: AgentSketch, q: number): number {
  const bins = sk.bins();
  const want = Math.round(q * (sk.cnt - 1));
  let seen = 0;
  for (let i = 0; i < bins.k.length; i++) {
    seen += bins.n[i] ?? 0;
    if (seen > want) return keyLowerBound(bins.k[i] ?? 0);
  }
  return NaN;
}

test("quantiles are within the agent's relative accuracy (1/128) on known data", () => {
  const sets: Record<string, number[]> = {
    uniform: Array.from({ length: 10_000 }, (_, i) => i + 1),
    exponential: Array.from({ length: 5_000 }, (_, i) => 0.001 * 1.003 ** i),
    latencies: Array.from({ length: 2_000 }, (_, i) => 5 + ((i * 7919) % 1000) / 10),
  };
  for (const [name, data] of Object.entries(sets)) {
    const sk = new AgentSketch();
    for (const v of data) sk.insert(v);
    const sorted = [...data].sort((a, b) => a - b);
    assert.equal(sk.cnt, data.length);
    assert.equal(sk.min, sorted[0]);
    assert.equal(sk.max, sorted.at(-1));
    for (const q of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]) {
      const want = exact(sorted, q);
      // The sketch's guarantee: each bin's value is within 1/128 of every value it holds.
      const got = binValue(sk, q);
      const rel = Math.abs(got - want) / want;
      assert.ok(rel <= 1 / 128, `${name} p${q * 100}: got ${got}, want ${want}, relative error ${rel}`);
      // The agent's own Quantile() interpolates inside the bin, which can add up to one more γ step.
      const interp = sketchQuantile(sk.bins(), sk, q);
      assert.ok(Math.abs(interp - want) / want <= GAMMA ** 1.5 - 1, `${name} p${q * 100} interpolated: ${interp} vs ${want}`);
    }
  }
});

test('weighted inserts count n times; counts above 65535 spill into more bins of the same key', () => {
  const sk = new AgentSketch();
  sk.insert(10, 4);
  assert.deepEqual([sk.cnt, sk.sum, sk.avg], [4, 40, 10]);
  const big = new AgentSketch();
  big.insert(3, 70_000);
  const bins = big.bins();
  assert.deepEqual(bins.k, [sketchKey(3), sketchKey(3)]);
  assert.deepEqual(bins.n, [65535, 70_000 - 65535]);
});

test('more than 4096 bins collapse the lowest into the first kept bin, preserving the count', () => {
  const sk = new AgentSketch();
  const n = BIN_LIMIT + 500;
  for (let i = 0; i < n; i++) sk.insert(GAMMA ** i);
  const bins = sk.bins();
  assert.equal(bins.k.length, BIN_LIMIT);
  assert.equal(
    bins.n.reduce((a, b) => a + b, 0),
    n,
  );
  assert.equal(bins.n[0], 501);
  assert.deepEqual(
    bins.k,
    [...bins.k].sort((a, b) => a - b),
  );
});
