// The pipelines as the main thread runs them, whatever drives them (the Lambda /next loop, or the
// mini agent's timer and signals): the units from units.json on their worker threads, the ingestion
// sockets feeding them, flushes that never overlap, and the drain-then-final-flush of a shutdown.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { workerEnv } from '@dd-lambda/config';
import type { Config } from '@dd-lambda/config';
import type { Logger } from '@dd-lambda/logger';
import { INGRESSES, PROTOCOL, ownArrayBuffer } from '@dd-lambda/protocol';
import type { FlushReason, Ingress, InvocationEvent, PlatformEvent, UnitFlushReport, UnitSpec } from '@dd-lambda/protocol';
import { SupervisorError } from './errors.js';
import { IngressServers } from './ingress.js';
import { enabledUnits, planWorkers } from './plan.js';
import type { WorkerPlan } from './plan.js';
import { WorkerSet } from './workers.js';

/**
 * How long a shutdown lets requests in flight finish before the final flush: a request held open (a body
 * that never completes) must not eat the budget the final flush needs. What is still open after the
 * flush is destroyed.
 */
export const DRAIN_MAX_MS = 300;

export interface PipelinesOptions {
  config: Readonly<Config>;
  logger: Logger;
  /** Directory of the bundled code: units.json and worker.cjs live here. */
  codeDir: string;
  /** Worker thread entry; `<codeDir>/worker.cjs` by default. */
  workerEntry?: string | undefined;
  /** Units to run, by name (all enabled ones by default). */
  only?: readonly string[];
  ingresses?: readonly Ingress[];
  onReady?: (slot: number, units: string[]) => void;
  onAllReady?: () => void;
  onKeyRejected?: () => void;
  onPlatform?: (events: PlatformEvent[]) => void;
  onListenerLost?: (what: string, err: Error) => void;
}

/** Reads the layer's units.json. Missing file: no units (the extension still serves the Lambda APIs). */
export function readUnits(codeDir: string): UnitSpec[] {
  let text: string;
  try {
    text = readFileSync(path.join(codeDir, 'units.json'), 'utf8');
  } catch {
    return [];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SupervisorError('SV_ERR_UNITS_MANIFEST', `units.json is not JSON: ${(err as Error).message}`);
  }
  const list = (parsed as { units?: unknown }).units;
  if (!Array.isArray(list)) throw new SupervisorError('SV_ERR_UNITS_MANIFEST', 'units.json has no "units" array');
  const seen = new Set<string>();
  return list.map((u: unknown, i) => {
    const o = (u ?? {}) as Record<string, unknown>;
    const ingress = Array.isArray(o['ingress']) ? o['ingress'] : [];
    const events = Array.isArray(o['events']) ? o['events'] : [];
    if (
      typeof o['name'] !== 'string' ||
      typeof o['module'] !== 'string' ||
      seen.has(o['name']) ||
      !ingress.every((x) => (INGRESSES as readonly unknown[]).includes(x)) ||
      !events.every((x) => x === 'platform' || x === 'invocation' || x === 'runtime')
    ) {
      throw new SupervisorError('SV_ERR_UNITS_MANIFEST', `units.json entry ${i} is invalid`);
    }
    seen.add(o['name']);
    const spec: UnitSpec = { name: o['name'], module: o['module'], ingress: ingress as UnitSpec['ingress'], events: events as UnitSpec['events'] };
    if (typeof o['weight'] === 'number') spec.weight = o['weight'];
    if (typeof o['enabledBy'] === 'string') spec.enabledBy = o['enabledBy'];
    return spec;
  });
}

export const summary = (reports: readonly UnitFlushReport[]): { sent: number; dropped: number; pending: number; failed: string[] } => ({
  sent: reports.reduce((a, r) => a + r.sent, 0),
  dropped: reports.reduce((a, r) => a + r.dropped, 0),
  pending: reports.reduce((a, r) => a + r.pending, 0),
  failed: reports.filter((r) => !r.ok).map((r) => `${r.unit}:${r.error?.code ?? '?'}`),
});

export class Pipelines {
  readonly #o: PipelinesOptions;
  readonly #log: Logger;
  units: UnitSpec[] = [];
  plan: WorkerPlan = { threads: [] };
  workers: WorkerSet | undefined;
  ingress: IngressServers | undefined;
  /** Every flush runs on this chain, so flushes never overlap. */
  #flushChain: Promise<unknown> = Promise.resolve();
  #nonBlocking: Promise<unknown> | undefined;
  /** Called when a flush starts (flush control keeps its clock). */
  onFlush: (() => void) | undefined;
  /** What every flush shipped and dropped, for the shutdown line. */
  readonly totals = { flushes: 0, sent: 0, dropped: 0 };

  constructor(o: PipelinesOptions) {
    this.#o = o;
    this.#log = o.logger;
  }

