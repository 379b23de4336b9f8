// What a pipeline hands to the intake at each flush, and what it keeps when the intake is down. A
// function must never wait on an outage (a VPC without egress, a dead proxy, an intake incident), so:
//   - a flush makes one try per payload (the transport gives up after 1 s of silence); retries happen
//     across flushes, not inside one;
//   - the first retryable failure opens the breaker: what is left of that flush is kept, untried;
//   - while the breaker is open, flushes keep everything and return at once: they never block the
//     invocation. Once the backoff (1 s doubling to 30 s) has passed, a flush starts one probe in the
//     background with the oldest kept payload; its success closes the breaker and the next flush sends
//     what was kept, its failure doubles the backoff;
//   - the final (SHUTDOWN) flush ignores the breaker and keeps trying each payload until its deadline;
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
  /** Bytes of payloads kept for later flushes (RETRY_BYTES by default). */
  maxBytes?: number;
  concurrency?: number;
  now?: () => number;
}

export interface ShipResult {
  sent: number;
  dropped: number;
  pending: number;
  /** The intake answered 403 to some payload: the key is refused (logs stop sending on it). */
  forbidden?: boolean;
  /** The breaker was open: nothing was tried in this flush (a probe may be under way). */
  deferred?: boolean;
}

/** Payload bytes an outbox keeps for a later flush after a retryable intake failure, by default. */
export const RETRY_BYTES = 16 * 1024 * 1024;

const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
/** A background probe's own deadline (the transport's timeouts end a silent one after ~1 s). */
const PROBE_DEADLINE_MS = 5_000;

export class Outbox {
  readonly #o: OutboxOptions;
  readonly #maxBytes: number;
  readonly #now: () => number;
  #kept: Parcel[] = [];
  #keptBytes = 0;
  #backoffMs = 0;
  #downUntil = 0;
  #open = false;
  #probe: Promise<void> | undefined;
  /** What background probes sent or dropped, reported with the next flush. */
  #probeSent = 0;
  #probeDropped = 0;

  constructor(opts: OutboxOptions) {
    this.#o = opts;
    this.#maxBytes = opts.maxBytes ?? RETRY_BYTES;
    this.#now = opts.now ?? Date.now;
  }

  get pending(): number {
    return this.#kept.reduce((n, p) => n + p.count, 0);
  }

  /** True while an outage keeps flushes from trying the intake. */
  get open(): boolean {
    return this.#open;
  }

  /** Send what was kept, then `fresh`, by `deadline`. `final` (SHUTDOWN) ignores the breaker and retries until the deadline. */
  async ship(fresh: readonly Parcel[], deadline: number, final = false): Promise<ShipResult> {
    for (const p of fresh) this.#mirror(p, deadline);
    if (final && this.#probe) await this.#probe;
    const carried = { sent: this.#probeSent, dropped: this.#probeDropped };
    this.#probeSent = 0;
    this.#probeDropped = 0;
    // The key is still on its way from AWS: keep everything, without counting it as an outage.
    if (!final && this.#o.client.keyPending?.() === true) {
      let dropped = carried.dropped;
      for (const p of fresh) dropped += this.#keep(p);
      return { sent: carried.sent, dropped, pending: this.pending, deferred: true };
    }
    if (!final && this.#open) {
      let dropped = carried.dropped;
      for (const p of fresh) dropped += this.#keep(p);
      if (this.#probe === undefined && this.#now() >= this.#downUntil) this.#startProbe();
      return { sent: carried.sent, dropped, pending: this.pending, deferred: true };
    }
    const queue = [...this.#kept, ...fresh];
    this.#kept = [];
    this.#keptBytes = 0;
    let sent = carried.sent;
    let dropped = carried.dropped;
    let down = false;
    let succeeded = false;
    const rejected = new Set<string>();
    let forbidden = false;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < queue.length) {
        const p = queue[next++];
        if (!p) break;
        if (down && !final) {
          dropped += this.#keep(p);
          continue;
        }
        const out: IntakeOutcome = await this.#o.client.send({ ...p.request, deadline, attempts: final ? Infinity : 1 });
        if (out.ok) {
          sent += p.count;
          succeeded = true;
          continue;
        }
        if (out.retryable) {
          if (!down)
            this.#o.logger.warn({ code: out.error.code, what: p.what, status: out.status }, `intake unavailable, keeping payloads for a later flush: ${out.error.message}`);
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
    if (down && !succeeded) this.#trip();
    else if (succeeded) this.#close();
    const out: ShipResult = { sent, dropped, pending: this.pending };
    if (forbidden) out.forbidden = true;
    return out;
  }

  #trip(): void {
    this.#open = true;
    this.#backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, this.#backoffMs * 2));
    this.#downUntil = this.#now() + this.#backoffMs;
  }

  #close(): void {
    if (this.#open) this.#o.logger.info({ kept: this.pending }, 'intake reachable again; kept payloads go with the next flush');
    this.#open = false;
    this.#backoffMs = 0;
    this.#downUntil = 0;
  }

  /** One payload in the background; the flush that started it does not wait for it. */
  #startProbe(): void {
    const p = this.#kept.shift();
    if (!p) return;
    this.#keptBytes -= p.request.body.length;
    this.#probe = this.#o.client
      .send({ ...p.request, deadline: this.#now() + PROBE_DEADLINE_MS, attempts: 1 })
      .then(
        (out) => {
          if (out.ok) {
            this.#probeSent += p.count;
            this.#close();
          } else if (out.retryable) {
            this.#probeDropped += this.#keep(p, true);
            this.#trip();
          } else {
            // The intake answered: it is up, this payload is refused.
            this.#probeDropped += p.count;
            this.#o.logger.error({ code: out.error.code, what: p.what, status: out.status, count: p.count }, `payload dropped: ${out.error.message}`);
            this.#close();
          }
        },
        () => {
          this.#probeDropped += this.#keep(p, true);
          this.#trip();
        },
      )
      .finally(() => {
        this.#probe = undefined;
      });
  }

  /** Keep `p` for later (first in line with `front`); returns how many items had to be dropped to stay in bounds (oldest first). */
  #keep(p: Parcel, front = false): number {
    const size = p.request.body.length;
    let dropped = 0;
    while (this.#kept.length > 0 && this.#keptBytes + size > this.#maxBytes) {
      const old = this.#kept.shift();
      if (!old) break;
      this.#keptBytes -= old.request.body.length;
      dropped += old.count;
    }
    if (size > this.#maxBytes) return dropped + p.count;
    if (front) this.#kept.unshift(p);
    else this.#kept.push(p);
    this.#keptBytes += size;
    return dropped;
  }

  #mirror(p: Parcel, deadline: number): void {
    for (const m of p.mirrors ?? []) {
      void this.#o.client.send({ ...p.request, url: m.url, apiKey: m.apiKey, deadline, attempts: 1 }).then((o) => {
        if (!o.ok) this.#o.logger.warn({ code: o.error.code, url: m.url, what: p.what }, `additional endpoint: ${o.error.message}`);
      });
    }
  }
}
