// Every ingestion socket, bound by the supervisor before the first /next so nothing a function
// sends is refused: the trace receiver and lifecycle listener (TCP, handed to their unit's worker
// connection by connection), DogStatsD (UDP, handed over in batches) and the Telemetry API listener
// (acknowledged here, forwarded unparsed to the logs unit; platform events extracted for whoever
// needs them). The sockets stay open across worker restarts.
import dgram from 'node:dgram';
import { lstatSync, readFileSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { Config } from '@dd-lambda/config';
import type { Logger } from '@dd-lambda/logger';
import { PROTOCOL, ownArrayBuffer } from '@dd-lambda/protocol';
import type { Ingress, PlatformEvent, TcpIngress, UnitSpec } from '@dd-lambda/protocol';
import { SupervisorError } from './errors.js';
import type { WorkerSet } from './workers.js';

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
/** Datagrams are handed over once per event-loop turn, or sooner when a batch reaches this size. */
export const DATAGRAM_BATCH_BYTES = 64 * 1024;

/** The metric the kernel's drops of DogStatsD datagrams are counted in (a count, with the function's tags). */
export const UDP_DROPS_METRIC = 'datadog.serverless.dogstatsd.packets_dropped';

/**
 * Datagrams the kernel dropped for the socket bound to 127.0.0.1:`port` (its receive buffer was full):
 * the `drops` column of /proc/net/udp. Undefined where the file or the socket is not found.
 */
export function kernelUdpDrops(port: number, file = '/proc/net/udp'): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local) {
      const drops = Number(f[f.length - 1]);
      return Number.isFinite(drops) ? drops : undefined;
    }
  }
  return undefined;
}

export interface IngressCounters {
  /** TCP connections closed because no unit serves their port. */
  unownedConnections: number;
  datagrams: number;
  /** Datagrams we could not hand to the DogStatsD unit. */
  droppedDatagrams: number;
  /** Datagrams the kernel dropped before we could read them (receive buffer full), per /proc/net/udp. */
  kernelDroppedDatagrams: number;
  telemetryBatches: number;
  badTelemetryBatches: number;
  refusedTelemetryBatches: number;
}

export interface IngressOptions {
  config: Readonly<Config>;
  logger: Logger;
  /**
   * Where input goes. Created before the first /next but spawned after it: until a thread is READY
   * the set queues datagrams and telemetry (bounded) and holds connections paused.
   */
  workers: WorkerSet;
  units: readonly UnitSpec[];
  /** Called with the platform events of every telemetry batch (flush control, shutdown wait). */
  onPlatform: (events: PlatformEvent[]) => void;
}

function owners(units: readonly UnitSpec[]): Map<Ingress, string> {
  const m = new Map<Ingress, string>();
  for (const u of units) for (const i of u.ingress) if (!m.has(i)) m.set(i, u.name);
  return m;
}

export class IngressServers {
  readonly #o: IngressOptions;
  readonly counters: IngressCounters = { unownedConnections: 0, datagrams: 0, droppedDatagrams: 0, kernelDroppedDatagrams: 0, telemetryBatches: 0, badTelemetryBatches: 0, refusedTelemetryBatches: 0 };
  /** The kernel's drop count at the last read, and how many datagrams we had read by then. */
  #kernelDropsBase = 0;
  #datagramsAtRead = 0;
  readonly #workers: WorkerSet;
  readonly #owners: Map<Ingress, string>;
  readonly #platformUnits: string[];
  #tcp: net.Server[] = [];
  #udp: dgram.Socket | undefined;
  #telemetry: http.Server | undefined;
  #batch: Buffer[] = [];
  #batchBytes = 0;
  #batchScheduled = false;
  #connId = 0;
  #lastTelemetryAt = 0;
  #stopped = false;

  constructor(options: IngressOptions) {
    this.#o = options;
    this.#workers = options.workers;
    this.#owners = owners(options.units);
    this.#platformUnits = options.units.filter((u) => u.events.includes('platform')).map((u) => u.name);
  }

  get lastTelemetryAt(): number {
    return this.#lastTelemetryAt;
  }

  /** Binds all four ingestion sockets in parallel; rejects with SV_ERR_BIND naming the port. */
  async bind(): Promise<void> {
    const { ports } = this.#o.config;
    await Promise.all([
      this.#bindTcp('apm', ports.apm),
      this.#bindTcp('lifecycle', ports.lifecycle),
      this.#bindUdp(ports.dogstatsd),
      this.#bindTelemetry(ports.telemetry),
      this.#bindApmSocket(),
    ]);
  }

