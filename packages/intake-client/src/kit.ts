// What every pipeline's flush does the same way: cut items into payloads by count and bytes, copy
// each payload to the additional endpoints (mirrors), and report what was dropped since the last flush.

/** Payload limits: at most `maxItems` items and `maxBytes` bytes (counting `overheadBytes` once). */
export interface BatchLimits {
  maxItems?: number;
  maxBytes: number;
  /** Bytes every payload carries besides its items (brackets, headers of the format). */
  overheadBytes?: number;
}

/**
 * Groups items in order into batches within the limits. An item larger than `maxBytes` on its own
 * travels alone (the intake, not the cutter, decides about it).
 */
export function cutBatches<T>(items: Iterable<T>, sizeOf: (item: T) => number, limits: BatchLimits): T[][] {
  const out: T[][] = [];
  const maxItems = limits.maxItems ?? Infinity;
  const overhead = limits.overheadBytes ?? 0;
  let batch: T[] = [];
  let bytes = overhead;
  for (const item of items) {
    const size = sizeOf(item);
    if (batch.length > 0 && (batch.length >= maxItems || bytes + size > limits.maxBytes)) {
      out.push(batch);
      batch = [];
      bytes = overhead;
    }
    batch.push(item);
    bytes += size;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/** An additional endpoint: a base URL (no trailing slash) and the API key it takes. */
export interface MirrorBase {
  base: string;
  apiKey: string;
}

/** DD_ADDITIONAL_ENDPOINTS-style maps (`{"https://url": ["key", …]}`) as one mirror per key. */
export function mirrorBases(endpoints: Readonly<Record<string, readonly string[]>>): MirrorBase[] {
  return Object.entries(endpoints).flatMap(([url, keys]) => keys.map((apiKey) => ({ base: url.replace(/\/+$/, ''), apiKey })));
}

/** The mirrors of one payload: each base with the payload's path. */
export function mirrorsAt(bases: readonly MirrorBase[], path: string): { url: string; apiKey: string }[] {
  return bases.map((m) => ({ url: m.base + path, apiKey: m.apiKey }));
}

/**
 * Counters that only grow (drops by reason), read at each flush as the increase since the previous
 * read: what a flush's log line reports.
 */
export class DropLedger {
  #last: Record<string, number> = {};

  /** The positive increases since the last call (reasons that did not grow are left out). */
  take(current: Readonly<Record<string, number>>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(current)) {
      const d = v - (this.#last[k] ?? 0);
      if (d > 0) out[k] = d;
    }
    this.#last = { ...current };
    return out;
  }
}

/** The sum of a record's values. */
export const total = (r: Readonly<Record<string, number>>): number => Object.values(r).reduce((a, b) => a + b, 0);
