// Span dedup (DataDog/datadog-lambda-extension, bottlecap/src/traces/span_dedup.rs): a tracer that
// retries a request sends its spans twice; a (trace_id, span_id) seen among the last SPAN_DEDUP_CAPACITY
// spans from tracers ships once. bottlecap's DD_SPAN_DEDUP_TIMEOUT bounds its asynchronous lookup;
// here the lookup is a synchronous Set, so the variable is accepted and has nothing to bound.
import type { Span } from './span.js';

export const SPAN_DEDUP_CAPACITY = 50;

export class SpanDeduper {
  readonly #seen = new Set<string>();
  readonly #capacity: number;
  duplicates = 0;

  constructor(capacity = SPAN_DEDUP_CAPACITY) {
    this.#capacity = capacity;
  }

  /** The traces without spans already seen (chunks left empty are removed). */
  filter(traces: Span[][]): Span[][] {
    const out: Span[][] = [];
    for (const t of traces) {
      const kept = t.filter((s) => this.#add(`${s.traceId}:${s.spanId}`));
      if (kept.length > 0) out.push(kept);
    }
    return out;
  }

  #add(key: string): boolean {
    if (this.#seen.has(key)) {
      this.duplicates++;
      return false;
    }
    if (this.#seen.size >= this.#capacity) this.#seen.delete(this.#seen.values().next().value as string);
    this.#seen.add(key);
    return true;
  }
}