  /** Where the trace receiver's second listener lives: the Unix socket, or on Windows the named pipe. */
  static apmSocketPath(config: Readonly<Config>, platform: NodeJS.Platform = process.platform): string | undefined {
    if (platform === 'win32') return config.apmWindowsPipeName === undefined ? undefined : `\\\\.\\pipe\\${config.apmWindowsPipeName}`;
    return config.apmReceiverSocket;
  }

  /**
   * DD_APM_RECEIVER_SOCKET: the same trace receiver on a Unix socket (a named pipe on Windows).
   * Its connections reach the same unit as TCP ones, and it is closed with them at SHUTDOWN.
   */
  #bindApmSocket(): Promise<void> {
    const where = IngressServers.apmSocketPath(this.#o.config);
    if (where === undefined) return Promise.resolve();
    if (process.platform !== 'win32') {
      try {
        // A socket file left by a previous sandbox would make listen fail with EADDRINUSE.
        if (lstatSync(where).isSocket()) unlinkSync(where);
      } catch {
        // absent: nothing to clean
      }
    }
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => this.#onConnection('apm', socket));
    this.#tcp.push(server);
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => reject(new SupervisorError('SV_ERR_BIND', `cannot listen for traces on ${where}: ${err.code ?? err.message}`, { cause: err }));
      server.once('error', onError);
      server.listen({ path: where, exclusive: true }, () => {
        server.off('error', onError);
        server.on('error', (err) => this.#o.logger.error({ err, what: 'traces (socket)' }, 'listener error'));
        resolve();
      });
    });
  }

  #listen(server: net.Server, port: number, host: string, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => reject(new SupervisorError('SV_ERR_BIND', `cannot listen for ${what} on ${host}:${port}: ${err.code ?? err.message}`, { cause: err }));
      server.once('error', onError);
      server.listen({ port, host, exclusive: true }, () => {
        server.off('error', onError);
        server.on('error', (err) => this.#o.logger.error({ err, what }, 'listener error'));
        resolve();
      });
    });
  }

  #bindTcp(ingress: TcpIngress, port: number): Promise<void> {
    // allowHalfOpen: a client that half-closes after its request must still get the answer.
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => this.#onConnection(ingress, socket));
    this.#tcp.push(server);
    return this.#listen(server, port, '127.0.0.1', ingress === 'apm' ? 'traces' : 'the lifecycle API');
  }

  #onConnection(ingress: TcpIngress, socket: net.Socket): void {
    socket.on('error', () => undefined); // a client reset must not surface as an uncaught error
    const unit = this.#owners.get(ingress);
    if (unit === undefined || !this.#workers.connect(unit, ingress, socket, ++this.#connId)) {
      this.counters.unownedConnections++;
      socket.destroy();
    }
  }

  #bindUdp(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: this.#o.config.dogstatsdSoRcvbuf });
      this.#udp = sock;
      const onError = (err: NodeJS.ErrnoException): void => reject(new SupervisorError('SV_ERR_BIND', `cannot bind DogStatsD on 127.0.0.1:${port}/udp: ${err.code ?? err.message}`, { cause: err }));
      sock.once('error', onError);
      sock.on('message', (msg) => this.#onDatagram(msg));
      sock.bind({ port, address: '127.0.0.1', exclusive: true }, () => {
        sock.off('error', onError);
        sock.on('error', (err) => this.#o.logger.error({ err }, 'DogStatsD socket error'));
        resolve();
      });
    });
  }

  #onDatagram(msg: Buffer): void {
    this.counters.datagrams++;
    this.#batch.push(msg);
    this.#batchBytes += msg.length;
    if (this.#batchBytes >= DATAGRAM_BATCH_BYTES) this.#sendBatch();
    else if (!this.#batchScheduled) {
      this.#batchScheduled = true;
      setImmediate(() => this.#sendBatch());
    }
  }

  #sendBatch(): void {
    this.#batchScheduled = false;
    if (this.#batch.length === 0) return;
    const lengths = this.#batch.map((b) => b.length);
    const packed = Buffer.concat(this.#batch, this.#batchBytes);
    const count = this.#batch.length;
    this.#batch = [];
    this.#batchBytes = 0;
    const unit = this.#owners.get('dogstatsd');
    const data = ownArrayBuffer(packed);
    const ok = unit !== undefined && this.#workers.send(unit, { p: PROTOCOL, t: 'DATAGRAMS', unit, data, lengths }, [data], data.byteLength);
    if (!ok) this.counters.droppedDatagrams += count;
  }

  #bindTelemetry(port: number): Promise<void> {
    const server = http.createServer((req, res) => this.#onTelemetry(req, res));
    server.keepAliveTimeout = 60_000;
    this.#telemetry = server;
    // 0.0.0.0 as Datadog's extension does: the platform reaches it as `sandbox`.
    return this.#listen(server, port, '0.0.0.0', 'Telemetry API events');
  }

  #onTelemetry(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method !== 'POST' || (req.url !== '/' && req.url !== '')) {
      res.writeHead(404).end();
      req.resume();
      return;
    }
    const refuse = (): void => {
      this.counters.refusedTelemetryBatches++;
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
      this.#lastTelemetryAt = Date.now();
      const body = Buffer.concat(chunks, size);
      if (!this.#accept(body)) {
        // Not accepted: the platform keeps the batch and retries it, so nothing is lost here.
        this.counters.refusedTelemetryBatches++;
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200).end();
    });
  }

  #accept(body: Buffer): boolean {
    this.counters.telemetryBatches++;
    // Platform events are read before the body is transferred to the logs unit: a transfer can detach
    // the body's memory (batches over the Buffer pool size own theirs). Function logs stay unparsed.
    const platform = body.includes('"platform.') ? this.#platformEvents(body) : [];
    const unit = this.#owners.get('telemetry');
    if (unit !== undefined) {
      const data = ownArrayBuffer(body);
      if (!this.#workers.send(unit, { p: PROTOCOL, t: 'TELEMETRY', unit, data }, [data], data.byteLength)) return false;
    }
    if (platform.length === 0) return true;
    this.#o.onPlatform(platform);
    for (const u of this.#platformUnits) this.#workers.send(u, { p: PROTOCOL, t: 'PLATFORM', unit: u, events: platform });
    return true;
  }

  #platformEvents(body: Buffer): PlatformEvent[] {
    let events: unknown;
    try {
      events = JSON.parse(body.toString('utf8'));
    } catch {
      this.counters.badTelemetryBatches++;
      this.#o.logger.warn({ bytes: body.length }, 'telemetry batch is not JSON; acknowledged and skipped');
      return [];
    }
    if (!Array.isArray(events)) {
      this.counters.badTelemetryBatches++;
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

  /**
   * Reads the kernel's drop counter for the DogStatsD socket; the drops since the last call are counted
   * and sent into the DogStatsD pipeline as one more line (so they reach Datadog with this flush's
   * metrics). Returns that number. Called before each flush.
   */
  collectKernelDrops(): number {
    // A full receive buffer means datagrams arrived and some were read: without any since the last
    // read there is nothing to look up (this saves the /proc read on invocations without DogStatsD).
    if (this.#udp === undefined || this.#stopped || this.counters.datagrams === this.#datagramsAtRead) return 0;
    this.#datagramsAtRead = this.counters.datagrams;
    const total = kernelUdpDrops(this.#o.config.ports.dogstatsd);
    if (total === undefined) return 0;
    const delta = Math.max(0, total - this.#kernelDropsBase);
    this.#kernelDropsBase = total;
    if (delta > 0) {
      this.counters.kernelDroppedDatagrams += delta;
      this.#onDatagram(Buffer.from(`${UDP_DROPS_METRIC}:${delta}|c`));
      this.#sendBatch();
    }
    return delta;
  }

  /** SHUTDOWN: stop accepting new TCP connections and datagrams; hand over what was received. */
  stopInputs(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const s of this.#tcp) s.close();
    this.#udp?.close();
    this.#sendBatch();
  }

  /**
   * Last: the telemetry listener (the platform may still deliver the final report). A request still
   * open after `graceMs` (a body that never completes) is cut, so it cannot hold SHUTDOWN.
   */
  async close(graceMs = 100): Promise<void> {
    this.stopInputs();
    const t = this.#telemetry;
    if (t) {
      t.closeIdleConnections();
      const closed = new Promise<void>((r) => t.close(() => r()));
      const timer = setTimeout(() => t.closeAllConnections(), graceMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
    }
  }
}
