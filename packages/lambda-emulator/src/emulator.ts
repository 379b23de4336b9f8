// The emulated execution environment's lifecycle (init, invoke, freeze, reset, shutdown) with the
// rules of the Lambda docs. The APIs the sandbox's processes call are in api-server.ts, the state they
// share in sandbox.ts.

import type http from 'node:http';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { EmulatorError } from './errors.js';
import { SandboxLimits, cpuDelta } from './limits.js';
import { TelemetryHub } from './telemetry.js';
import { Sandbox, newExtension, type ResolvedOptions } from './sandbox.js';
import { createApiServer } from './api-server.js';
import { extensionEnv, listExtensionFiles } from './environment.js';
import { emitRuntimeDone, endByPlatform, failedInitResult, newInvocation, report, respond, settled, startInvocation } from './invocations.js';
import { launchExtension, startRuntime } from './spawn.js';
import { teardown } from './shutdown.js';
import { round3 } from './http-util.js';
import type { EmulatorOptions, InitResult, InvokeOptions, InvokeResult, LimitsStatus, ShutdownReason, ShutdownResult } from './types.js';

export class LambdaEmulator {
  readonly telemetry: TelemetryHub;
  readonly inits: InitResult[] = [];
  readonly invocations: InvokeResult[] = [];
  readonly shutdowns: ShutdownResult[] = [];

  readonly #o: ResolvedOptions;
  readonly #sb: Sandbox;
  readonly #server: http.Server;
  #apiAddress: string | undefined;
  #initPromise: Promise<InitResult> | undefined;
  #lastInit: InitResult | undefined;
  #lock: Promise<unknown> = Promise.resolve();
  #frozen = false;
  readonly #limits: SandboxLimits;
  readonly #freezeOn: boolean;
  readonly #onExit: (() => void) | undefined;

  constructor(opts: EmulatorOptions = {}) {
    this.#o = {
      functionName: 'test_function',
      functionVersion: '$LATEST',
      memoryMB: 1024,
      timeoutMs: 3000,
      region: 'us-east-1',
      accountId: '123456789012',
      architecture: process.arch === 'arm64' ? 'arm64' : 'x86_64',
      initializationType: 'on-demand',
      logFormat: 'Text',
      initTimeoutMs: 10_000,
      maxConcurrency: 4,
      ...opts,
    };
    this.#limits = new SandboxLimits(this.#o.memoryMB, opts.limits, opts.onWarning ?? ((m) => process.emitWarning(m, 'LambdaEmulatorWarning')));
    // Lambda freezes every sandbox; with its limits on, so does the emulator unless told not to.
    this.#freezeOn = opts.freeze ?? this.#limits.applied;
    if (this.#limits.applied) {
      this.#onExit = () => this.#limits.closeSync();
      process.on('exit', this.#onExit);
    }
    this.telemetry = new TelemetryHub();
    this.#sb = new Sandbox(this.#o, this.telemetry, this.#limits);
    this.#server = createApiServer(this.#sb);
  }

  get managed(): boolean {
    return this.#sb.managed;
  }

  get functionArn(): string {
    return this.#sb.functionArn;
  }

