// What a pipeline hands to the intake at each flush, and what it keeps when the intake is down.
// Without this, a dead intake makes every flush retry everything it holds, one payload after the
// other, and an `end` flush blocks the function's next invocation for seconds. So:
//   - the first retryable failure opens the breaker for the rest of this flush: what is left is kept,
//     not tried;
//   - after such a flush, flushes are skipped (kept) for a backoff that doubles from 1 s to 30 s and
//     resets on the first success; the final (SHUTDOWN) flush always tries;
//   - kept payloads are bounded in bytes; beyond the bound the oldest are dropped and counted.
import type { Logger } from '@dd-lambda/logger';
import type { IntakeClient, IntakeOutcome, IntakeRequest } from './client.js';

export interface Parcel {
  /** Payload kind for logs and reports (series, sketches, traces, logs...). */
  what: string;
  request: Omit<IntakeRequest, 'deadline'>;
  /** Items in it (points, spans, log lines), for the flush report. */
  count: number;
  /** Other intakes that get one copy (additional endpoints); their failures are logged, never kept. */
  mirrors?: { url: string; apiKey: string }[];
}

export interface OutboxOptions {
  client: IntakeClient;
  logger: Logger;
  /** Bytes of payloads kept for later flushes. */
  maxBytes: number;
  concurrency?: number;
  now?: () => number;
}

export interface ShipResult {
  sent: number;
  dropped: number;
  pending: number;
  /** The intake answered 403 to some payload: the key is refused (logs stop sending on it). */
  forbidden?: boolean;
}

const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

export class Outbox {
  readonly #o: OutboxOptions;
  readonly #now: () => number;
  #kept: Parcel[] = [];
  #keptBytes = 0;
  #backoffMs = 0;
  #downUntil = 0;

  constructor(opts: OutboxOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
  }

  get pending(): number {
    return this.#kept.reduce((n, p) => n + p.count, 0);
  }

  /** Send what was kept, then `fresh`, by `deadline`. `final` (SHUTDOWN) ignores the backoff. */
  async ship(fresh: readonly Parcel[], deadline: number, final = false): Promise<ShipResult> {
    const queue = [...this.#kept, ...fresh];
    this.#kept = [];
    this.#keptBytes = 0;
    let dropped = 0;
    for (const p of fresh) this.#mirror(p, deadline);
    if (!final && this.#now() < this.#downUntil) {
      for (const p of queue) dropped += this.#keep(p);
      return { sent: 0, dropped, pending: this.pending };
    }
    let sent = 0;
    let down = false;
    let succeeded = false;
    const rejected = new Set<string>();
    let forbidden = false;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < queue.length) {
        const p = queue[next++];
        if (!p) break;
        if (down) { dropped += this.#keep(p); continue; }
        const out: IntakeOutcome = await this.#o.client.send({ ...p.request, deadline });
        if (out.ok) { sent += p.count; succeeded = true; continue; }
        if (out.retryable) {
          if (!down) this.#o.logger.warn({ code: out.error.code, what: p.what, status: out.status }, `intake unavailable, keeping payloads for a later flush: ${out.error.message}`);
          down = true;
          dropped += this.#keep(p);
          continue;
        }
        dropped += p.count;
        if (out.status === 403) forbidden = true;
        if (!rejected.has(p.what)) {
          rejected.add(p.what);
          this.#o.logger.error({ code: out.error.code, what: p.what, status: out.status, count: p.count }, `payload dropped: ${out.error.message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.concurrency ?? 4, queue.length) }, worker));
    if (down && !succeeded) {
      this.#backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, this.#backoffMs * 2));
      this.#downUntil = this.#now() + this.#backoffMs;
    } else if (succeeded) {
      this.#backoffMs = 0;
      this.#downUntil = 0;
    }
    return forbidden ? { sent, dropped, pending: this.pending, forbidden } : { sent, dropped, pending: this.pending };
  }

  /** Keep `p` for later; returns how many items had to be dropped to stay in bounds (oldest first). */
  #keep(p: Parcel): number {
    const size = p.request.body.length;
    let dropped = 0;
    while (this.#kept.length > 0 && this.#keptBytes + size > this.#o.maxBytes) {
      const old = this.#kept.shift();
      if (!old) break;
      this.#keptBytes -= old.request.body.length;
      dropped += old.count;
    }
    if (size > this.#o.maxBytes) return dropped + p.count;
    this.#kept.push(p);
    this.#keptBytes += size;
    return dropped;
  }

  #mirror(p: Parcel, deadline: number): void {
    for (const m of p.mirrors ?? []) {
      void this.#o.client.send({ ...p.request, url: m.url, apiKey: m.apiKey, deadline }).then((o) => {
        if (!o.ok) this.#o.logger.warn({ code: o.error.code, url: m.url, what: p.what }, `additional endpoint: ${o.error.message}`);
      });
    }
  }
}
