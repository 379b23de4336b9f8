// When to flush (bottlecap lifecycle/flush_control.rs): the supervisor decides once per
// invocation; the workers know how. The default strategy flushes at the end of every invocation
// until 20 invocations are seen, then, if they come on average less than 120 s apart, flushes
// periodically (or continuously when the 20 arrived within DD_FLUSH_TIMEOUT) every 20 s instead.
import type { FlushStrategy } from '@dd-lambda/config';

export type FlushDecision = 'end' | 'periodic' | 'continuous' | 'dont';

export const RING_SIZE = 20;
export const ADAPT_AVG_GAP_MS = 120_000;
export const ADAPTED_INTERVAL_MS = 20_000;
export const DEFAULT_INTERVAL_MS = 60_000;

export class FlushControl {
  readonly strategy: FlushStrategy;
  readonly #flushTimeoutMs: number;
  readonly #ring: number[] = [];
  #lastFlush: number;

  /**
   * `startedAt`: when the extension started (epoch ms). The interval strategies count from it, as
   * bottlecap does, so the first invocation does not flush just because nothing has been flushed yet.
   */
  constructor(strategy: FlushStrategy, flushTimeoutMs: number, startedAt = Date.now()) {
    this.strategy = strategy;
    this.#flushTimeoutMs = flushTimeoutMs;
    this.#lastFlush = startedAt;
  }

  /** The interval of the background timer; `end` has none. */
  get intervalMs(): number | undefined {
    switch (this.strategy.kind) {
      case 'default':
        return DEFAULT_INTERVAL_MS;
      case 'end':
        return undefined;
      default:
        return this.strategy.intervalMs;
    }
  }

  /** Called when a flush starts, whatever triggered it. */
  flushed(now: number): void {
    this.#lastFlush = now;
  }

  /** One call per invocation, with the invocation's arrival time (epoch ms). */
  evaluate(now: number): FlushDecision {
    this.#ring.push(now);
    if (this.#ring.length > RING_SIZE) this.#ring.shift();
    const s = this.strategy;
    switch (s.kind) {
      case 'end':
        return 'end';
      case 'end-periodically':
        return this.#due(now, s.intervalMs) ? 'end' : 'dont';
      case 'periodically':
        return this.#due(now, s.intervalMs) ? 'periodic' : 'dont';
      case 'continuously':
        return this.#due(now, s.intervalMs) ? 'continuous' : 'dont';
      case 'default': {
        if (this.#ring.length < RING_SIZE) return 'end';
        const elapsed = now - (this.#ring[0] ?? now);
        if (elapsed / (RING_SIZE - 1) >= ADAPT_AVG_GAP_MS) return 'end';
        if (!this.#due(now, ADAPTED_INTERVAL_MS)) return 'dont';
        return elapsed < this.#flushTimeoutMs ? 'continuous' : 'periodic';
      }
    }
  }

  #due(now: number, intervalMs: number): boolean {
    return now - this.#lastFlush > intervalMs;
  }
}
