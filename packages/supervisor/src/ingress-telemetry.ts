// The Telemetry API listener: acknowledges each batch the platform posts, forwards it unparsed to the
// logs unit, and extracts platform events (as bounded copies) for whoever needs them. A batch we
// cannot take is answered 503 so the platform keeps it and retries.
import http from 'node:http';
import type { Logger } from '@dd-lambda/logger';
import type { PlatformEvent } from '@dd-lambda/protocol';
import { listen } from './listen.js';

/**
 * A Telemetry API batch is at most 256 KiB by our subscription and Lambda caps one at 1 MB: a larger body is
 * refused from its Content-Length (or when the read passes the cap) without being read, and the
 * connection is closed.
 */
export const MAX_TELEMETRY_BODY = 1024 * 1024;
/**
 * Platform records travel to units as plain data no deeper and no larger than this: every field a unit
 * reads is at most three levels down (`record.metrics.durationMs`, `record.spans[0].name`), and a record
 * nested 200,000 levels deep would otherwise overflow the structured clone's stack in postMessage.
 */
export const RECORD_MAX_DEPTH = 4;
export const RECORD_MAX_ITEMS = 64;
export const RECORD_MAX_STRING = 4096;

/** A bounded copy of parsed JSON: deeper levels, items past the cap and non-JSON values are left out. */
export function boundedCopy(v: unknown, depth = 0): unknown {
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'string') return v.length > RECORD_MAX_STRING ? v.slice(0, RECORD_MAX_STRING) : v;
  if (depth >= RECORD_MAX_DEPTH || typeof v !== 'object') return undefined;
  if (Array.isArray(v)) return v.slice(0, RECORD_MAX_ITEMS).map((x) => boundedCopy(x, depth + 1) ?? null);
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (n++ >= RECORD_MAX_ITEMS) break;
    const c = boundedCopy(x, depth + 1);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

export interface TelemetryCounters {
  telemetryBatches: number;
  badTelemetryBatches: number;
  refusedTelemetryBatches: number;
}

export class TelemetryListener {
  readonly #server: http.Server;
  readonly #log: Logger;
  readonly #counters: TelemetryCounters;
  /** Hands the batch (and its platform events) on; false when it could not be taken. */
  readonly #forward: (body: Buffer, platform: PlatformEvent[]) => boolean;
  #lastAt = 0;

  constructor(o: { logger: Logger; counters: TelemetryCounters; forward: (body: Buffer, platform: PlatformEvent[]) => boolean }) {
    this.#log = o.logger;
    this.#counters = o.counters;
    this.#forward = o.forward;
    this.#server = http.createServer((req, res) => this.#onRequest(req, res));
    this.#server.keepAliveTimeout = 60_000;
  }

  /** When the last batch arrived (epoch ms). */
  get lastAt(): number {
    return this.#lastAt;
  }

  bind(port: number): Promise<void> {
    // 0.0.0.0 as Datadog's extension does: the platform reaches it as `sandbox`.
    return listen(this.#server, { port, host: '0.0.0.0' }, 'Telemetry API events', this.#log);
  }

  #onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method !== 'POST' || (req.url !== '/' && req.url !== '')) {
      res.writeHead(404).end();
      req.resume();
      return;
    }
    const refuse = (): void => {
      this.#counters.refusedTelemetryBatches++;
      // Connection: close, so node:http ends the socket after the answer instead of draining the body.
      res.writeHead(413, { connection: 'close' }).end();
    };
    req.on('error', () => undefined);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_TELEMETRY_BODY) {
      refuse();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      if (tooBig) return;
      size += c.length;
      if (size <= MAX_TELEMETRY_BODY) {
        chunks.push(c);
        return;
      }
      tooBig = true;
      chunks.length = 0;
      refuse();
    });
    req.on('end', () => {
      if (tooBig) return;
      this.#lastAt = Date.now();
      const body = Buffer.concat(chunks, size);
      this.#counters.telemetryBatches++;
      // Platform events are read before the body is transferred to the logs unit: a transfer can detach
      // the body's memory (batches over the Buffer pool size own theirs). Function logs stay unparsed.
      const platform = body.includes('"platform.') ? this.#platformEvents(body) : [];
      if (!this.#forward(body, platform)) {
        // Not accepted: the platform keeps the batch and retries it, so nothing is lost here.
        this.#counters.refusedTelemetryBatches++;
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200).end();
    });
  }

  #platformEvents(body: Buffer): PlatformEvent[] {
    let events: unknown;
    try {
      events = JSON.parse(body.toString('utf8'));
    } catch {
      this.#counters.badTelemetryBatches++;
      this.#log.warn({ bytes: body.length }, 'telemetry batch is not JSON; acknowledged and skipped');
      return [];
    }
    if (!Array.isArray(events)) {
      this.#counters.badTelemetryBatches++;
      return [];
    }
    // Only well-formed platform events go on, as bounded copies: nothing a socket receives can make a
    // later postMessage or a unit throw.
    const out: PlatformEvent[] = [];
    for (const e of events as unknown[]) {
      if (e === null || typeof e !== 'object') continue;
      const { type, time, record } = e as Record<string, unknown>;
      if (typeof type !== 'string' || !type.startsWith('platform.') || type.length > 64) continue;
      out.push({ type, time: typeof time === 'string' ? time.slice(0, 64) : '', record: boundedCopy(record) ?? null });
    }
    return out;
  }

  /** A request still open after `graceMs` (a body that never completes) is cut, so it cannot hold SHUTDOWN. */
  async close(graceMs: number): Promise<void> {
    const t = this.#server;
    if (!t.listening) return;
    t.closeIdleConnections();
    const closed = new Promise<void>((r) => t.close(() => r()));
    const timer = setTimeout(() => t.closeAllConnections(), graceMs);
    timer.unref();
    await closed;
    clearTimeout(timer);
  }
}
