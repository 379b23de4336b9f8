// Runs the units assigned to one worker and speaks the protocol for them. Kept free of
// parentPort/workerData (only worker.ts touches those) so tests can drive it directly.
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { MessagePort } from 'node:worker_threads';
import type { Config } from '@dd-lambda/config';
import type { Logger } from '@dd-lambda/logger';
import { PROTOCOL, accepts, isUnitName, toWireError } from '@dd-lambda/protocol';
import type { FlushReason, FromWorker, PeerBarrier, PeerEnvelope, ToWorker, UnitFlushReport, UnitMessage, UnitSpec, WorkerInit } from '@dd-lambda/protocol';
import { WorkerHostError } from './errors.js';
import { PortDuplex } from './port-duplex.js';
import type { FlushResult, PipelineUnit, UnitContext, UnitFactory } from './unit.js';

/** Messages to a unit whose worker is not wired yet wait here; beyond this they are dropped and counted. */
export const MAX_WAITING_MESSAGES = 4096;

export interface HostIO {
  post(msg: FromWorker): void;
  logger: Logger;
}

interface Hosted {
  spec: UnitSpec;
  unit: PipelineUnit;
  /** The unit's last flush: flushes of one unit never overlap. */
  last: Promise<unknown>;
}

interface Waiting {
  to: string;
  envelope: PeerEnvelope;
  transfer: ArrayBuffer[];
}

export class UnitHost {
  readonly #init: WorkerInit<Config>;
  readonly #io: HostIO;
  readonly #units = new Map<string, Hosted>();
  readonly #routes = new Map<string, MessagePort>();
  readonly #remote: ReadonlySet<string>;
  #waiting: Waiting[] = [];
  /** Barrier markers received per id, and the barriers this thread is waiting out (id → peer ports still to answer). */
  readonly #markers = new Map<number, Set<MessagePort>>();
  readonly #barriers = new Map<number, Set<MessagePort>>();
  /** Messages dropped because their target had no route, or the wait queue was full. */
  droppedMessages = 0;
  /** Messages a unit does not take per the protocol's unit table (a peer built from another version): dropped. */
  rejectedMessages = 0;

  constructor(init: WorkerInit<Config>, io: HostIO) {
    this.#init = init;
    this.#io = io;
    this.#remote = new Set(init.remoteUnits);
  }

