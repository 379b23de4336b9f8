// The fake intake service: one node:http server answering the Datadog intake routes a Lambda
// extension uses, decoding each body strictly, recording every request (accepted or not),
// with typed queries for tests and fault injection for reliability tests.

import http from 'node:http';
import { EventEmitter, once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { IntakeError } from './errors.js';
import { decompress } from './decode.js';
import { spanRecords, metricPoints, sketchPoints } from './queries.js';
import type { MetricPoint, SketchPoint, SpanRecord } from './queries.js';
import { MiB, PROXY_PATHS, ROUTES, proxyRoute } from './routes.js';

export type { MetricKind, MetricPoint, SketchPoint, SpanRecord } from './queries.js';
export { PROXY_PATHS, ROUTES } from './routes.js';
import type {
  AgentPayload,
  CheckRun,
  EventPayload,
  LogEntry,
  PayloadKind,
  RecordedRequest,
  Series,
  SeriesPayload,
  Sketch,
  SketchPayload,
  StatsObject,
} from './types.js';

export interface FaultRule {
  /** Which requests: exact path, a RegExp on the path, or a payload kind; all when omitted. */
  path?: string | RegExp;
  kind?: PayloadKind;
  /** Answer with this status (and body) instead of processing. */
  status?: number;
  body?: string;
  /** Wait this long before answering (or before processing, when no status is given). */
  latencyMs?: number;
  /** Never answer; the socket stays open until the client gives up or the intake closes. */
  hang?: boolean;
  /** Destroy the connection without an answer. */
  reset?: boolean;
  /** How many requests the rule applies to; unlimited when omitted. */
  times?: number;
}

export interface Fault {
  readonly rule: FaultRule;
  /** How many requests the rule has hit so far. */
  readonly hits: number;
  remove(): void;
}

export interface FakeIntakeOptions {
  /** The accepted API key; any non-empty key when omitted. */
  apiKey?: string;
  /** Keep decompressed bodies of accepted payloads on their records (always kept on rejects). */
  keepBodies?: boolean;
}

function headerRecord(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function mediaType(h: string | undefined): string {
  return (h ?? '').split(';')[0]!.trim().toLowerCase();
}

function send(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function errorBody(message: string): string {
  return JSON.stringify({ errors: [message] });
}

/** JSON.stringify replacer: bigints as decimal strings, bytes as base64. */
export function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return v;
}

export class FakeIntake extends EventEmitter {
  readonly #opts: FakeIntakeOptions;
  readonly #server: http.Server;
  readonly #sockets = new Set<Socket>();
  readonly #faults: { rule: FaultRule; hits: number; removed: boolean }[] = [];
  #records: RecordedRequest[] = [];
  #seq = 0;
  #url: string | undefined;

  constructor(opts: FakeIntakeOptions = {}) {
    super();
    this.#opts = opts;
    this.#server = http.createServer((req, res) => void this.#handle(req, res));
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
    const entry = { rule, hits: 0, removed: false };
    this.#faults.push(entry);
    return {
      rule,
      get hits() {
        return entry.hits;
      },
      remove: () => {
        entry.removed = true;
      },
    };
  }

  clearFaults(): void {
    for (const f of this.#faults) f.removed = true;
    this.#faults.length = 0;
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

  #matchFault(path: string, kind: PayloadKind): { rule: FaultRule; hits: number } | undefined {
    for (const f of this.#faults) {
      if (f.removed) continue;
      const r = f.rule;
      if (r.times !== undefined && f.hits >= r.times) continue;
      if (typeof r.path === 'string' && r.path !== path) continue;
      if (r.path instanceof RegExp && !r.path.test(path)) continue;
      if (r.kind !== undefined && r.kind !== kind) continue;
      f.hits++;
      return f;
    }
    return undefined;
  }

  #record(rec: Omit<RecordedRequest, 'seq' | 'receivedAt'>): void {
    const full: RecordedRequest = { seq: ++this.#seq, receivedAt: Date.now(), ...rec };
    this.#records.push(full);
    this.emit('request', full);
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    const headers = headerRecord(req.headers);
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
    const route = ROUTES[path] ?? (PROXY_PATHS.includes(path) ? proxyRoute : undefined);
    const kind: PayloadKind = route?.kind ?? 'unknown';
    const base = { method, path, kind, headers, encoding };

    const fault = this.#matchFault(path, kind);
    if (fault) {
      const r = fault.rule;
      if (r.latencyMs) await new Promise((done) => setTimeout(done, r.latencyMs).unref());
      if (r.hang || r.reset || r.status !== undefined) {
        const wire = await readBody(req, Infinity).catch(() => Buffer.alloc(0));
        const label = r.hang ? 'hang' : r.reset ? 'reset' : `status ${r.status}`;
        this.#record({ ...base, wireBytes: wire.length, bodyBytes: 0, status: r.status ?? 0, accepted: false, fault: label });
        if (r.hang) return;
        if (r.reset) {
          req.socket.destroy();
          return;
        }
        send(res, r.status!, r.body ?? errorBody(`fault injected: ${label}`));
        return;
      }
    }

    if (!route) {
      const wire = await readBody(req, 50 * MiB).catch(() => Buffer.alloc(0));
      this.#record({ ...base, wireBytes: wire.length, bodyBytes: wire.length, status: 404, accepted: false, body: wire });
      send(res, 404, errorBody(`no such intake route: ${method} ${path}`));
      return;
    }

    const reject = (status: number, err: { code: string; message: string }, wire = 0, body?: Buffer): void => {
      this.#record({ ...base, wireBytes: wire, bodyBytes: body?.length ?? 0, status, accepted: false, error: err, ...(body ? { body } : {}) });
      send(res, status, errorBody(err.message));
    };

    if (!route.methods.includes(method)) {
      await readBody(req, Infinity).catch(() => undefined);
      res.setHeader('allow', route.methods.join(', '));
      reject(405, { code: 'FI_ERR_METHOD', message: `${method} not allowed on ${path}` });
      return;
    }
    const key = req.headers['dd-api-key'];
    if (typeof key !== 'string' || key === '' || (this.#opts.apiKey !== undefined && key !== this.#opts.apiKey)) {
      await readBody(req, Infinity).catch(() => undefined);
      reject(403, { code: 'FI_ERR_API_KEY', message: 'Forbidden: missing or invalid DD-API-KEY' });
      return;
    }
    if (route.kind === 'validate') {
      this.#record({ ...base, wireBytes: 0, bodyBytes: 0, status: 200, accepted: true });
      send(res, route.ok.status, route.ok.body);
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > route.maxWireBytes) {
      reject(413, { code: 'FI_ERR_TOO_LARGE', message: `body of ${declared} bytes exceeds ${route.maxWireBytes}` }, declared);
      req.resume();
      return;
    }
    let wire: Buffer;
    try {
      wire = await readBody(req, route.maxWireBytes);
    } catch (err) {
      reject(413, { code: 'FI_ERR_TOO_LARGE', message: (err as Error).message });
      return;
    }
    if (route.contentTypes && !route.contentTypes.includes(mediaType(req.headers['content-type']))) {
      reject(400, {
        code: 'FI_ERR_CONTENT_TYPE',
        message: `Content-Type "${req.headers['content-type'] ?? ''}" on ${path}; expected ${route.contentTypes.join(' or ')}`,
      }, wire.length, wire);
      return;
    }
    let body: Buffer;
    let decoded: unknown;
    try {
      body = decompress(wire, encoding, route.maxBodyBytes);
      decoded = route.decode ? route.decode(body) : undefined;
    } catch (err) {
      const e = err instanceof IntakeError ? err : new IntakeError('FI_ERR_SCHEMA', String(err));
      reject(e.code === 'FI_ERR_TOO_LARGE' ? 413 : 400, { code: e.code, message: e.message }, wire.length, wire);
      return;
    }
    const keep = route.kind === 'proxy' || this.#opts.keepBodies === true;
    this.#record({
      ...base,
      wireBytes: wire.length,
      bodyBytes: body.length,
      status: route.ok.status,
      accepted: true,
      ...(decoded !== undefined ? { decoded } : {}),
      ...(keep ? { body } : {}),
    });
    send(res, route.ok.status, route.ok.body);
  }
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new Error(`body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, n)));
    req.on('error', reject);
  });
}

/** Builds a fake intake; call `listen()` to serve it. */
export function buildFakeIntake(opts: FakeIntakeOptions = {}): FakeIntake {
  return new FakeIntake(opts);
}
