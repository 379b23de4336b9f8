// Telemetry API (2022-07-01): subscription validation, per-subscriber buffering and batched
// HTTP delivery honouring maxItems / maxBytes / timeoutMs, replay of events emitted before a
// subscription, pause while the sandbox is frozen, retry with backoff, and counted drops
// (reported as platform.logsDropped) when a subscriber cannot keep up.

import http from 'node:http';

import type { SubscriptionRequest } from './subscription.js';

export type TelemetryType = 'platform' | 'function' | 'extension';

export interface TelemetryEvent {
  /** When the platform generated the record, `2022-10-12T00:00:15.064Z`. */
  time: string;
  type: string;
  record: unknown;
}

export function categoryOf(type: string): TelemetryType {
  if (type === 'function') return 'function';
  if (type === 'extension') return 'extension';
  return 'platform';
}

interface Item {
  event: TelemetryEvent;
  json: string;
  bytes: number;
}

export interface DeliveryStats {
  batches: number;
  events: number;
  failedAttempts: number;
  droppedRecords: number;
  droppedBytes: number;
}

/** How much a subscriber may hold while its listener is down or slow before logs are dropped. */
const BACKLOG_FACTOR = 4;
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 1000;
const POST_TIMEOUT_MS = 5000;

export class Subscriber {
  readonly stats: DeliveryStats = { batches: 0, events: 0, failedAttempts: 0, droppedRecords: 0, droppedBytes: 0 };
  readonly #items: Item[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #inflight: Promise<void> | undefined;
  #retryMs = RETRY_MIN_MS;
  #retrying = false;
  #closed = false;
  #paused: () => boolean;
  #onDrop: (records: number, bytes: number) => void;

  constructor(
    readonly extensionName: string,
    readonly req: SubscriptionRequest,
    readonly deliverHost: string,
    paused: () => boolean,
    onDrop: (records: number, bytes: number) => void,
  ) {
    this.#paused = paused;
    this.#onDrop = onDrop;
  }

  wants(type: string): boolean {
    return this.req.types.includes(categoryOf(type));
  }

  get pending(): number {
    return this.#items.length;
  }