  /** Reads units.json, builds the worker set (nothing spawned yet) and binds the ingestion sockets. */
  async prepare(): Promise<void> {
    const { config, codeDir } = this.#o;
    const only = this.#o.only;
    this.units = enabledUnits(readUnits(codeDir), config).filter((u) => only === undefined || only.includes(u.name));
    this.plan = planWorkers(config.workers, this.units);
    this.workers = new WorkerSet({
      entry: this.#o.workerEntry ?? path.join(codeDir, 'worker.cjs'),
      threads: this.plan.threads,
      unitsDir: codeDir,
      config,
      env: workerEnv(),
      logger: this.#log.child({ component: 'workers' }),
      onReady: (slot, units) => {
        this.#o.onReady?.(slot, units);
        if (this.workers?.allReady()) this.#o.onAllReady?.();
      },
      onKeyRejected: () => this.#o.onKeyRejected?.(),
      onFlushRequest: (unit, blocking) => {
        this.#log.debug({ unit, blocking }, 'flush requested');
        if (blocking) void this.flushAll('requested');
        else this.flushNonBlocking('requested');
      },
    });
    this.ingress = new IngressServers({
      config,
      logger: this.#log.child({ component: 'ingress' }),
      workers: this.workers,
      units: this.units,
      ...(this.#o.ingresses ? { ingresses: this.#o.ingresses } : {}),
      ...(this.#o.onPlatform ? { onPlatform: this.#o.onPlatform } : {}),
      ...(this.#o.onListenerLost ? { onListenerLost: this.#o.onListenerLost } : {}),
    });
    await this.ingress.bind();
  }

  /** Whether a unit takes the runtime-API proxy's copies (the AppSec unit, when enabled). */
  get wantsRuntime(): boolean {
    return this.units.some((u) => u.events.includes('runtime'));
  }

  /**
   * An invocation's event or result, from the runtime-API proxy, to every unit that takes them. The
   * last one gets the bytes transferred; any other gets a copy (a transfer detaches the buffer).
   */
  sendRuntime(requestId: string, kind: 'event' | 'response' | 'error', body: Buffer): void {
    const targets = this.units.filter((u) => u.events.includes('runtime'));
    targets.forEach((u, i) => {
      const data = i === targets.length - 1 ? ownArrayBuffer(body) : ownArrayBuffer(Buffer.from(body));
      this.workers?.send(u.name, { p: PROTOCOL, t: 'RUNTIME', unit: u.name, requestId, kind, data }, [data], data.byteLength);
    });
  }

  broadcast(event: InvocationEvent): void {
    for (const u of this.units) if (u.events.includes('invocation')) this.workers?.send(u.name, { p: PROTOCOL, t: 'INVOCATION', unit: u.name, event });
  }

  /** A blocking flush: waits for any flush in progress, then flushes and waits for every ack. */
  flushAll(reason: FlushReason, deadline = Date.now() + this.#o.config.flushTimeoutMs): Promise<UnitFlushReport[]> {
    const run = this.#flushChain.then(async () => {
      const workers = this.workers;
      if (!workers || workers.size === 0) return [];
      this.onFlush?.();
      const t0 = performance.now();
      // Datagrams the kernel dropped since the last flush go out with this one (counted and as a metric).
      const udpDrops = this.ingress?.collectKernelDrops() ?? 0;
      if (udpDrops > 0)
        this.#log.warn(
          { code: 'SV_ERR_UDP_DROPS', dropped: udpDrops, total: this.ingress?.counters.kernelDroppedDatagrams },
          'the kernel dropped DogStatsD datagrams (receive buffer full); see DD_DOGSTATSD_SO_RCVBUF',
        );
      const reports = await workers.request('FLUSH', reason, deadline);
      const s = { ...summary(reports), udpDrops };
      this.totals.flushes++;
      this.totals.sent += s.sent;
      this.totals.dropped += s.dropped;
      const level = s.failed.length > 0 ? 'warn' : 'debug';
      this.#log[level]({ reason, ms: Math.round((performance.now() - t0) * 100) / 100, ...s }, 'flush done');
      return reports;
    });
    this.#flushChain = run.catch(() => undefined);
    return run;
  }

  /** A flush nobody waits for; skipped while another one is still running. */
  flushNonBlocking(reason: FlushReason): void {
    if (this.#nonBlocking !== undefined) return;
    this.#nonBlocking = this.flushAll(reason).finally(() => {
      this.#nonBlocking = undefined;
    });
  }

  /**
   * With inputs stopped: the flush in progress ends, every unit drains its in-flight requests (at
   * most DRAIN_MAX_MS), then the final flush runs to `deadline`, then the threads end.
   */
  async drainAndFlush(deadline: number): Promise<UnitFlushReport[]> {
    const workers = this.workers;
    if (!workers || workers.size === 0) return [];
    // Threads still starting get their queued input and the commands once READY.
    await this.#flushChain;
    const drained = await workers.request('SHUTDOWN', 'shutdown', Math.min(deadline, Date.now() + DRAIN_MAX_MS));
    const drainFailed = drained.filter((r) => !r.ok);
    if (drainFailed.length > 0) this.#log.warn({ failed: summary(drainFailed).failed }, 'drain incomplete');
    const reports = await this.flushAll('shutdown', deadline);
    await workers.close();
    return reports;
  }

  /** Releases every socket and thread (a failed start, or the end). */
  async teardown(): Promise<void> {
    await this.ingress?.close().catch(() => undefined);
    await this.workers?.close().catch(() => undefined);
  }
}
