// The worker threads and everything the supervisor sends them. Each slot is one thread running a
// fixed set of units. Messages to a slot wait (bounded) until its READY; a crashed slot is restarted
// up to a limit, and every request pending on it is answered as failed the moment it exits.
import { performance } from 'node:perf_hooks';
import type * as WorkerThreadsModule from 'node:worker_threads';
import type { Worker } from 'node:worker_threads';
import type { Socket } from 'node:net';
import type { Config } from '@dd-lambda/config';
import type { Logger } from '@dd-lambda/logger';
import { PROTOCOL, classifyFromWorker, toWireError } from '@dd-lambda/protocol';
import type { FlushReason, FromWorker, TcpIngress, ToWorker, UnitFlushReport, UnitSpec, WorkerInit } from '@dd-lambda/protocol';
import { SupervisorError } from './errors.js';
import { Slot, workerHeapLimits } from './worker-slot.js';

// node:worker_threads costs ~1.4 ms to load: fetched when the first thread is spawned, after /next.
type WorkerThreads = typeof WorkerThreadsModule;
let threads: WorkerThreads | undefined;
const wt = (): WorkerThreads => (threads ??= process.getBuiltinModule('node:worker_threads') as WorkerThreads);

export { MAX_QUEUED_BYTES, MAX_QUEUED_CONNECTIONS } from './worker-slot.js';
export const MAX_RESTARTS = 5;

export interface WorkerSetOptions {
  /** The worker thread entry file. */
  entry: string;
  threads: UnitSpec[][];
  unitsDir: string;
  config: Readonly<Config>;
  env: Record<string, string>;
  logger: Logger;
  maxRestarts?: number;
  onReady?: (slot: number, units: string[], msSinceSpawn: number) => void;
  onFlushRequest?: (unit: string, blocking: boolean) => void;
  /** A unit's payload got 403: the key may have been rotated. */
  onKeyRejected?: (unit: string) => void;
}

/** How long a flush waits at most for the threads' barrier (it takes well under a millisecond). */
export const BARRIER_MAX_MS = 200;

export interface WorkerSetStats {
  crashes: number;
  restarts: number;
  droppedBytes: number;
  droppedConnections: number;
}

export class WorkerSet {
  readonly #o: WorkerSetOptions;
  readonly #slots: Slot[];
  readonly #owner = new Map<string, Slot>();
  #nextId = 1;
  #closing = false;
  #apiKey: string | undefined;
  readonly stats: WorkerSetStats = { crashes: 0, restarts: 0, droppedBytes: 0, droppedConnections: 0 };
  #tags: Record<string, string> = {};
  #accountId: string | undefined;