  /** `host:port` of the Lambda APIs (the value of AWS_LAMBDA_RUNTIME_API). */
  get runtimeApi(): string {
    if (!this.#apiAddress) throw new EmulatorError('EMU_ERR_NOT_STARTED', 'call start() first');
    return this.#apiAddress;
  }

  /** Whether Lambda's limits apply to this sandbox, and if not, why. */
  get limits(): LimitsStatus {
    return this.#limits.status;
  }

  /** Cumulative CPU ms (user+sys) of each sandbox process so far (benchmarks read it at checkpoints). */
  cpuMs(): Record<string, number> {
    const sb = this.#sb;
    return this.#limits.cpuMs(
      sb.runtime ? { name: 'runtime', pid: sb.runtime.pid } : undefined,
      sb.extensions.filter((e) => e.proc).map((e) => ({ name: e.name, pid: e.proc?.pid })),
    );
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  /** Process ids of the live sandbox processes (runtime first), e.g. to inspect them. */
  sandboxPids(): { runtime: number | undefined; extensions: Record<string, number | undefined> } {
    const extensions: Record<string, number | undefined> = {};
    for (const e of this.#sb.extensions) if (e.proc) extensions[e.name] = e.proc.alive ? e.proc.pid : undefined;
    return { runtime: this.#sb.runtime?.alive ? this.#sb.runtime.pid : undefined, extensions };
  }

  /** Starts the Lambda API server. The sandbox is initialised by init() or the first invoke(). */
  async start(): Promise<string> {
    if (this.#apiAddress) return this.#apiAddress;
    this.#server.listen(this.#o.port ?? 0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.#apiAddress = `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.#apiAddress;
  }

  /** The environment an external extension gets (also what an attached extension should use). */
  extensionEnv(): Record<string, string> {
    return extensionEnv(this.#o, this.runtimeApi);
  }

  // ---- init ----

  /** Runs the init phase now (as provisioned concurrency would); invoke() does it when needed. */
  init(): Promise<InitResult> {
    if (this.#sb.phase === 'ready' && this.#lastInit) return Promise.resolve(this.#lastInit);
    this.#initPromise ??= this.#exclusive(() => this.#runInit()).finally(() => {
      this.#initPromise = undefined;
    });
    return this.#initPromise;
  }

  async #runInit(): Promise<InitResult> {
    const sb = this.#sb;
    if (sb.phase === 'closed') throw new EmulatorError('EMU_ERR_CLOSED', 'the emulator is closed');
    if (sb.phase === 'ready' && this.#lastInit) return this.#lastInit;
    await this.start();
    const phase = sb.phase === 'failed' ? 'invoke' : 'init';
    sb.phase = 'init';
    sb.initError = undefined;
    sb.runtimeReadyAt = undefined;
    sb.initStartedAt = performance.now();
    const deadline = sb.initStartedAt + this.#o.initTimeoutMs;
    const common = { initializationType: this.#o.initializationType, phase };
    this.telemetry.emit('platform.initStart', {
      ...common,
      runtimeVersion: this.#o.runtimeVersion ?? `nodejs:${process.versions.node.split('.')[0]}.v1`,
      runtimeVersionArn: `arn:aws:lambda:${this.#o.region}::runtime:emulator`,
      functionName: this.#o.functionName,
      functionVersion: this.#o.functionVersion,
      instanceId: randomUUID(),
      instanceMaxMemory: this.#o.memoryMB * 1024 * 1024,
    });

    sb.extensions = [];
    const files = listExtensionFiles(this.#o.optDir);
    // A new sandbox: fresh limits and counters; CPU is counted from each leaf's usage before spawn.
    this.#limits.newSandbox();
    const cpu0 = this.#limits.cpuMs(
      { name: 'runtime', pid: undefined },
      files.map((f) => ({ name: path.basename(f), pid: undefined })),
    );
    for (const name of this.#o.attachExtensions ?? []) sb.extensions.push(newExtension(name, true));
    for (const file of files) sb.extensions.push(launchExtension(sb, file, this.extensionEnv()));

    // Extensions register first; the runtime starts when every launched one has (or has died).
    await sb.until(() => sb.extensions.every((e) => e.state !== 'launched' || !sb.extAlive(e)) || sb.initError !== undefined, deadline);
    if (sb.initError === undefined && performance.now() < deadline) startRuntime(sb, this.runtimeApi);

    const done = await sb.until(
      () => sb.initError !== undefined || (sb.runtimeReadyAt !== undefined && sb.extensions.every((e) => e.state === 'idle' || !sb.extAlive(e) || e.state === 'launched')),
      deadline,
    );
    // An extension that never registered, or died before calling /next, fails the init.
    for (const e of sb.extensions) {
      if (sb.initError !== undefined) break;
      if (e.external && e.proc && !e.proc.alive) sb.initError = e.state === 'init-error' ? (e.errorType ?? 'Extension.InitError') : 'Extension.Crash';
      else if (e.state === 'init-error' || e.state === 'exit-error') sb.initError = e.errorType ?? 'Extension.InitError';
    }
    const durationMs = performance.now() - sb.initStartedAt;
    const status: InitResult['status'] = sb.initError !== undefined ? 'error' : done ? 'success' : 'timeout';
    const errorType = status === 'timeout' ? 'Runtime.InitTimeout' : sb.initError;
    const outcome = { ...common, status, ...(errorType ? { errorType } : {}) };
    if (sb.runtimeReadyAt === undefined || !this.#o.runtime) this.telemetry.emit('platform.initRuntimeDone', outcome);
    for (const e of sb.extensions) {
      if (e.id === undefined) continue;
      this.telemetry.emit('platform.extension', {
        name: e.name,
        state: e.state === 'idle' ? 'Ready' : e.state === 'init-error' ? 'InitError' : e.state === 'exit-error' ? 'ExitError' : 'Registered',
        events: [...e.events],
        ...(e.errorType ? { errorType: e.errorType } : {}),
      });
    }
    this.telemetry.emit('platform.initReport', { ...outcome, metrics: { durationMs: round3(durationMs) } });
    const result: InitResult = {
      status,
      phase,
      ...(errorType ? { errorType } : {}),
      durationMs,
      extensions: sb.extensions.map((e) => sb.timings(e)),
      cpuMs: cpuDelta(cpu0, this.cpuMs()),
    };
    this.inits.push(result);
    if (status === 'success') {
      this.#limits.initDone();
      sb.phase = 'ready';
      this.#lastInit = result;
      sb.reportInitDuration = durationMs;
      this.telemetry.closeReplay();
    } else {
      await this.#teardown('failure');
      sb.phase = 'failed';
    }
    return result;
  }

  // ---- invoke ----

  /** Invokes the function. On-demand invocations run one at a time; managed ones concurrently. */
  invoke(payload: unknown, opts: InvokeOptions = {}): Promise<InvokeResult> {
    if (this.managed) return this.#invokeManaged(payload, opts);
    return this.#exclusive(() => this.#invokeOnDemand(payload, opts));
  }

  async #invokeOnDemand(payload: unknown, opts: InvokeOptions): Promise<InvokeResult> {
    const sb = this.#sb;
    let init: InitResult | undefined;
    if (sb.phase !== 'ready') {
      init = await this.#runInit();
      if (init.status !== 'success') return this.#failedInit(init, opts);
    }
    this.#thaw();
    const inv = newInvocation(sb, payload, opts);
    const cpu0 = this.cpuMs();
    const oom0 = this.#limits.oomKills();
    startInvocation(sb, inv);
    const finished = await sb.until(() => settled(sb, inv), inv.startedAt + this.#o.timeoutMs);
    const runtimeCrashed = sb.runtime !== undefined && !sb.runtime.alive && inv.runtimeDoneAt === undefined;
    // The kernel killed a sandbox process at the memory limit: Lambda reports Runtime.OutOfMemory.
    const oom = this.#limits.oomKills() > oom0 || (runtimeCrashed && (await this.#limits.oomSince(oom0)));
    if (oom) endByPlatform(sb, inv, 'oom');
    else if (!finished) endByPlatform(sb, inv, 'timeout');
    else if (runtimeCrashed) endByPlatform(sb, inv, 'crash');
    if (inv.runtimeDoneAt === undefined) emitRuntimeDone(sb, inv);
    const result = report(sb, inv, performance.now(), init);
    result.cpuMs = cpuDelta(cpu0, this.cpuMs());
    sb.active.delete(inv.requestId);
    sb.runtimeQueue = sb.runtimeQueue.filter((i) => i !== inv);
    if (inv.status === 'timeout' || inv.status === 'failure' || oom) {
      result.reset = true;
      await this.#teardown(inv.status === 'timeout' ? 'timeout' : 'failure');
      sb.phase = 'new';
    } else if (this.#freezeOn) {
      await this.#freeze();
    }
    this.invocations.push(result);
    return result;
  }

  async #invokeManaged(payload: unknown, opts: InvokeOptions): Promise<InvokeResult> {
    const sb = this.#sb;
    let init: InitResult | undefined;
    if (sb.phase !== 'ready') {
      init = await this.init();
      if (init.status !== 'success') return this.#failedInit(init, opts);
    }
    const inv = newInvocation(sb, payload, opts);
    const cpu0 = this.cpuMs();
    startInvocation(sb, inv);
    const finished = await sb.until(() => inv.response !== undefined || (sb.runtime !== undefined && !sb.runtime.alive), inv.startedAt + this.#o.timeoutMs);
    if (!finished) {
      inv.status = 'timeout';
      const secs = (this.#o.timeoutMs / 1000).toFixed(2);
      respond(sb, inv, { requestId: inv.requestId, payload: Buffer.alloc(0), error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${secs} seconds` } });
    } else if (inv.response === undefined) {
      inv.status = 'failure';
      respond(sb, inv, { requestId: inv.requestId, payload: Buffer.alloc(0), error: { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited' } });
    }
    const result = report(sb, inv, inv.responseAt ?? performance.now(), init);
    result.cpuMs = cpuDelta(cpu0, this.cpuMs());
    sb.active.delete(inv.requestId);
    sb.runtimeQueue = sb.runtimeQueue.filter((i) => i !== inv);
    this.invocations.push(result);
    return result;
  }

  #failedInit(init: InitResult, opts: InvokeOptions): InvokeResult {
    const r = failedInitResult(init, opts);
    this.invocations.push(r);
    return r;
  }

  // ---- shutdown, freeze ----

  /** Sends SHUTDOWN and ends the sandbox; the emulator can init again afterwards. */
  shutdown(reason: ShutdownReason = 'spindown'): Promise<ShutdownResult> {
    return this.#exclusive(async () => {
      const r = await this.#teardown(reason);
      if (this.#sb.phase !== 'closed') this.#sb.phase = 'new';
      return r;
    });
  }

  /** Shuts the sandbox down (if any) and stops the API server. */
  async close(): Promise<void> {
    if (this.#sb.phase === 'closed') return;
    await this.shutdown('spindown');
    this.#sb.phase = 'closed';
    await this.#limits.close();
    if (this.#onExit) process.off('exit', this.#onExit);
    for (const res of this.#sb.runtimePending) res.destroy();
    this.#sb.runtimePending = [];
    if (this.#server.listening) {
      const closed = once(this.#server, 'close');
      this.#server.close();
      this.#server.closeAllConnections();
      await closed;
    }
  }

  async #teardown(reason: ShutdownReason): Promise<ShutdownResult> {
    this.#thaw();
    const result = await teardown(this.#sb, reason, () => this.cpuMs());
    this.#lastInit = undefined;
    this.shutdowns.push(result);
    return result;
  }

  async #freeze(): Promise<void> {
    this.#frozen = true;
    this.telemetry.pause();
    // The freezer cgroup where there is one, as Lambda; SIGSTOP to each process group otherwise.
    if (this.#limits.canFreeze && (await this.#limits.freeze())) return;
    const procs = this.#sb.processes();
    for (const p of procs) p.freeze();
    await Promise.all(procs.map((p) => p.waitStopped(1000)));
  }

  #thaw(): void {
    if (!this.#frozen) return;
    this.#frozen = false;
    this.#limits.thaw();
    for (const p of this.#sb.processes()) p.thaw();
    this.telemetry.resume();
  }

  /** Serialises lifecycle operations (init, on-demand invoke, shutdown). */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }
}