  get units(): string[] {
    return [...this.#units.keys()];
  }

  /** Loads every assigned unit, then announces READY with those that started. */
  async start(): Promise<void> {
    const t0 = performance.now();
    await Promise.all(
      this.#init.units.map(async (spec) => {
        try {
          const unit = await this.#load(spec);
          this.#units.set(spec.name, { spec, unit, last: Promise.resolve() });
        } catch (err) {
          const e = err instanceof WorkerHostError ? err : new WorkerHostError('WH_ERR_UNIT_LOAD', `unit ${spec.name} failed to start: ${(err as Error).message}`, { cause: err });
          this.#io.logger.error({ err: e, unit: spec.name }, 'unit failed to start; the worker runs without it');
          this.#io.post({ p: PROTOCOL, t: 'ERROR', worker: this.#init.worker, unit: spec.name, error: toWireError(e), fatal: false });
        }
      }),
    );
    this.#io.post({ p: PROTOCOL, t: 'READY', worker: this.#init.worker, units: this.units, startMs: performance.now() - t0 });
  }

  async #load(spec: UnitSpec): Promise<PipelineUnit> {
    const file = path.isAbsolute(spec.module) ? spec.module : path.join(this.#init.unitsDir, spec.module);
    // CommonJS units (the layer's bundles) through require: import() of a .cjs file runs Node's CJS
    // export lexer over the whole bundle first, which cost ~35 ms of a worker's start-up CPU.
    type UnitModule = { createUnit?: UnitFactory; default?: { createUnit?: UnitFactory } };
    const mod = (file.endsWith('.cjs') ? createRequire(file)(file) : await import(pathToFileURL(file).href)) as UnitModule;
    const factory = mod.createUnit ?? mod.default?.createUnit;
    if (typeof factory !== 'function') throw new WorkerHostError('WH_ERR_UNIT_LOAD', `${file} exports no createUnit function`);
    const ctx: UnitContext = {
      name: spec.name,
      worker: this.#init.worker,
      config: this.#init.config,
      tags: this.#init.tags,
      accountId: this.#init.accountId,
      logger: this.#io.logger.child({ component: spec.name }),
      send: (to, msg, transfer) => this.#send(spec.name, to, msg, transfer ?? []),
      requestFlush: (blocking) => this.#io.post({ p: PROTOCOL, t: 'FLUSH_REQUEST', unit: spec.name, blocking }),
      keyRejected: () => this.#io.post({ p: PROTOCOL, t: 'KEY_REJECTED', unit: spec.name }),
    };
    return factory(ctx);
  }

  handle(msg: ToWorker): void {
    switch (msg.t) {
      case 'FLUSH':
        void this.#flushAll(msg.reason, msg.deadline).then((reports) => this.#io.post({ p: PROTOCOL, t: 'FLUSHED', id: msg.id, reports }));
        return;
      case 'SHUTDOWN':
        void this.#drainAll(msg.deadline).then((reports) => this.#io.post({ p: PROTOCOL, t: 'DRAINED', id: msg.id, reports }));
        return;
      case 'CONNECTION': {
        const h = this.#units.get(msg.unit);
        const socket = new PortDuplex(msg.port);
        if (!h?.unit.connection) {
          socket.destroy();
          return;
        }
        this.#call(h, 'connection', () => h.unit.connection?.(msg.ingress, socket));
        return;
      }
      case 'DATAGRAMS': {
        const h = this.#units.get(msg.unit);
        if (h) this.#call(h, 'datagrams', () => h.unit.datagrams?.(Buffer.from(msg.data), msg.lengths));
        return;
      }
      case 'TELEMETRY': {
        const h = this.#units.get(msg.unit);
        if (h) this.#call(h, 'telemetry', () => h.unit.telemetry?.(Buffer.from(msg.data)));
        return;
      }
      case 'PLATFORM': {
        const h = this.#units.get(msg.unit);
        if (h) this.#call(h, 'platform', () => h.unit.platform?.(msg.events));
        return;
      }
      case 'INVOCATION': {
        const h = this.#units.get(msg.unit);
        if (h) this.#call(h, 'invocation', () => h.unit.invocation?.(msg.event));
        return;
      }
      case 'RUNTIME': {
        const h = this.#units.get(msg.unit);
        if (h) this.#call(h, 'runtime', () => h.unit.runtime?.(msg.requestId, msg.kind, Buffer.from(msg.data)));
        return;
      }
      case 'PEER':
        this.#addPeer(msg.units, msg.port);
        return;
      case 'BARRIER':
        this.#barrier(msg.id);
        return;
      case 'API_KEY':
        // Every unit's context shares this one config object; their intake clients read the key per send.
        (this.#init.config as { apiKey: string | undefined }).apiKey = msg.key;
        return;
    }
  }

  /** A unit's synchronous failure is reported and survives; only uncaught async errors take the worker down. */
  #call(h: Hosted, what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      const e = new WorkerHostError('WH_ERR_UNIT_CALL', `${h.spec.name}.${what} threw: ${(err as Error).message}`, { cause: err });
      this.#io.logger.error({ err: e, unit: h.spec.name }, 'unit call failed');
      this.#io.post({ p: PROTOCOL, t: 'ERROR', worker: this.#init.worker, unit: h.spec.name, error: toWireError(e), fatal: false });
    }
  }

  async #flushOne(h: Hosted, reason: FlushReason, deadline: number): Promise<UnitFlushReport> {
    const started = performance.now();
    const run = h.last.then(() => h.unit.flush({ reason, deadline }));
    h.last = run.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WorkerHostError('WH_ERR_FLUSH_DEADLINE', `${h.spec.name} did not finish flushing by the deadline`)), Math.max(0, deadline - Date.now()));
      timer.unref();
    });
    try {
      const r: FlushResult = await Promise.race([run, late]);
      return { unit: h.spec.name, ok: true, sent: r.sent, dropped: r.dropped, pending: r.pending, durationMs: performance.now() - started };
    } catch (err) {
      this.#io.logger.warn({ err, unit: h.spec.name, reason }, 'flush failed');
      return { unit: h.spec.name, ok: false, sent: 0, dropped: 0, pending: 0, durationMs: performance.now() - started, error: toWireError(err, 'WH_ERR_UNIT_CALL') };
    } finally {
      clearTimeout(timer);
    }
  }

  #flushAll(reason: FlushReason, deadline: number): Promise<UnitFlushReport[]> {
    return Promise.all([...this.#units.values()].map((h) => this.#flushOne(h, reason, deadline)));
  }

  async #drainAll(deadline: number): Promise<UnitFlushReport[]> {
    const started = performance.now();
    return Promise.all(
      [...this.#units.values()].map(async (h): Promise<UnitFlushReport> => {
        try {
          await h.unit.drain?.(deadline);
          return { unit: h.spec.name, ok: true, sent: 0, dropped: 0, pending: 0, durationMs: performance.now() - started };
        } catch (err) {
          return { unit: h.spec.name, ok: false, sent: 0, dropped: 0, pending: 0, durationMs: performance.now() - started, error: toWireError(err, 'WH_ERR_UNIT_CALL') };
        }
      }),
    );
  }

  /**
   * A message a table unit does not take is counted and logged once, like any bad input; true when it
   * may be delivered. Units outside the table (tests, a layer's own units) get what they are sent.
   */
  #acceptable(from: string, to: string, msg: UnitMessage): boolean {
    if (!isUnitName(to) || accepts(to, (msg as { t?: unknown } | undefined)?.t)) return true;
    if (this.rejectedMessages++ === 0)
      this.#io.logger.warn(
        { code: 'WH_ERR_MESSAGE', from, to, tag: (msg as { t?: unknown } | undefined)?.t },
        'a unit message its target does not take; dropped (counted from now on)',
      );
    return false;
  }

  #send(from: string, to: string, msg: UnitMessage, transfer: ArrayBuffer[]): void {
    if (!this.#acceptable(from, to, msg)) return;
    const local = this.#units.get(to);
    if (local) {
      // Same thread: deliver asynchronously, as a peer channel would, so senders never re-enter receivers.
      queueMicrotask(() => this.#call(local, 'message', () => local.unit.message?.(from, msg)));
      return;
    }
    const envelope: PeerEnvelope = { p: PROTOCOL, t: 'UNIT', to, from, msg };
    const port = this.#routes.get(to);
    if (port) {
      port.postMessage(envelope, transfer);
      return;
    }
    if (!this.#remote.has(to) || this.#waiting.length >= MAX_WAITING_MESSAGES) {
      this.droppedMessages++;
      if (this.droppedMessages === 1 || this.droppedMessages % 1000 === 0) {
        this.#io.logger.warn(
          { to, from, dropped: this.droppedMessages },
          this.#remote.has(to) ? 'peer not wired yet and the wait queue is full; message dropped' : 'message for a unit this layer does not run; dropped',
        );
      }
      return;
    }
    this.#waiting.push({ to, envelope, transfer });
  }

  /** Sends the marker down every peer channel; answers once each channel delivered the peer's own marker. */
  #barrier(id: number): void {
    const ports = new Set(this.#routes.values());
    for (const p of ports) p.postMessage({ p: PROTOCOL, t: 'BARRIER', id } satisfies PeerBarrier);
    const seen = this.#markers.get(id);
    this.#markers.delete(id);
    for (const p of seen ?? []) ports.delete(p);
    // Markers of barriers long past (a peer that answered one this thread never saw) are forgotten.
    for (const old of this.#markers.keys()) if (old < id) this.#markers.delete(old);
    if (ports.size === 0) this.#io.post({ p: PROTOCOL, t: 'BARRIER_DONE', id });
    else this.#barriers.set(id, ports);
  }

  #marker(id: number, port: MessagePort): void {
    const waiting = this.#barriers.get(id);
    if (waiting === undefined) {
      // The peer's marker came before our own BARRIER command: kept for it.
      let seen = this.#markers.get(id);
      if (!seen) this.#markers.set(id, (seen = new Set()));
      seen.add(port);
      return;
    }
    waiting.delete(port);
    if (waiting.size === 0) {
      this.#barriers.delete(id);
      this.#io.post({ p: PROTOCOL, t: 'BARRIER_DONE', id });
    }
  }

  #addPeer(units: readonly string[], port: MessagePort): void {
    for (const u of units) this.#routes.set(u, port);
    port.on('message', (env: PeerEnvelope | PeerBarrier) => {
      if (env?.p !== PROTOCOL) return;
      if (env.t === 'BARRIER') {
        this.#marker(env.id, port);
        return;
      }
      if (env.t !== 'UNIT' || !this.#acceptable(env.from, env.to, env.msg)) return;
      const h = this.#units.get(env.to);
      if (h) this.#call(h, 'message', () => h.unit.message?.(env.from, env.msg));
    });
    port.on('close', () => {
      for (const [u, p] of this.#routes) if (p === port) this.#routes.delete(u);
      // A peer gone mid-barrier will not answer it.
      for (const id of [...this.#barriers.keys()]) this.#marker(id, port);
    });
    const still: Waiting[] = [];
    for (const w of this.#waiting) {
      const p = this.#routes.get(w.to);
      if (p) p.postMessage(w.envelope, w.transfer);
      else still.push(w);
    }
    this.#waiting = still;
  }
}
