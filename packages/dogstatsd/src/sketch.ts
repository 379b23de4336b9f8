// The Datadog agent's distribution sketch (datadog-agent pkg/quantile): relative accuracy 1/128,
// gamma = 1 + 2/128, keys are int16 with a bias so the smallest tracked value (1e-9) maps to 1,
// counts per bin are uint16 (bigger counts spill into more bins of the same key), and at most 4096
// bins, collapsing the lowest. Keys computed the same way are what lets the backend merge our
// sketches with every other agent's exactly.
//
// Inserts go into a Map (key → count) and the agent's bin list is built at serialization: the
// result is the same, and the hot path stays one Map update.

const EPS = 1 / 128;
const MIN_VALUE = 1e-9;
export const BIN_LIMIT = 4096;
const MAX_BIN_WIDTH = 0xffff;
const UV_INF = 0x7fff;
const MAX_KEY = UV_INF - 1;

export const GAMMA = 1 + 2 * EPS;
const GAMMA_LN = Math.log1p(2 * EPS);

/** Go's math.RoundToEven. */
function roundToEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const EMIN = Math.floor(Math.log(MIN_VALUE) / GAMMA_LN);
const BIAS = -EMIN + 1;

/** Lower bound of bin `k`: γ^(k − bias). */
export function keyLowerBound(k: number): number {
  if (k < 0) return -keyLowerBound(-k);
  if (k === UV_INF) return Infinity;
  if (k === 0) return 0;
  return GAMMA ** (k - BIAS);
}

const NORM_MIN = keyLowerBound(1);

/** The agent's key for `v`: γ^k ≤ |v| < γ^(k+1), biased; 0 for values too close to zero. */
export function sketchKey(v: number): number {
  if (v < 0) return -sketchKey(-v);
  if (v === 0 || v < NORM_MIN) return 0;
  const i = roundToEven(Math.log(v) / GAMMA_LN) + BIAS;
  if (i > MAX_KEY) return UV_INF;
  return i < 1 ? 1 : i;
}

export interface SketchBins {
  k: number[];
  n: number[];
}

export class AgentSketch {
  cnt = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  readonly #bins = new Map<number, number>();

  /** Insert `v` with weight `n` (a sample rate of 1/n). */
  insert(v: number, n = 1): void {
    this.cnt += n;
    this.sum += v * n;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    const k = sketchKey(v);
    this.#bins.set(k, (this.#bins.get(k) ?? 0) + n);
  }

  get avg(): number {
    return this.cnt === 0 ? 0 : this.sum / this.cnt;
  }

  /** The agent's bin list: sorted keys, uint16 counts, at most BIN_LIMIT bins plus spill. */
  bins(limit = BIN_LIMIT): SketchBins {
    const keys = [...this.#bins.keys()].sort((a, b) => a - b);
    const k: number[] = [];
    const n: number[] = [];
    for (const key of keys) appendSafe(k, n, key, this.#bins.get(key) ?? 0);
    return trimLeft(k, n, limit);
  }
}

function appendSafe(k: number[], n: number[], key: number, count: number): void {
  let left = count;
  while (left > MAX_BIN_WIDTH) {
    k.push(key);
    n.push(MAX_BIN_WIDTH);
    left -= MAX_BIN_WIDTH;
  }
  if (left > 0) {
    k.push(key);
    n.push(left);
  }
}

/** Collapse the lowest bins into the first kept one until at most `limit` remain (agent's trimLeft). */
function trimLeft(k: number[], n: number[], limit: number): SketchBins {
  if (k.length <= limit) return { k, n };
  const remove = k.length - limit;
  const ok: number[] = [];
  const on: number[] = [];
  let missing = 0;
  for (let i = 0; i < remove; i++) {
    missing += n[i] ?? 0;
    if (missing > MAX_BIN_WIDTH) {
      ok.push(k[i] ?? 0);
      on.push(MAX_BIN_WIDTH);
      missing -= MAX_BIN_WIDTH;
    }
  }
  const firstKept = n[remove] ?? 0;
  const total = firstKept + missing;
  const keptKey = k[remove] ?? 0;
  if (total > MAX_BIN_WIDTH) {
    n[remove] = MAX_BIN_WIDTH;
    appendSafe(ok, on, keptKey, total - MAX_BIN_WIDTH);
  } else {
    n[remove] = total;
  }
  return { k: [...ok, ...k.slice(remove)], n: [...on, ...n.slice(remove)] };
}

/**
 * The agent's quantile estimate over serialized bins (pkg/quantile Sketch.Quantile): used by
 * tests and the bench to check accuracy the way the backend reads a sketch.
 */
export function sketchQuantile(bins: SketchBins, summary: { cnt: number; min: number; max: number }, q: number): number {
  if (summary.cnt === 0) return 0;
  if (q <= 0) return summary.min;
  if (q >= 1) return summary.max;
  let total = 0;
  for (const c of bins.n) total += c;
  const want = roundToEven(q * (total - 1));
  let seen = 0;
  for (let i = 0; i < bins.k.length; i++) {
    const c = bins.n[i] ?? 0;
    seen += c;
    if (seen <= want) continue;
    const weight = (seen - want) / c;
    let low = keyLowerBound(bins.k[i] ?? 0);
    const high = low * GAMMA;
    if (i === 0) low = summary.min;
    return low * weight + high * (1 - weight);
  }
  return NaN;
}
