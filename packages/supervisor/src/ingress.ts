// Every ingestion socket, bound by the supervisor before the first /next so nothing a function
// sends is refused: the trace receiver and lifecycle listener (TCP, and the trace receiver's Unix
// socket; handed to their unit's worker connection by connection), DogStatsD (UDP, ingress-udp.ts) and
// the Telemetry API listener (ingress-telemetry.ts). The sockets stay open across worker restarts.
import { lstatSync, statSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type { Config } from '@dd-lambda/config';
import type { Logger } from '@dd-lambda/logger';
import { INGRESSES, PROTOCOL, ownArrayBuffer } from '@dd-lambda/protocol';
import type { Ingress, PlatformEvent, TcpIngress, UnitSpec } from '@dd-lambda/protocol';
import { DogStatsDSocket, type UdpCounters } from './ingress-udp.js';
import { TelemetryListener, type TelemetryCounters } from './ingress-telemetry.js';
import { listen } from './listen.js';
import type { WorkerSet } from './workers.js';

/** How often a watched Unix socket's file is checked (mini agent: a removed file strands new clients). */
export const SOCKET_WATCH_MS = 1000;

export interface IngressCounters extends UdpCounters, TelemetryCounters {
  /** TCP connections closed because no unit serves their port. */
  unownedConnections: number;
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
  /** Which ingresses to bind (all four in Lambda). */
  ingresses?: readonly Ingress[];
  /** Called with the platform events of every telemetry batch (flush control, shutdown wait). */
  onPlatform?: (events: PlatformEvent[]) => void;
  /**
   * A listener stopped accepting without being told to (closed, or its socket file removed). Given,
   * the Unix socket's file is also watched; the caller decides (the mini agent exits).
   */
  onListenerLost?: (what: string, err: Error) => void;
}

function owners(units: readonly UnitSpec[]): Map<Ingress, string> {
  const m = new Map<Ingress, string>();
  for (const u of units) for (const i of u.ingress) if (!m.has(i)) m.set(i, u.name);
  return m;
}

export class IngressServers {
  readonly #o: IngressOptions;
  readonly counters: IngressCounters = {
    unownedConnections: 0,
    datagrams: 0,
    truncatedDatagrams: 0,
    droppedDatagrams: 0,
    kernelDroppedDatagrams: 0,
    telemetryBatches: 0,
    badTelemetryBatches: 0,
    refusedTelemetryBatches: 0,
  };
  readonly #workers: WorkerSet;
  readonly #owners: Map<Ingress, string>;
  readonly #platformUnits: string[];
  readonly #ingresses: ReadonlySet<Ingress>;
  #tcp: net.Server[] = [];
  readonly #udp: DogStatsDSocket;
  readonly #telemetry: TelemetryListener;
  #watch: NodeJS.Timeout | undefined;
  #connId = 0;
  #stopped = false;

  constructor(options: IngressOptions) {
    this.#o = options;
    this.#workers = options.workers;
    this.#owners = owners(options.units);
    this.#ingresses = new Set(options.ingresses ?? INGRESSES);
    this.#platformUnits = options.units.filter((u) => u.events.includes('platform')).map((u) => u.name);
    this.#udp = new DogStatsDSocket({
      counters: this.counters,
      forward: (packed, lengths) => this.#forwardDatagrams(packed, lengths),
      bufferSize: options.config.dogstatsdBufferSize,
      queueSize: options.config.dogstatsdQueueSize,
    });
    this.#telemetry = new TelemetryListener({ logger: options.logger, counters: this.counters, forward: (body, platform) => this.#forwardTelemetry(body, platform) });
  }

  get lastTelemetryAt(): number {
    return this.#telemetry.lastAt;
  }

  /** Binds the ingestion sockets in parallel; rejects with SV_ERR_BIND naming the port. */
  async bind(): Promise<void> {
    const { ports, dogstatsdSoRcvbuf, otlp } = this.#o.config;
    const on = (i: Ingress): boolean => this.#ingresses.has(i);
    const lost =
      (what: string) =>
      (err: Error): void => {
        if (!this.#stopped) this.#o.onListenerLost?.(what, err);
      };
    await Promise.all([
      on('apm') ? this.#bindTcp('apm', ports.apm) : undefined,
      on('apm') ? this.#bindApmSocket() : undefined,
      on('lifecycle') ? this.#bindTcp('lifecycle', ports.lifecycle) : undefined,
      // Off unless configured: nothing of OTLP runs on the way to the first /next otherwise.
      on('otlp-http') && otlp.httpPort !== undefined ? this.#bindTcp('otlp-http', otlp.httpPort) : undefined,
      on('otlp-grpc') && otlp.grpcPort !== undefined ? this.#bindTcp('otlp-grpc', otlp.grpcPort) : undefined,
      on('dogstatsd') ? this.#udp.bind(ports.dogstatsd, dogstatsdSoRcvbuf, this.#o.logger, lost(`DogStatsD (127.0.0.1:${ports.dogstatsd}/udp)`)) : undefined,
      on('telemetry') ? this.#telemetry.bind(ports.telemetry) : undefined,
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
  async #bindApmSocket(): Promise<void> {
    const where = IngressServers.apmSocketPath(this.#o.config);
    if (where === undefined) return;
    if (process.platform !== 'win32') {
      try {
        // A socket file left by a previous sandbox would make listen fail with EADDRINUSE.
        if (lstatSync(where).isSocket()) unlinkSync(where);
      } catch {
        // absent: nothing to clean
      }
    }
    const server = this.#server('apm', `traces (${where})`);
    await listen(server, { path: where }, 'traces', this.#o.logger);
    if (this.#o.onListenerLost !== undefined && process.platform !== 'win32') this.#watchSocketFile(server, where);
  }

  /** A removed socket file strands every new client: treat it as the listener lost. */
  #watchSocketFile(server: net.Server, file: string): void {
    const ino = statSync(file).ino;
    this.#watch = setInterval(() => {
      let now: number | undefined;
      try {
        now = statSync(file).ino;
      } catch {
        now = undefined;
      }
      if (now === ino || this.#stopped) return;
      clearInterval(this.#watch);
      server.close();
      this.#o.onListenerLost?.(`traces (${file})`, new Error(`the socket file ${file} was removed or replaced`));
    }, SOCKET_WATCH_MS);
    this.#watch.unref();
  }

  #server(ingress: TcpIngress, what: string): net.Server {
    // allowHalfOpen: a client that half-closes after its request must still get the answer.
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => this.#onConnection(ingress, socket));
    server.on('close', () => {
      if (!this.#stopped) this.#o.onListenerLost?.(what, new Error(`the ${what} listener closed`));
    });
    this.#tcp.push(server);
    return server;
  }

  #bindTcp(ingress: TcpIngress, port: number): Promise<void> {
    const what = { apm: 'traces', lifecycle: 'the lifecycle API', 'otlp-http': 'OTLP traces (HTTP)', 'otlp-grpc': 'OTLP traces (gRPC)' }[ingress];
    return listen(this.#server(ingress, `${what} (127.0.0.1:${port})`), { port, host: '127.0.0.1' }, what, this.#o.logger);
  }

  #onConnection(ingress: TcpIngress, socket: net.Socket): void {
    socket.on('error', () => undefined); // a client reset must not surface as an uncaught error
    const unit = this.#owners.get(ingress);
    if (unit === undefined || !this.#workers.connect(unit, ingress, socket, ++this.#connId)) {
      this.counters.unownedConnections++;
      socket.destroy();
    }
  }

  #forwardDatagrams(packed: Buffer, lengths: number[]): boolean {
    const unit = this.#owners.get('dogstatsd');
    if (unit === undefined) return false;
    const data = ownArrayBuffer(packed);
    return this.#workers.send(unit, { p: PROTOCOL, t: 'DATAGRAMS', unit, data, lengths }, [data], data.byteLength);
  }

  #forwardTelemetry(body: Buffer, platform: PlatformEvent[]): boolean {
    const unit = this.#owners.get('telemetry');
    if (unit !== undefined) {
      const data = ownArrayBuffer(body);
      if (!this.#workers.send(unit, { p: PROTOCOL, t: 'TELEMETRY', unit, data }, [data], data.byteLength)) return false;
    }
    if (platform.length === 0) return true;
    this.#o.onPlatform?.(platform);
    for (const u of this.#platformUnits) this.#workers.send(u, { p: PROTOCOL, t: 'PLATFORM', unit: u, events: platform });
    return true;
  }

  /** Counts the kernel's DogStatsD drops since the last flush into the pipeline (see ingress-udp.ts). */
  collectKernelDrops(): number {
    return this.#udp.collectKernelDrops();
  }

  /** SHUTDOWN: stop accepting new TCP connections and datagrams; hand over what was received. */
  stopInputs(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#watch);
    for (const s of this.#tcp) s.close();
    this.#udp.close();
  }

  /**
   * Last: the telemetry listener (the platform may still deliver the final report). A request still
   * open after `graceMs` (a body that never completes) is cut, so it cannot hold SHUTDOWN.
   */
  async close(graceMs = 100): Promise<void> {
    this.stopInputs();
    await this.#telemetry.close(graceMs);
  }

  /**
   * SHUTDOWN's first steps: stop new input, then, since the platform may still be delivering the last
   * telemetry batch, wait until telemetry has been quiet TELEMETRY_QUIET_MS (at most TELEMETRY_WAIT_MAX_MS,
   * and never past half the time left before `deadline`), then close the listener.
   */
  async quiesce(deadline: number): Promise<void> {
    this.stopInputs();
    const until = Math.min(Date.now() + TELEMETRY_WAIT_MAX_MS, deadline - (deadline - Date.now()) / 2);
    while (Date.now() < until && Date.now() - this.lastTelemetryAt < TELEMETRY_QUIET_MS) await new Promise((r) => setTimeout(r, 10).unref());
    await this.close();
  }
}

/** After SHUTDOWN, wait for the platform's last telemetry until it is quiet this long (bottlecap waits up to 300 ms). */
export const TELEMETRY_QUIET_MS = 50;
export const TELEMETRY_WAIT_MAX_MS = 300;