  constructor(options: WorkerSetOptions) {
    this.#o = options;
    this.#slots = options.threads.map((units, i) => new Slot(i + 1, units));
    for (const s of this.#slots) for (const u of s.units) this.#owner.set(u.name, s);
  }

  get size(): number {
    return this.#slots.length;
  }

  /** The function's identity, known once register answered; travels to every thread. */
  identify(accountId: string | undefined, tags: Record<string, string>): void {
    this.#accountId = accountId;
    this.#tags = tags;
  }

  /** Spawns every thread; they load in parallel. */
  start(): void {
    for (const s of this.#slots) this.#spawn(s);
  }

  hasUnit(unit: string): boolean {
    const s = this.#owner.get(unit);
    return s !== undefined && !s.dead;
  }

  allReady(): boolean {
    return this.#slots.every((s) => s.ready || s.dead);
  }

  /** Resolves when every live slot is READY, or at the deadline. */
  async whenReady(deadline: number): Promise<boolean> {
    while (!this.allReady() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5).unref());
    return this.allReady();
  }

  /**
   * The API key resolved from AWS (or rotated): threads that are up get it now, threads still starting
   * get it after READY, threads started later carry it in their config.
   */
  setApiKey(key: string): void {
    this.#apiKey = key;
    const msg: ToWorker = { p: PROTOCOL, t: 'API_KEY', key };
    for (const s of this.#slots) {
      if (s.dead || !s.worker) continue;
      if (s.ready) s.worker.postMessage(msg);
      else s.queue.push({ msg, transfer: [], bytes: 0 });
    }
  }

  #spawn(s: Slot): void {
    const init: WorkerInit<Config> = {
      p: PROTOCOL,
      worker: s.index,
      units: s.units,
      remoteUnits: [...this.#owner.keys()].filter((u) => this.#owner.get(u) !== s),
      unitsDir: this.#o.unitsDir,
      config: this.#apiKey === undefined ? this.#o.config : { ...this.#o.config, apiKey: this.#apiKey },
      tags: this.#tags,
      accountId: this.#accountId,
    };
    s.ready = false;
    s.started = [];
    s.spawnedAt = performance.now();
    // execArgv [] and an env without NODE_OPTIONS: the function's Node flags are not ours.
    const w = new (wt().Worker)(this.#o.entry, {
      name: `dd-lambda-w${s.index}`,
      workerData: init,
      execArgv: [],
      env: this.#o.env,
      resourceLimits: workerHeapLimits(this.#o.config.aws.memorySizeMB),
    });
    s.worker = w;
    w.on('message', (raw: unknown) => this.#onMessage(s, w, raw));
    w.on('error', (err) => {
      this.#o.logger.error({ err, worker: s.index, units: s.units.map((u) => u.name) }, 'worker crashed');
    });
    w.on('messageerror', (err) => this.#o.logger.error({ err, worker: s.index }, 'worker message could not be deserialised'));
    w.on('exit', (code) => this.#onExit(s, w, code));
  }

  #onMessage(s: Slot, w: Worker, raw: unknown): void {
    if (s.worker !== w) return;
    const c = classifyFromWorker(raw);
    if (c.kind === 'foreign') return;
    if (c.kind === 'unknown') {
      this.#o.logger.error({ worker: s.index, tag: c.tag }, 'unknown message from worker; restarting it');
      void w.terminate();
      return;
    }
    this.#handle(s, c.msg);
  }

  #handle(s: Slot, msg: FromWorker): void {
    switch (msg.t) {
      case 'READY': {
        s.ready = true;
        s.started = msg.units;
        const ms = performance.now() - s.spawnedAt;
        this.#o.onReady?.(s.index, msg.units, ms);
        this.#wirePeers(s);
        const queue = s.queue;
        s.queue = [];
        s.queuedBytes = 0;
        for (const q of queue) s.worker?.postMessage(q.msg, q.transfer);
        const held = s.heldConnections;
        s.heldConnections = [];
        for (const h of held) if (!h.socket.destroyed) h.start();
        return;
      }
      case 'ERROR':
        this.#o.logger.error({ worker: s.index, unit: msg.unit, code: msg.error.code, error: msg.error.message, fatal: msg.fatal }, 'worker reported an error');
        return;
      case 'FLUSHED':
      case 'DRAINED': {
        const p = s.pending.get(msg.id);
        if (p) {
          s.pending.delete(msg.id);
          p.resolve(msg.reports);
        }
        return;
      }
      case 'FLUSH_REQUEST':
        this.#o.onFlushRequest?.(msg.unit, msg.blocking);
        return;
      case 'BARRIER_DONE':
        s.barriers.get(msg.id)?.();
        return;
      case 'KEY_REJECTED':
        this.#o.onKeyRejected?.(msg.unit);
        return;
    }
  }

  /** Peer channels between this slot and every other ready slot, so units can message each other. */
  #wirePeers(s: Slot): void {
    for (const other of this.#slots) {
      if (other === s || !other.ready || other.worker === undefined || s.worker === undefined) continue;
      const { port1, port2 } = new (wt().MessageChannel)();
      s.worker.postMessage({ p: PROTOCOL, t: 'PEER', worker: other.index, units: other.started, port: port1 } satisfies ToWorker, [port1]);
      other.worker.postMessage({ p: PROTOCOL, t: 'PEER', worker: s.index, units: s.started, port: port2 } satisfies ToWorker, [port2]);
    }
  }

  #onExit(s: Slot, w: Worker, code: number): void {
    if (s.worker !== w) return;
    s.worker = undefined;
    s.ready = false;
    // A barrier waits for no dead thread.
    for (const done of s.barriers.values()) done();
    s.barriers.clear();
    // Requests pending on the thread fail now, not at their deadline.
    for (const [id, p] of s.pending) {
      s.pending.delete(id);
      const error = toWireError(new SupervisorError('SV_ERR_WORKER_EXIT', `worker ${s.index} exited (code ${code}) during ${p.kind}`));
      p.resolve(s.units.map((u) => ({ unit: u.name, ok: false, sent: 0, dropped: 0, pending: 0, durationMs: 0, error })));
    }
    // Connections bridged to the dead thread cannot be resumed mid-request; clients reconnect.
    for (const c of s.connections) c.destroy();
    s.connections.clear();
    if (this.#closing) return;
    this.stats.crashes++;
    const limit = this.#o.maxRestarts ?? MAX_RESTARTS;
    if (s.restarts >= limit) {
      s.dead = true;
      this.#o.logger.error({ worker: s.index, code, restarts: s.restarts, units: s.units.map((u) => u.name) }, 'worker exited too often; its units stay down');
      this.#dropQueued(s);
      return;
    }
    s.restarts++;
    this.stats.restarts++;
    this.#o.logger.warn({ worker: s.index, code, restart: s.restarts, limit }, 'worker exited; restarting it');
    // A short, growing delay so a unit that crashes at start does not spin.
    setTimeout(() => {
      if (!this.#closing) this.#spawn(s);
    }, 20 * s.restarts).unref();
  }

  #dropQueued(s: Slot): void {
    const d = s.dropQueued();
    this.stats.droppedBytes += d.bytes;
    this.stats.droppedConnections += d.connections;
  }

  /**
   * Sends data to the unit's thread, or queues it until READY. Returns false (and counts the drop)
   * when the unit has no live thread or the queue is full.
   */
  send(unit: string, msg: ToWorker, transfer: ArrayBuffer[] = [], bytes = 0): boolean {
    const s = this.#owner.get(unit);
    if (!s || s.dead || this.#closing) {
      this.stats.droppedBytes += bytes;
      return false;
    }
    if (s.ready && s.worker) {
      try {
        s.worker.postMessage(msg, transfer);
      } catch (err) {
        // A message the structured clone cannot take (what reaches here is bounded, so this is a bug): dropped, counted, never thrown into a socket handler.
        this.stats.droppedBytes += bytes;
        this.#o.logger.error({ err, unit, tag: msg.t }, 'message to a worker could not be sent; dropped');
        return false;
      }
      return true;
    }
    if (s.enqueue(msg, transfer, bytes)) return true;
    this.stats.droppedBytes += bytes;
    return false;
  }

  /**
   * Hands a TCP connection to the unit's thread: its bytes are bridged over a fresh MessageChannel.
   * Before READY the socket waits paused.
   */
  connect(unit: string, ingress: TcpIngress, socket: Socket, connId: number): boolean {
    const s = this.#owner.get(unit);
    if (!s || s.dead || this.#closing) return false;
    if (s.connect(unit, ingress, socket, connId, () => new (wt().MessageChannel)())) return true;
    this.stats.droppedConnections++;
    return false;
  }

  /**
   * FLUSH (or SHUTDOWN = drain) to every live thread; resolves with every unit's report by the
   * deadline. Threads not READY yet get the command after their queued data.
   */
  async request(kind: 'FLUSH' | 'SHUTDOWN', reason: FlushReason, deadline: number): Promise<UnitFlushReport[]> {
    // Units on other threads may still be handing each other this invocation's data: wait that out first.
    if (kind === 'FLUSH') await this.#barrier(deadline);
    const live = this.#slots.filter((s) => !s.dead && (s.worker !== undefined || !this.#closing));
    return Promise.all(
      live.map(
        (s) =>
          new Promise<UnitFlushReport[]>((resolve) => {
            const id = this.#nextId++;
            const timer = setTimeout(
              () => {
                if (!s.pending.delete(id)) return;
                const error = toWireError(new SupervisorError('SV_ERR_FLUSH_TIMEOUT', `worker ${s.index} did not answer ${kind} by the deadline`));
                resolve(s.units.map((u) => ({ unit: u.name, ok: false, sent: 0, dropped: 0, pending: 0, durationMs: 0, error })));
              },
              Math.max(0, deadline - Date.now()) + 5,
            );
            timer.unref();
            s.pending.set(id, {
              kind,
              resolve: (r) => {
                clearTimeout(timer);
                resolve(r);
              },
            });
            const msg: ToWorker = kind === 'FLUSH' ? { p: PROTOCOL, t: 'FLUSH', id, reason, deadline } : { p: PROTOCOL, t: 'SHUTDOWN', id, deadline };
            if (s.ready && s.worker) s.worker.postMessage(msg);
            else s.queue.push({ msg, transfer: [], bytes: 0 });
          }),
      ),
    ).then((all) => all.flat());
  }

  /**
   * With units on several ready threads: every thread sends a marker down its peer channels and answers
   * once it has every peer's (channels are FIFO), so unit messages sent before the flush was decided
   * (an invocation's aws.lambda span, its enhanced metrics) are in the flush. Bounded: a stuck thread
   * delays the flush by at most BARRIER_MAX_MS.
   */
  async #barrier(deadline: number): Promise<void> {
    const ready = this.#slots.filter((s) => !s.dead && s.ready && s.worker !== undefined);
    if (ready.length < 2) return;
    const id = this.#nextId++;
    const wait = Math.max(0, Math.min(deadline - Date.now(), BARRIER_MAX_MS));
    await Promise.all(
      ready.map(
        (s) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              s.barriers.delete(id);
              resolve();
            }, wait);
            timer.unref();
            s.barriers.set(id, () => {
              clearTimeout(timer);
              s.barriers.delete(id);
              resolve();
            });
            s.worker?.postMessage({ p: PROTOCOL, t: 'BARRIER', id } satisfies ToWorker);
          }),
      ),
    );
  }

  /** Terminates every thread; restarts stop. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const s of this.#slots) {
      this.#dropQueued(s);
      // Connections still open after the final flush (a client holding a request open) end here.
      for (const c of s.connections) c.destroy();
      s.connections.clear();
    }
    await Promise.all(this.#slots.map((s) => s.worker?.terminate()));
  }
}