  push(event: TelemetryEvent): void {
    if (this.#closed) return;
    const json = JSON.stringify(event);
    this.#items.push({ event, json, bytes: Buffer.byteLength(json) });
    this.#bytes += Buffer.byteLength(json);
    this.#shed();
    this.schedule();
  }

  /** Drops the oldest log records while the backlog is over its cap; platform events are kept. */
  #shed(): void {
    const cap = this.req.buffering.maxBytes * BACKLOG_FACTOR;
    if (this.#bytes <= cap) return;
    let records = 0;
    let bytes = 0;
    for (let i = 0; i < this.#items.length && this.#bytes > cap;) {
      const it = this.#items[i]!;
      if (it.event.type === 'function' || it.event.type === 'extension') {
        this.#items.splice(i, 1);
        this.#bytes -= it.bytes;
        records++;
        bytes += it.bytes;
      } else i++;
    }
    if (records > 0) {
      this.stats.droppedRecords += records;
      this.stats.droppedBytes += bytes;
      this.#onDrop(records, bytes);
    }
  }

  schedule(): void {
    if (this.#closed || this.#inflight || this.#retrying || this.#paused() || this.#items.length === 0) return;
    const b = this.req.buffering;
    if (this.#items.length >= b.maxItems || this.#bytes >= b.maxBytes) {
      this.#deliver();
    } else if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#deliver();
      }, b.timeoutMs);
      this.#timer.unref();
    }
  }

  #deliver(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#closed || this.#inflight || this.#paused() || this.#items.length === 0) return;
    const b = this.req.buffering;
    let n = 0;
    let size = 2;
    while (n < this.#items.length && n < b.maxItems) {
      const next = this.#items[n]!.bytes + (n > 0 ? 1 : 0);
      if (n > 0 && size + next > b.maxBytes) break;
      size += next;
      n++;
    }
    const batch = this.#items.slice(0, n);
    const body = `[${batch.map((i) => i.json).join(',')}]`;
    this.#inflight = post(this.deliverHost, this.req.port, this.req.path, body).then(
      () => {
        this.#items.splice(0, n);
        this.#bytes -= batch.reduce((s, i) => s + i.bytes, 0);
        this.stats.batches++;
        this.stats.events += n;
        this.#retryMs = RETRY_MIN_MS;
        this.#inflight = undefined;
        this.schedule();
      },
      () => {
        this.stats.failedAttempts++;
        this.#inflight = undefined;
        this.#retrying = true;
        const t = setTimeout(() => {
          this.#retrying = false;
          this.#deliver();
        }, this.#retryMs);
        t.unref();
        this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
      },
    );
  }

  /** Delivers everything buffered now (ignoring timeoutMs); resolves when empty or at the deadline. */
  async flush(deadline: number): Promise<boolean> {
    while (!this.#closed && (this.#items.length > 0 || this.#inflight) && Date.now() < deadline) {
      if (this.#inflight) await Promise.race([this.#inflight, sleep(deadline - Date.now())]);
      else if (this.#retrying) await sleep(Math.min(RETRY_MIN_MS, Math.max(0, deadline - Date.now())));
      else this.#deliver();
      if (!this.#inflight && !this.#retrying && this.#items.length > 0 && this.#paused()) return false;
    }
    return this.#items.length === 0;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)).unref());
}

function post(host: string, port: number, path: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host,
        port,
        path: path || '/',
        method: 'POST',
        agent: false,
        timeout: POST_TIMEOUT_MS,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const s = res.statusCode ?? 0;
          if (s >= 200 && s < 300) resolve();
          else reject(new Error(`telemetry listener answered ${s}`));
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('telemetry listener timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Formats a Date as the Telemetry API does: UTC with milliseconds. */
export function telemetryTime(d = new Date()): string {
  return d.toISOString();
}

/**
 * All telemetry of one sandbox: the record of every event, the replay history of the current
 * init (events generated before a subscription are replayed to it), and the subscribers.
 */
export class TelemetryHub {
  /** Every event emitted since the emulator started, for tests and tools. */
  readonly events: TelemetryEvent[] = [];
  readonly #history: TelemetryEvent[] = [];
  readonly #subscribers: Subscriber[] = [];
  #paused = false;
  #listeners = new Set<(e: TelemetryEvent) => void>();

  constructor(readonly deliverHost = '127.0.0.1') {}

  get subscribers(): readonly Subscriber[] {
    return this.#subscribers;
  }

  onEvent(fn: (e: TelemetryEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  emit(type: string, record: unknown, time = new Date()): TelemetryEvent {
    const event: TelemetryEvent = { time: telemetryTime(time), type, record };
    this.events.push(event);
    this.#history.push(event);
    for (const s of this.#subscribers) if (s.wants(type)) s.push(event);
    for (const fn of this.#listeners) fn(event);
    return event;
  }

  subscribe(extensionName: string, req: SubscriptionRequest): Subscriber {
    const sub = new Subscriber(
      extensionName,
      req,
      this.deliverHost,
      () => this.#paused,
      (records, bytes) => {
        // Reported to the subscriber that lost records, as the platform does.
        const event: TelemetryEvent = {
          time: telemetryTime(),
          type: 'platform.logsDropped',
          record: {
            reason: 'Some logs were dropped because the downstream consumer is slower than the logs production rate',
            droppedRecords: records,
            droppedBytes: bytes,
          },
        };
        this.events.push(event);
        if (sub.wants(event.type)) sub.push(event);
      },
    );
    for (const e of this.#history) if (sub.wants(e.type)) sub.push(e);
    this.#subscribers.push(sub);
    return sub;
  }

  /** A new sandbox (after a reset): subscribers of the old processes are gone. */
  resetSandbox(): void {
    for (const s of this.#subscribers) s.close();
    this.#subscribers.length = 0;
    this.#history.length = 0;
  }

  /** Replay history is kept only while subscriptions are open (the init phase). */
  closeReplay(): void {
    this.#history.length = 0;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    for (const s of this.#subscribers) s.schedule();
  }

  async flush(deadline: number): Promise<void> {
    await Promise.all(this.#subscribers.map((s) => s.flush(deadline)));
  }
}
