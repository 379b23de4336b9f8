// The fake intake service: one node:http server answering the Datadog intake routes a Lambda
// extension uses, decoding each body strictly, recording every request (accepted or not),
// with typed queries for tests and fault injection for reliability tests.

import http from 'node:http';
import { EventEmitter, once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { FaultList } from './faults.js';
import type { Fault, FaultRule } from './faults.js';
import { handleRequest } from './handler.js';
import type { HandlerContext } from './handler.js';
import { spanRecords, metricPoints, sketchPoints } from './queries.js';
import type { MetricPoint, SketchPoint, SpanRecord } from './queries.js';

export type { MetricKind, MetricPoint, SketchPoint, SpanRecord } from './queries.js';
export { PROXY_PATHS, ROUTES } from './routes.js';
export type { Fault, FaultRule } from './faults.js';
import type { AgentPayload, CheckRun, EventPayload, LogEntry, PayloadKind, RecordedRequest, Series, SeriesPayload, Sketch, SketchPayload, StatsObject } from './types.js';

export interface FakeIntakeOptions {
  /** The accepted API key; any non-empty key when omitted. */
  apiKey?: string;
  /** Keep decompressed bodies of accepted payloads on their records (always kept on rejects). */
  keepBodies?: boolean;
}

/** JSON.stringify replacer: bigints as decimal strings, bytes as base64. */
export function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return v;
}

export class FakeIntake extends EventEmitter {
  readonly #server: http.Server;
  readonly #sockets = new Set<Socket>();
  readonly #faults = new FaultList();
  #records: RecordedRequest[] = [];
  #seq = 0;
  #url: string | undefined;

  constructor(opts: FakeIntakeOptions = {}) {
    super();
    const ctx: HandlerContext = { opts, matchFault: (path, kind) => this.#faults.match(path, kind), record: (rec) => this.#record(rec) };
    this.#server = http.createServer((req, res) => void handleRequest(ctx, req, res));
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  /** Base URL, e.g. `http://127.0.0.1:41234`; set once listening. */
  get url(): string {
    if (!this.#url) throw new Error('the fake intake is not listening');
    return this.#url;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    this.#server.listen(port, host);
    await once(this.#server, 'listening');
    const a = this.#server.address() as AddressInfo;
    this.#url = `http://${host}:${a.port}`;
    return this.#url;
  }

  async close(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = once(this.#server, 'close');
    this.#server.close();
    // Hung requests and idle keep-alive sockets would keep close() waiting forever.
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  injectFault(rule: FaultRule): Fault {
    return this.#faults.add(rule);
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  /** Forget every record (faults stay). */
  reset(): void {
    this.#records = [];
  }

  // ---- queries ----

  requests(filter?: { kind?: PayloadKind; path?: string; accepted?: boolean }): RecordedRequest[] {
    return this.#records.filter(
      (r) =>
        (filter?.kind === undefined || r.kind === filter.kind) &&
        (filter?.path === undefined || r.path === filter.path) &&
        (filter?.accepted === undefined || r.accepted === filter.accepted),
    );
  }

  #decoded<T>(kind: PayloadKind): T[] {
    return this.requests({ kind, accepted: true }).map((r) => r.decoded as T);
  }

  traces(): AgentPayload[] {
    return this.#decoded<AgentPayload>('traces');
  }

  spans(): SpanRecord[] {
    return spanRecords(this.traces());
  }

  stats(): StatsObject[] {
    return this.#decoded<StatsObject>('stats');
  }

  series(): Series[] {
    return this.#decoded<SeriesPayload>('series').flatMap((p) => p.series);
  }

  metricPoints(metric?: string): MetricPoint[] {
    return metricPoints(this.series(), metric);
  }

  sketches(): Sketch[] {
    return this.#decoded<SketchPayload>('sketches').flatMap((p) => p.sketches);
  }

  sketchPoints(metric?: string): SketchPoint[] {
    return sketchPoints(this.sketches(), metric);
  }

  events(): EventPayload[] {
    return this.#decoded<EventPayload>('events');
  }

  checkRuns(): CheckRun[] {
    return this.#decoded<CheckRun[]>('check_run').flat();
  }

  logs(): LogEntry[] {
    return this.#decoded<LogEntry[]>('logs').flat();
  }

  proxied(path?: string): RecordedRequest[] {
    return this.requests({ kind: 'proxy', accepted: true }).filter((r) => path === undefined || r.path === path);
  }

  /** Requests to routes the intake does not serve (answered 404, never silently accepted). */
  unknown(): RecordedRequest[] {
    return this.requests({ kind: 'unknown' });
  }

  /** Everything recorded, as JSON (bigints as strings, bytes as base64, raw bodies left out). */
  dump(): string {
    return JSON.stringify(
      this.#records.map(({ body: _body, ...r }) => r),
      jsonReplacer,
      2,
    );
  }

  /** Resolves once `predicate(this)` holds, checked now and after every request. */
  async waitFor(predicate: (intake: this) => boolean, timeoutMs = 10_000): Promise<void> {
    if (predicate(this)) return;
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake intake: condition not met within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('request', check);
      };
      this.on('request', check);
    });
  }

  // ---- request handling ----

  #record(rec: Omit<RecordedRequest, 'seq' | 'receivedAt'>): void {
    const full: RecordedRequest = { seq: ++this.#seq, receivedAt: Date.now(), ...rec };
    this.#records.push(full);
    this.emit('request', full);
  }
}

/** Builds a fake intake; call `listen()` to serve it. */
export function buildFakeIntake(opts: FakeIntakeOptions = {}): FakeIntake {
  return new FakeIntake(opts);
}
