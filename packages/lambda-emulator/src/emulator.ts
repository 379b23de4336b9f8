// The emulated execution environment: one HTTP server for the Runtime (2018-06-01), Extensions
// (2020-01-01) and Telemetry (2022-07-01) APIs, the sandbox processes, and the lifecycle that
// ties them together (init, invoke, freeze, reset, shutdown) with the rules of the Lambda docs.

import http from 'node:http';
import { once } from 'node:events';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { EmulatorError, ErrorType } from './errors.js';
import { SandboxLimits, cpuDelta } from './limits.js';
import { SandboxProcess, TELEMETRY_FD, type LogRecord } from './processes.js';
import { TelemetryHub, validateSubscription, type Subscriber } from './telemetry.js';
import type {
  EmulatorOptions,
  EventType,
  ExtensionShutdown,
  ExtensionTimings,
  InitResult,
  InvokeOptions,
  InvokeResponse,
  InvokeResult,
  LimitsStatus,
  ShutdownReason,
  ShutdownResult,
} from './types.js';

/** Response payload limit: 6 MiB plus the 100 bytes RIE allows for framing. */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;
const MAX_EXTENSIONS = 10;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BOOTSTRAP = path.join(path.dirname(fileURLToPath(import.meta.url)), 'runtime-client', 'bootstrap.js');

type ExtState = 'launched' | 'registered' | 'idle' | 'running' | 'init-error' | 'exit-error' | 'exited';

interface Extension {
  name: string;
  external: boolean;
  attached: boolean;
  proc: SandboxProcess | undefined;
  id: string | undefined;
  events: Set<EventType>;
  state: ExtState;
  queue: object[];
  pending: http.ServerResponse | undefined;
  errorType: string | undefined;
  subscription: Subscriber | undefined;
  /** performance.now() marks. */
  spawnedAt: number | undefined;
  registeredAt: number | undefined;
  subscribedAt: number | undefined;
  readyAt: number | undefined;
  shutdownAt: number | undefined;
  /** When an attached extension polled /next again after SHUTDOWN: that is how it says it is done. */
  doneAt: number | undefined;
}

interface Invocation {
  requestId: string;
  payload: Buffer;
  deadlineMs: number;
  traceId: string;
  opts: InvokeOptions;
  startedAt: number;
  startDate: Date;
  delivered: boolean;
  response: InvokeResponse | undefined;
  responseAt: number | undefined;
  runtimeDoneAt: number | undefined;
  /** Extensions sent this INVOKE; the phase ends when all are back in /next. */
  extensions: Extension[];
  status: 'success' | 'error' | 'timeout' | 'failure' | undefined;
  errorType: string | undefined;
  /** A sandbox process was OOM-killed during it. */
  oom: boolean;
}

type Phase = 'new' | 'init' | 'ready' | 'failed' | 'closed';

export class LambdaEmulator {
  readonly telemetry: TelemetryHub;
  readonly inits: InitResult[] = [];
  readonly invocations: InvokeResult[] = [];
  readonly shutdowns: ShutdownResult[] = [];

  readonly #o: Required<
    Pick<
      EmulatorOptions,
      'functionName' | 'functionVersion' | 'memoryMB' | 'timeoutMs' | 'region' | 'accountId' | 'architecture' | 'initializationType' | 'logFormat' | 'initTimeoutMs' | 'maxConcurrency'
    >
  > &
    EmulatorOptions;
  readonly #server: http.Server;
  #apiAddress: string | undefined;
  #phase: Phase = 'new';
  #extensions: Extension[] = [];
  #runtime: SandboxProcess | undefined;
  #runtimeReadyAt: number | undefined;
  #runtimePending: http.ServerResponse[] = [];
  #runtimeQueue: Invocation[] = [];
  #active = new Map<string, Invocation>();
  #initError: string | undefined;
  #initStartedAt = 0;
  #initPromise: Promise<InitResult> | undefined;
  #lastInit: InitResult | undefined;
  #reportInitDuration: number | undefined;
  #lock: Promise<unknown> = Promise.resolve();
  #frozen = false;
  readonly #limits: SandboxLimits;
  readonly #freezeOn: boolean;
  readonly #onExit: (() => void) | undefined;
  #changed!: Promise<void>;
  #kickChanged!: () => void;

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
    this.#server = http.createServer((req, res) => this.#route(req, res));
    // Long polls must never time out on the platform side.
    this.#server.requestTimeout = 0;
    this.#server.headersTimeout = 0;
    this.#server.keepAliveTimeout = 0;
    this.#resetChanged();
  }

  get managed(): boolean {
    return this.#o.initializationType === 'lambda-managed-instances';
  }

  get functionArn(): string {
    return `arn:aws:lambda:${this.#o.region}:${this.#o.accountId}:function:${this.#o.functionName}`;
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
    return this.#limits.cpuMs(
      this.#runtime ? { name: 'runtime', pid: this.#runtime.pid } : undefined,
      this.#extensions.filter((e) => e.proc).map((e) => ({ name: e.name, pid: e.proc?.pid })),
    );
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  /** Process ids of the live sandbox processes (runtime first), e.g. to inspect them. */
  sandboxPids(): { runtime: number | undefined; extensions: Record<string, number | undefined> } {
    const extensions: Record<string, number | undefined> = {};
    for (const e of this.#extensions) if (e.proc) extensions[e.name] = e.proc.alive ? e.proc.pid : undefined;
    return { runtime: this.#runtime?.alive ? this.#runtime.pid : undefined, extensions };
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
    const o = this.#o;
    const env: Record<string, string> = {
      PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin:/opt/bin`,
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      LD_LIBRARY_PATH: '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
      AWS_REGION: o.region,
      AWS_DEFAULT_REGION: o.region,
      AWS_LAMBDA_FUNCTION_NAME: o.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: o.functionVersion,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(o.memoryMB),
      AWS_LAMBDA_RUNTIME_API: this.runtimeApi,
      AWS_LAMBDA_INITIALIZATION_TYPE: o.initializationType,
      AWS_ACCESS_KEY_ID: 'AKIAEMULATOREXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'emulator-secret-access-key',
      AWS_SESSION_TOKEN: 'emulator-session-token',
      ...(o.logFormat === 'JSON' ? { AWS_LAMBDA_LOG_FORMAT: 'JSON' } : {}),
      ...o.env,
    };
    // Lambda hides variables starting with "_" from extensions.
    for (const k of Object.keys(env)) if (k.startsWith('_')) delete env[k];
    return env;
  }

  #runtimeEnv(): Record<string, string> {
    const o = this.#o;
    const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
    return {
      ...this.extensionEnv(),
      ...o.env,
      _HANDLER: o.runtime?.handler ?? '',
      LAMBDA_TASK_ROOT: o.runtime?.taskRoot ?? '',
      LAMBDA_RUNTIME_DIR: path.dirname(BOOTSTRAP),
      AWS_EXECUTION_ENV: o.runtime?.executionEnv ?? `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`,
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${o.functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `${day}/[${o.functionVersion}]${randomBytes(16).toString('hex')}`,
      AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
      AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000',
      _LAMBDA_TELEMETRY_LOG_FD: String(TELEMETRY_FD),
      ...(this.managed ? { AWS_LAMBDA_MAX_CONCURRENCY: String(o.maxConcurrency) } : {}),
    };
  }

  // ---- lifecycle ----

  /** Runs the init phase now (as provisioned concurrency would); invoke() does it when needed. */
  init(): Promise<InitResult> {
    if (this.#phase === 'ready' && this.#lastInit) return Promise.resolve(this.#lastInit);
    this.#initPromise ??= this.#exclusive(() => this.#runInit()).finally(() => {
      this.#initPromise = undefined;
    });
    return this.#initPromise;
  }

  async #runInit(): Promise<InitResult> {
    if (this.#phase === 'closed') throw new EmulatorError('EMU_ERR_CLOSED', 'the emulator is closed');
    if (this.#phase === 'ready' && this.#lastInit) return this.#lastInit;
    await this.start();
    const phase = this.#phase === 'failed' ? 'invoke' : 'init';
    this.#phase = 'init';
    this.#initError = undefined;
    this.#runtimeReadyAt = undefined;
    this.#initStartedAt = performance.now();
    const deadline = this.#initStartedAt + this.#o.initTimeoutMs;
    this.telemetry.emit('platform.initStart', {
      initializationType: this.#o.initializationType,
      phase,
      runtimeVersion: `nodejs:${process.versions.node.split('.')[0]}.v1`,
      runtimeVersionArn: `arn:aws:lambda:${this.#o.region}::runtime:emulator`,
      functionName: this.#o.functionName,
      functionVersion: this.#o.functionVersion,
      instanceId: randomUUID(),
      instanceMaxMemory: this.#o.memoryMB * 1024 * 1024,
    });

    this.#extensions = [];
    const files = listExtensionFiles(this.#o.optDir);
    // A new sandbox: fresh limits and counters; CPU is counted from each leaf's usage before spawn.
    this.#limits.newSandbox();
    const cpu0 = this.#limits.cpuMs({ name: 'runtime', pid: undefined }, files.map((f) => ({ name: path.basename(f), pid: undefined })));
    for (const name of this.#o.attachExtensions ?? []) this.#extensions.push(newExtension(name, true));
    for (const file of files) this.#launchExtension(file);

    // Extensions register first; the runtime starts when every launched one has (or has died).
    await this.#until(() => this.#extensions.every((e) => e.state !== 'launched' || !this.#extAlive(e)) || this.#initError !== undefined, deadline);
    if (this.#initError === undefined && performance.now() < deadline) this.#startRuntime();

    const done = await this.#until(
      () =>
        this.#initError !== undefined ||
        (this.#runtimeReadyAt !== undefined && this.#extensions.every((e) => e.state === 'idle' || !this.#extAlive(e) || e.state === 'launched')),
      deadline,
    );
    // An extension that never registered, or died before calling /next, fails the init.
    for (const e of this.#extensions) {
      if (this.#initError !== undefined) break;
      if (e.external && e.proc && !e.proc.alive) this.#initError = e.state === 'init-error' ? e.errorType ?? 'Extension.InitError' : 'Extension.Crash';
      else if (e.state === 'init-error' || e.state === 'exit-error') this.#initError = e.errorType ?? 'Extension.InitError';
    }
    const durationMs = performance.now() - this.#initStartedAt;
    const status: InitResult['status'] = this.#initError !== undefined ? 'error' : done ? 'success' : 'timeout';
    const errorType = status === 'timeout' ? 'Runtime.InitTimeout' : this.#initError;
    if (this.#runtimeReadyAt === undefined || !this.#o.runtime) {
      this.telemetry.emit('platform.initRuntimeDone', {
        initializationType: this.#o.initializationType,
        phase,
        status,
        ...(errorType ? { errorType } : {}),
      });
    }
    for (const e of this.#extensions) {
      if (e.id === undefined) continue;
      this.telemetry.emit('platform.extension', {
        name: e.name,
        state: e.state === 'idle' ? 'Ready' : e.state === 'init-error' ? 'InitError' : e.state === 'exit-error' ? 'ExitError' : 'Registered',
        events: [...e.events],
        ...(e.errorType ? { errorType: e.errorType } : {}),
      });
    }
    this.telemetry.emit('platform.initReport', {
      initializationType: this.#o.initializationType,
      phase,
      status,
      ...(errorType ? { errorType } : {}),
      metrics: { durationMs: round3(durationMs) },
    });
    const result: InitResult = {
      status,
      phase,
      ...(errorType ? { errorType } : {}),
      durationMs,
      extensions: this.#extensions.map((e) => this.#timings(e)),
      cpuMs: cpuDelta(cpu0, this.cpuMs()),
    };
    this.inits.push(result);
    if (status === 'success') {
      this.#limits.initDone();
      this.#phase = 'ready';
      this.#lastInit = result;
      this.#reportInitDuration = durationMs;
      this.telemetry.closeReplay();
    } else {
      await this.#teardown('failure');
      this.#phase = 'failed';
    }
    return result;
  }

  #launchExtension(file: string): void {
    const name = path.basename(file);
    const ext = newExtension(name, false);
    ext.spawnedAt = performance.now();
    ext.proc = new SandboxProcess(
      { name, command: file, args: [], env: this.extensionEnv(), cwd: this.#o.optDir ?? '/', ...this.#join(name, false) },
      (r) => this.#onOutput('extension', name, r),
    );
    void ext.proc.exited.then(() => this.#kick());
    this.#extensions.push(ext);
  }

  #startRuntime(): void {
    const rt = this.#o.runtime;
    if (!rt) {
      // No function code: the platform answers invocations itself (extension-only sessions).
      // Its initRuntimeDone is emitted when init ends, after extensions had their chance to subscribe.
      this.#runtimeReadyAt = performance.now();
      return;
    }
    let command = rt.command ?? rt.nodePath ?? process.execPath;
    let args = rt.command ? rt.args ?? [] : [BOOTSTRAP];
    // As Lambda's managed runtimes do: AWS_LAMBDA_EXEC_WRAPPER runs with the runtime's command as arguments.
    const wrapper = this.#o.env?.['AWS_LAMBDA_EXEC_WRAPPER'];
    if (wrapper !== undefined && wrapper !== '') {
      args = [command, ...args];
      command = wrapper;
    }
    this.#runtime = new SandboxProcess(
      { name: 'runtime', command, args, env: this.#runtimeEnv(), cwd: rt.taskRoot, telemetryFd: true, ...this.#join('runtime', true) },
      (r) => this.#onOutput('function', this.#o.functionName, r),
    );
    void this.#runtime.exited.then(() => this.#kick());
  }

  #join(name: string, runtime: boolean): { cgroupProcs?: string[] } {
    const files = this.#limits.joinFiles(name, runtime);
    return files ? { cgroupProcs: files } : {};
  }

  /** Invokes the function. On-demand invocations run one at a time; managed ones concurrently. */
  invoke(payload: unknown, opts: InvokeOptions = {}): Promise<InvokeResult> {
    if (this.managed) return this.#invokeManaged(payload, opts);
    return this.#exclusive(() => this.#invokeOnDemand(payload, opts));
  }

  async #invokeOnDemand(payload: unknown, opts: InvokeOptions): Promise<InvokeResult> {
    let init: InitResult | undefined;
    if (this.#phase !== 'ready') {
      init = await this.#runInit();
      if (init.status !== 'success') return this.#failedInitResult(init, opts);
    }
    this.#thaw();
    const inv = this.#newInvocation(payload, opts);
    const cpu0 = this.cpuMs();
    const oom0 = this.#limits.oomKills();
    this.#startInvocation(inv);
    const deadline = inv.startedAt + this.#o.timeoutMs;
    const finished = await this.#until(() => this.#settled(inv), deadline);
    const runtimeCrashed = this.#runtime !== undefined && !this.#runtime.alive && inv.runtimeDoneAt === undefined;
    // The kernel killed a sandbox process at the memory limit: Lambda reports Runtime.OutOfMemory.
    const oom = this.#limits.oomKills() > oom0 || (runtimeCrashed && await this.#oomSettles(oom0));
    if (oom) {
      inv.status = 'error';
      inv.errorType = 'Runtime.OutOfMemory';
      inv.oom = true;
      if (inv.response === undefined) {
        const msg = `RequestId: ${inv.requestId} Error: Runtime exited with error: signal: killed`;
        this.#respond(inv, { requestId: inv.requestId, payload: Buffer.from(JSON.stringify({ errorType: 'Runtime.OutOfMemory', errorMessage: msg })), error: { errorType: 'Runtime.OutOfMemory', errorMessage: msg } });
      }
    } else if (!finished) {
      inv.status = 'timeout';
      inv.errorType = 'Sandbox.Timedout';
      if (inv.response === undefined) {
        const secs = (this.#o.timeoutMs / 1000).toFixed(2);
        this.#respond(inv, {
          requestId: inv.requestId,
          payload: Buffer.from(JSON.stringify({ errorType: 'Sandbox.Timedout', errorMessage: `${new Date().toISOString()} ${inv.requestId} Task timed out after ${secs} seconds` })),
          error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${secs} seconds` },
        });
      }
    } else if (runtimeCrashed) {
      inv.status = 'failure';
      inv.errorType = 'Runtime.ExitError';
      if (inv.response === undefined) {
        const code = this.#runtime?.exitInfo?.code ?? this.#runtime?.exitInfo?.signal;
        const msg = `RequestId: ${inv.requestId} Error: Runtime exited with error: exit status ${code}`;
        this.#respond(inv, { requestId: inv.requestId, payload: Buffer.from(JSON.stringify({ errorType: 'Runtime.ExitError', errorMessage: msg })), error: { errorType: 'Runtime.ExitError', errorMessage: msg } });
      }
    }
    if (inv.runtimeDoneAt === undefined) this.#emitRuntimeDone(inv);
    const endedAt = performance.now();
    const result = this.#report(inv, endedAt, init);
    result.cpuMs = cpuDelta(cpu0, this.cpuMs());
    this.#active.delete(inv.requestId);
    this.#runtimeQueue = this.#runtimeQueue.filter((i) => i !== inv);
    if (inv.status === 'timeout' || inv.status === 'failure' || oom) {
      result.reset = true;
      await this.#teardown(inv.status === 'timeout' ? 'timeout' : 'failure');
      this.#phase = 'new';
    } else if (this.#freezeOn) {
      await this.#freeze();
    }
    this.invocations.push(result);
    return result;
  }

  /** The OOM counter can trail the SIGKILL it caused by a moment; a crash gets a short look. */
  async #oomSettles(before: number): Promise<boolean> {
    if (!this.#limits.applied) return false;
    for (let i = 0; i < 10; i++) {
      if (this.#limits.oomKills() > before) return true;
      await sleep(5);
    }
    return false;
  }

  async #invokeManaged(payload: unknown, opts: InvokeOptions): Promise<InvokeResult> {
    let init: InitResult | undefined;
    if (this.#phase !== 'ready') {
      init = await this.init();
      if (init.status !== 'success') return this.#failedInitResult(init, opts);
    }
    const inv = this.#newInvocation(payload, opts);
    inv.extensions = [];
    const cpu0 = this.cpuMs();
    this.#startInvocation(inv);
    const finished = await this.#until(() => inv.response !== undefined || (this.#runtime !== undefined && !this.#runtime.alive), inv.startedAt + this.#o.timeoutMs);
    if (!finished) {
      inv.status = 'timeout';
      const secs = (this.#o.timeoutMs / 1000).toFixed(2);
      this.#respond(inv, { requestId: inv.requestId, payload: Buffer.alloc(0), error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${secs} seconds` } });
    } else if (inv.response === undefined) {
      inv.status = 'failure';
      this.#respond(inv, { requestId: inv.requestId, payload: Buffer.alloc(0), error: { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited' } });
    }
    const result = this.#report(inv, inv.responseAt ?? performance.now(), init);
    result.cpuMs = cpuDelta(cpu0, this.cpuMs());
    this.#active.delete(inv.requestId);
    this.#runtimeQueue = this.#runtimeQueue.filter((i) => i !== inv);
    this.invocations.push(result);
    return result;
  }

  #failedInitResult(init: InitResult, opts: InvokeOptions): InvokeResult {
    const requestId = opts.requestId ?? randomUUID();
    const error = { errorType: init.errorType ?? 'Runtime.Unknown', errorMessage: `init ${init.status}: ${init.errorType ?? ''}`.trim() };
    const r: InvokeResult = { requestId, payload: Buffer.from(JSON.stringify(error)), error, status: 'failure', durationMs: 0, runtimeMs: undefined, postRuntimeMs: undefined, init, reset: true, cpuMs: {} };
    opts.onResponse?.(r);
    this.invocations.push(r);
    return r;
  }

  #newInvocation(payload: unknown, opts: InvokeOptions): Invocation {
    const body = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload ?? {}));
    return {
      requestId: opts.requestId ?? randomUUID(),
      payload: body,
      deadlineMs: Date.now() + this.#o.timeoutMs,
      traceId: opts.traceId ?? newTraceHeader(),
      opts,
      startedAt: performance.now(),
      startDate: new Date(),
      delivered: false,
      response: undefined,
      responseAt: undefined,
      runtimeDoneAt: undefined,
      extensions: [],
      status: undefined,
      errorType: undefined,
      oom: false,
    };
  }

  #startInvocation(inv: Invocation): void {
    this.#active.set(inv.requestId, inv);
    this.telemetry.emit('platform.start', {
      requestId: inv.requestId,
      version: this.#o.functionVersion,
      ...(this.managed ? { functionArn: this.functionArn } : { tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId } }),
      ...(inv.opts.tenantId ? { tenantId: inv.opts.tenantId } : {}),
    });
    if (!this.managed) {
      const event = {
        eventType: 'INVOKE',
        deadlineMs: inv.deadlineMs,
        requestId: inv.requestId,
        invokedFunctionArn: this.functionArn,
        tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId },
      };
      for (const e of this.#extensions) {
        if (e.id === undefined || !e.events.has('INVOKE') || !this.#extAlive(e)) continue;
        inv.extensions.push(e);
        this.#deliver(e, event);
      }
    }
    if (!this.#o.runtime) {
      inv.delivered = true;
      this.#respond(inv, { requestId: inv.requestId, payload: Buffer.from('null') });
      inv.status = 'success';
      this.#emitRuntimeDone(inv);
      return;
    }
    this.#runtimeQueue.push(inv);
    this.#pumpRuntime();
  }

  #settled(inv: Invocation): boolean {
    const runtimeOk = inv.runtimeDoneAt !== undefined || (this.#runtime !== undefined && !this.#runtime.alive);
    if (!runtimeOk) return false;
    if (this.#runtime !== undefined && !this.#runtime.alive && inv.runtimeDoneAt === undefined) return true;
    return inv.extensions.every((e) => e.state === 'idle' || !this.#extAlive(e) || e.state === 'exit-error');
  }

  #respond(inv: Invocation, r: InvokeResponse): void {
    if (inv.response) return;
    inv.response = r;
    inv.responseAt = performance.now();
    inv.opts.onResponse?.(r);
    this.#kick();
  }

  #emitRuntimeDone(inv: Invocation): void {
    inv.runtimeDoneAt = performance.now();
    if (this.managed) return; // managed instances emit no runtimeDone
    const status = inv.status ?? (inv.response?.error ? 'error' : 'success');
    const end = inv.responseAt ?? inv.runtimeDoneAt;
    this.telemetry.emit('platform.runtimeDone', {
      requestId: inv.requestId,
      status,
      ...(status !== 'success' ? { errorType: inv.errorType ?? inv.response?.error?.errorType ?? 'Runtime.Unknown' } : {}),
      // Bytes the runtime produced: none when the platform ended the invocation itself.
      metrics: { durationMs: round3(end - inv.startedAt), producedBytes: status === 'timeout' || status === 'failure' ? 0 : inv.response?.payload.length ?? 0 },
      spans: [
        { name: 'responseLatency', start: inv.startDate.toISOString(), durationMs: round3(end - inv.startedAt) },
        { name: 'responseDuration', start: new Date(inv.startDate.getTime() + (end - inv.startedAt)).toISOString(), durationMs: 0 },
      ],
      tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId },
    });
  }

  #report(inv: Invocation, endedAt: number, init: InitResult | undefined): InvokeResult {
    const status = inv.status ?? (inv.response?.error ? 'error' : 'success');
    inv.status = status;
    const durationMs = endedAt - inv.startedAt;
    const errorType = inv.errorType ?? inv.response?.error?.errorType;
    if (this.managed) {
      this.telemetry.emit('platform.report', {
        requestId: inv.requestId,
        status,
        ...(status !== 'success' && errorType ? { errorType } : {}),
        metrics: { durationMs: round3(durationMs) },
        spans: [
          { name: 'responseLatency', start: inv.startDate.toISOString(), durationMs: round3(durationMs) },
          { name: 'responseDuration', start: new Date().toISOString(), durationMs: 0 },
        ],
      });
    } else {
      const initDurationMs = this.#reportInitDuration;
      this.#reportInitDuration = undefined;
      const procs = [this.#runtime, ...this.#extensions.map((e) => e.proc)].filter((p): p is SandboxProcess => p !== undefined);
      this.telemetry.emit('platform.report', {
        requestId: inv.requestId,
        status,
        ...(status !== 'success' && errorType ? { errorType } : {}),
        metrics: {
          durationMs: round3(durationMs),
          billedDurationMs: Math.ceil(durationMs),
          memorySizeMB: this.#o.memoryMB,
          // Lambda reports the limit itself when the sandbox ran out of memory.
          maxMemoryUsedMB: inv.oom ? this.#o.memoryMB : this.#limits.peakMB() ?? Math.ceil(procs.reduce((s, p) => s + p.peakRssMB(), 0)),
          ...(initDurationMs !== undefined ? { initDurationMs: round3(initDurationMs) } : {}),
        },
        tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId },
      });
    }
    const response = inv.response ?? { requestId: inv.requestId, payload: Buffer.alloc(0) };
    return {
      ...response,
      status,
      durationMs,
      runtimeMs: inv.responseAt !== undefined ? inv.responseAt - inv.startedAt : undefined,
      postRuntimeMs: inv.responseAt !== undefined && status !== 'timeout' ? Math.max(0, endedAt - inv.responseAt) : undefined,
      ...(init ? { init } : {}),
      reset: false,
      cpuMs: {},
    };
  }

  /** Sends SHUTDOWN and ends the sandbox; the emulator can init again afterwards. */
  shutdown(reason: ShutdownReason = 'spindown'): Promise<ShutdownResult> {
    return this.#exclusive(async () => {
      const r = await this.#teardown(reason);
      if (this.#phase !== 'closed') this.#phase = 'new';
      return r;
    });
  }

  /** Shuts the sandbox down (if any) and stops the API server. */
  async close(): Promise<void> {
    if (this.#phase === 'closed') return;
    await this.shutdown('spindown');
    this.#phase = 'closed';
    await this.#limits.close();
    if (this.#onExit) process.off('exit', this.#onExit);
    for (const res of this.#runtimePending) res.destroy();
    this.#runtimePending = [];
    if (this.#server.listening) {
      const closed = once(this.#server, 'close');
      this.#server.close();
      this.#server.closeAllConnections();
      await closed;
    }
  }

  async #teardown(reason: ShutdownReason): Promise<ShutdownResult> {
    const t0 = performance.now();
    this.#thaw();
    const cpu0 = this.cpuMs();
    const registered = this.#extensions.filter((e) => e.id !== undefined);
    const externals = registered.filter((e) => e.external);
    const budgetMs = this.managed || externals.length > 0 ? 2000 : registered.length > 0 ? 500 : 0;
    const deadline = t0 + budgetMs;
    const deadlineMs = Date.now() + budgetMs;
    const runtimeShare = this.managed ? 600 : registered.some((e) => !e.external) ? 500 : 300;
    let runtimeKilled = false;
    const rt = this.#runtime;
    if (rt?.alive) {
      rt.signal('SIGTERM');
      await Promise.race([rt.exited, sleep(Math.min(runtimeShare, budgetMs))]);
      if (rt.alive) {
        rt.signal('SIGKILL');
        runtimeKilled = true;
        await Promise.race([rt.exited, sleep(500)]);
      }
    }
    for (const res of this.#runtimePending) res.destroy();
    this.#runtimePending = [];
    // Records produced so far reach subscribers before SHUTDOWN, as the platform flushes them first.
    await this.telemetry.flush(Math.min(Date.now() + 250, deadlineMs));

    const event = { eventType: 'SHUTDOWN', shutdownReason: reason, deadlineMs };
    const waiting: Extension[] = [];
    for (const e of externals) {
      // An extension that reported init/exit error was told to exit: no SHUTDOWN for it.
      if (!this.#extAlive(e) || e.state === 'init-error') continue;
      if (e.events.has('SHUTDOWN')) {
        e.shutdownAt = performance.now();
        e.doneAt = undefined;
        this.#deliver(e, event);
        waiting.push(e);
      } else {
        e.proc?.signal('SIGKILL');
      }
    }
    await this.#until(() => waiting.every((e) => !this.#extAlive(e) || (e.attached && e.doneAt !== undefined)), deadline);
    const results: ExtensionShutdown[] = [];
    for (const e of this.#extensions) {
      let killed = false;
      if (e.proc?.alive) {
        e.proc.signal('SIGKILL');
        killed = true;
        await Promise.race([e.proc.exited, sleep(500)]);
      }
      if (e.shutdownAt !== undefined || e.proc) {
        const endedAt = e.proc ? e.proc.exitedAt : e.doneAt;
        results.push({
          name: e.name,
          exitMs: !killed && e.shutdownAt !== undefined && endedAt !== undefined ? endedAt - e.shutdownAt : undefined,
          killed,
          exitCode: e.proc?.exitInfo?.code ?? null,
        });
      }
      if (e.pending && !e.pending.writableEnded) e.pending.destroy();
    }
    const cpuMs = cpuDelta(cpu0, this.cpuMs());
    for (const inv of this.#active.values()) inv.status ??= 'failure';
    this.#active.clear();
    this.#runtimeQueue = [];
    this.#runtime = undefined;
    this.#runtimeReadyAt = undefined;
    this.#extensions = [];
    this.#lastInit = undefined;
    this.telemetry.resetSandbox();
    const result: ShutdownResult = { reason, durationMs: performance.now() - t0, budgetMs, extensions: results, runtimeKilled, cpuMs };
    this.shutdowns.push(result);
    return result;
  }

  async #freeze(): Promise<void> {
    this.#frozen = true;
    this.telemetry.pause();
    // The freezer cgroup where there is one, as Lambda; SIGSTOP to each process group otherwise.
    if (this.#limits.canFreeze && await this.#limits.freeze()) return;
    const procs = [this.#runtime, ...this.#extensions.map((e) => e.proc)].filter((p): p is SandboxProcess => p !== undefined);
    for (const p of procs) p.freeze();
    await Promise.all(procs.map((p) => p.waitStopped(1000)));
  }

  #thaw(): void {
    if (!this.#frozen) return;
    this.#frozen = false;
    this.#limits.thaw();
    this.#runtime?.thaw();
    for (const e of this.#extensions) e.proc?.thaw();
    this.telemetry.resume();
  }

  // ---- bookkeeping helpers ----

  #extAlive(e: Extension): boolean {
    if (e.state === 'exited' || e.state === 'exit-error') return false;
    return e.proc ? e.proc.alive : true;
  }

  #timings(e: Extension): ExtensionTimings {
    const base = e.spawnedAt ?? this.#initStartedAt;
    const rel = (t: number | undefined): number | undefined => (t === undefined ? undefined : t - base);
    return {
      name: e.name,
      spawnMs: e.spawnedAt === undefined ? undefined : e.spawnedAt - this.#initStartedAt,
      registerMs: rel(e.registeredAt),
      subscribeMs: rel(e.subscribedAt),
      readyMs: rel(e.readyAt),
    };
  }

  #onOutput(source: 'function' | 'extension', name: string, r: LogRecord): void {
    this.#o.onLog?.({ source, name, stream: r.stream, text: r.text, time: r.time });
    let record: unknown = r.text;
    if (this.#o.logFormat === 'JSON') {
      record = parseJsonObject(r.text) ?? {
        timestamp: r.time.toISOString(),
        level: r.stream === 'stderr' ? 'ERROR' : 'INFO',
        message: r.text,
      };
    }
    this.telemetry.emit(source, record, r.time);
  }

  /** Serialises lifecycle operations (init, on-demand invoke, shutdown). */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  #resetChanged(): void {
    this.#changed = new Promise((resolve) => {
      this.#kickChanged = resolve;
    });
  }

  #kick(): void {
    const k = this.#kickChanged;
    this.#resetChanged();
    k();
  }

  /** Waits until `pred()` holds (true) or the performance.now() deadline passes (false). */
  async #until(pred: () => boolean, deadline: number): Promise<boolean> {
    for (;;) {
      if (pred()) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await Promise.race([this.#changed, sleep(left)]);
    }
  }

  #deliver(e: Extension, event: object): void {
    if (e.pending && !e.pending.writableEnded) {
      const res = e.pending;
      e.pending = undefined;
      e.state = 'running';
      sendEvent(res, event);
    } else {
      e.queue.push(event);
    }
  }

  #pumpRuntime(): void {
    while (this.#runtimePending.length > 0 && this.#runtimeQueue.some((i) => !i.delivered)) {
      const inv = this.#runtimeQueue.find((i) => !i.delivered)!;
      const res = this.#runtimePending.shift()!;
      if (res.writableEnded || res.destroyed) continue;
      inv.delivered = true;
      const h: Record<string, string> = {
        'content-type': 'application/json',
        'lambda-runtime-aws-request-id': inv.requestId,
        'lambda-runtime-deadline-ms': String(inv.deadlineMs),
        'lambda-runtime-invoked-function-arn': this.functionArn,
        'lambda-runtime-trace-id': inv.traceId,
      };
      if (inv.opts.clientContext) h['lambda-runtime-client-context'] = inv.opts.clientContext;
      if (inv.opts.cognitoIdentity) h['lambda-runtime-cognito-identity'] = inv.opts.cognitoIdentity;
      if (inv.opts.tenantId) h['lambda-runtime-aws-tenant-id'] = inv.opts.tenantId;
      h['content-length'] = String(inv.payload.length);
      res.writeHead(200, h);
      res.end(inv.payload);
    }
  }

  // ---- HTTP API ----

  #route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = req.url ?? '/';
    const p = url.split('?')[0]!;
    const m = req.method ?? 'GET';
    const handle = (fn: () => Promise<void> | void): void => {
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) => {
          if (!res.headersSent) sendError(res, 500, 'Runtime.Unknown', (err as Error).message);
        });
    };
    if (p === '/2020-01-01/extension/register' && m === 'POST') return handle(() => this.#register(req, res));
    if (p === '/2020-01-01/extension/event/next' && m === 'GET') return handle(() => this.#extNext(req, res));
    if (p === '/2020-01-01/extension/init/error' && m === 'POST') return handle(() => this.#extError(req, res, 'init-error'));
    if (p === '/2020-01-01/extension/exit/error' && m === 'POST') return handle(() => this.#extError(req, res, 'exit-error'));
    if (p === '/2022-07-01/telemetry' && m === 'PUT') return handle(() => this.#subscribe(req, res));
    if (p === '/2020-08-15/logs' && m === 'PUT') {
      return handle(async () => {
        await readBody(req, 1 << 20);
        sendJson(res, 202, { errorType: ErrorType.LogsNotSupported, errorMessage: 'The Logs API is not emulated; subscribe with the Telemetry API' });
      });
    }
    if (p === '/2018-06-01/runtime/invocation/next' && m === 'GET') return handle(() => this.#runtimeNext(res));
    if (p === '/2018-06-01/runtime/init/error' && m === 'POST') return handle(() => this.#runtimeInitError(req, res));
    const inv = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(p);
    if (inv && m === 'POST') return handle(() => this.#runtimeResult(req, res, decodeURIComponent(inv[1]!), inv[2] as 'response' | 'error'));
    req.resume();
    sendError(res, 404, ErrorType.NotFound, `no such route: ${m} ${p}`);
  }

  async #register(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req, 1 << 20);
    const name = header(req, 'lambda-extension-name');
    if (this.#phase !== 'init') return sendError(res, 403, ErrorType.RegistrationClosed, 'Extension registration is closed: registration happens during the init phase');
    if (!name) return sendError(res, 403, ErrorType.InvalidExtensionName, 'Empty extension name');
    let body: { events?: unknown; configurationKeys?: unknown } = {};
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8')) as typeof body;
        if (body === null || typeof body !== 'object') throw new Error('not an object');
      } catch {
        return sendError(res, 400, ErrorType.InvalidRequestFormat, 'register body must be a JSON object');
      }
    }
    if (body.configurationKeys !== undefined) return sendError(res, 403, ErrorType.InvalidRequestFormat, 'configurationKeys are deprecated');
    const events = body.events ?? [];
    if (!Array.isArray(events) || events.some((e) => e !== 'INVOKE' && e !== 'SHUTDOWN')) {
      return sendError(res, 403, ErrorType.InvalidEventType, `Invalid event types: ${JSON.stringify(events)}; allowed: INVOKE, SHUTDOWN`);
    }
    let ext = this.#extensions.find((e) => e.name === name && (e.external || e.id !== undefined));
    if (ext?.id !== undefined) return sendError(res, 403, ErrorType.InvalidExtensionState, `Extension ${name} is already registered`);
    if (this.#extensions.filter((e) => e.id !== undefined).length >= MAX_EXTENSIONS) {
      return sendError(res, 403, ErrorType.TooManyExtensions, `At most ${MAX_EXTENSIONS} extensions can register`);
    }
    if (ext?.external) {
      if (this.managed && events.includes('INVOKE')) {
        return sendError(res, 403, ErrorType.InvalidEventType, 'Lambda Managed Instances extensions can register for SHUTDOWN only');
      }
    } else {
      // Not an executable in /opt/extensions: an internal extension, run inside the runtime process.
      if (events.includes('SHUTDOWN')) return sendError(res, 403, ErrorType.InvalidEventType, 'Internal extensions cannot register for SHUTDOWN');
      ext = newExtension(name, false);
      ext.external = false;
      this.#extensions.push(ext);
    }
    ext.id = randomUUID();
    ext.events = new Set(events as EventType[]);
    ext.state = 'registered';
    ext.registeredAt = performance.now();
    const wantsAccount = (header(req, 'lambda-extension-accept-feature') ?? '').split(',').map((s) => s.trim()).includes('accountId');
    res.setHeader('lambda-extension-identifier', ext.id);
    sendJson(res, 200, {
      functionName: this.#o.functionName,
      functionVersion: this.#o.functionVersion,
      handler: this.#o.runtime?.handler ?? '',
      ...(wantsAccount ? { accountId: this.#o.accountId } : {}),
    });
    this.#kick();
  }

  /** Finds the calling extension by its identifier header, or answers the documented 403. */
  #caller(req: http.IncomingMessage, res: http.ServerResponse): Extension | undefined {
    const id = header(req, 'lambda-extension-identifier');
    if (!id) {
      sendError(res, 403, ErrorType.MissingExtensionIdentifier, 'Missing Lambda-Extension-Identifier header');
      return undefined;
    }
    if (!UUID_RE.test(id)) {
      sendError(res, 403, ErrorType.InvalidExtensionIdentifier, 'Invalid Lambda-Extension-Identifier');
      return undefined;
    }
    const ext = this.#extensions.find((e) => e.id === id);
    if (!ext) {
      sendError(res, 403, ErrorType.UnknownExtensionIdentifier, 'Unknown extension identifier');
      return undefined;
    }
    return ext;
  }

  async #extNext(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    req.resume();
    const ext = this.#caller(req, res);
    if (!ext) return;
    if (ext.state === 'init-error' || ext.state === 'exit-error') {
      return sendError(res, 403, ErrorType.InvalidExtensionState, `Extension ${ext.name} reported an error and must exit`);
    }
    if (ext.pending && !ext.pending.writableEnded) {
      return sendError(res, 403, ErrorType.InvalidExtensionState, `Extension ${ext.name} is already waiting in /next`);
    }
    ext.readyAt ??= performance.now();
    if (ext.shutdownAt !== undefined) ext.doneAt ??= performance.now();
    const queued = ext.queue.shift();
    if (queued) {
      ext.state = 'running';
      sendEvent(res, queued);
    } else {
      ext.state = 'idle';
      ext.pending = res;
      res.on('close', () => {
        if (ext.pending === res) ext.pending = undefined;
      });
    }
    this.#kick();
  }

  async #extError(req: http.IncomingMessage, res: http.ServerResponse, state: 'init-error' | 'exit-error'): Promise<void> {
    await readBody(req, 1 << 20);
    const ext = this.#caller(req, res);
    if (!ext) return;
    const errorType = header(req, 'lambda-extension-function-error-type');
    if (!errorType) return sendError(res, 400, ErrorType.MissingFunctionErrorType, 'Missing Lambda-Extension-Function-Error-Type header');
    if (ext.state === 'init-error' || ext.state === 'exit-error') {
      return sendError(res, 403, ErrorType.InvalidExtensionState, `Extension ${ext.name} already reported an error`);
    }
    if (state === 'init-error' && this.#phase !== 'init') {
      return sendError(res, 403, ErrorType.InvalidExtensionState, 'init/error is only valid during the init phase');
    }
    ext.state = state;
    ext.errorType = errorType;
    if (state === 'init-error') this.#initError ??= errorType;
    sendJson(res, 202, { status: 'OK' });
    this.#kick();
  }

  async #subscribe(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req, 1 << 20);
    const ext = this.#caller(req, res);
    if (!ext) return;
    if (this.#phase !== 'init') return sendError(res, 403, ErrorType.SubscriptionClosed, 'Telemetry API subscription is closed');
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return sendError(res, 400, ErrorType.ValidationError, 'request body is not JSON');
    }
    const v = validateSubscription(body, this.managed);
    if (!v.ok) return sendError(res, 400, v.errorType, v.message);
    if (ext.subscription) {
      this.telemetry.emit('platform.telemetrySubscription', { name: ext.name, state: 'Already subscribed', types: v.value.types });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('OK');
      return;
    }
    ext.subscription = this.telemetry.subscribe(ext.name, v.value);
    ext.subscribedAt = performance.now();
    this.telemetry.emit('platform.telemetrySubscription', { name: ext.name, state: 'Subscribed', types: v.value.types });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('OK');
  }

  #runtimeNext(res: http.ServerResponse): void {
    if (this.#phase === 'init' && this.#runtimeReadyAt === undefined && this.#runtime) {
      this.#runtimeReadyAt = performance.now();
      this.telemetry.emit('platform.initRuntimeDone', { initializationType: this.#o.initializationType, phase: 'init', status: 'success' });
    }
    // A /next after a response ends that invocation's runtime part (on-demand: one at a time).
    if (!this.managed) {
      for (const inv of this.#active.values()) {
        if (inv.response !== undefined && inv.runtimeDoneAt === undefined && inv.delivered) this.#emitRuntimeDone(inv);
      }
    }
    this.#runtimePending.push(res);
    res.on('close', () => {
      this.#runtimePending = this.#runtimePending.filter((r) => r !== res);
    });
    this.#pumpRuntime();
    this.#kick();
  }

  async #runtimeResult(req: http.IncomingMessage, res: http.ServerResponse, id: string, kind: 'response' | 'error'): Promise<void> {
    const inv = this.#active.get(id);
    if (!inv) {
      req.resume();
      return sendError(res, 400, ErrorType.InvalidRequestID, `Invalid request ID: ${id}`);
    }
    if (!inv.delivered || inv.response !== undefined) {
      req.resume();
      return sendError(res, 403, ErrorType.InvalidStateTransition, `Invocation ${id} already has a result`);
    }
    let body: Buffer;
    try {
      body = await readBody(req, MAX_RESPONSE_BYTES);
    } catch {
      const msg = `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`;
      inv.errorType = 'Function.ResponseSizeTooLarge';
      this.#respond(inv, { requestId: id, payload: Buffer.from(JSON.stringify({ errorType: 'Function.ResponseSizeTooLarge', errorMessage: msg })), error: { errorType: 'Function.ResponseSizeTooLarge', errorMessage: msg } });
      return sendError(res, 413, ErrorType.RequestEntityTooLarge, msg);
    }
    if (kind === 'response') {
      this.#respond(inv, { requestId: id, payload: body });
    } else {
      const parsed = parseJsonObject(body.toString('utf8'));
      const errorType = header(req, 'lambda-runtime-function-error-type') ?? (typeof parsed?.errorType === 'string' ? parsed.errorType : 'Unhandled');
      const errorMessage = typeof parsed?.errorMessage === 'string' ? parsed.errorMessage : body.toString('utf8');
      this.#respond(inv, { requestId: id, payload: body, error: { errorType, errorMessage } });
    }
    sendJson(res, 202, { status: 'OK' });
  }

  async #runtimeInitError(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req, 1 << 20);
    if (this.#phase !== 'init') return sendError(res, 403, ErrorType.InvalidStateTransition, 'init/error is only valid during the init phase');
    const parsed = parseJsonObject(raw.toString('utf8'));
    this.#initError ??= header(req, 'lambda-runtime-function-error-type') ?? (typeof parsed?.errorType === 'string' ? parsed.errorType : 'Runtime.Unknown');
    sendJson(res, 202, { status: 'OK' });
    this.#kick();
  }
}

function newExtension(name: string, attached: boolean): Extension {
  return {
    name,
    external: true,
    attached,
    proc: undefined,
    id: undefined,
    events: new Set(),
    state: 'launched',
    queue: [],
    pending: undefined,
    errorType: undefined,
    subscription: undefined,
    spawnedAt: undefined,
    registeredAt: undefined,
    subscribedAt: undefined,
    readyAt: undefined,
    shutdownAt: undefined,
    doneAt: undefined,
  };
}

/** Every file (not folder) in `<optDir>/extensions`, in name order, as Lambda launches them. */
export function listExtensionFiles(optDir: string | undefined): string[] {
  if (!optDir) return [];
  const dir = path.join(optDir, 'extensions');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .sort()
    .map((n) => path.join(dir, n))
    .filter((p) => statSync(p).isFile());
}

/** An X-Ray trace header as Lambda passes it: Root=1-<epoch hex>-<96-bit hex>;Parent=<64-bit hex>;Sampled=1. */
export function newTraceHeader(): string {
  const epoch = Math.floor(Date.now() / 1000).toString(16).padStart(8, '0');
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=1`;
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  const t = text.trimStart();
  if (!t.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

function sendError(res: http.ServerResponse, status: number, errorType: string, errorMessage: string): void {
  sendJson(res, status, { errorMessage, errorType });
}

function sendEvent(res: http.ServerResponse, event: object): void {
  res.setHeader('lambda-extension-event-identifier', randomUUID());
  sendJson(res, 200, event);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) over = true;
      if (!over) chunks.push(c);
    });
    req.on('end', () => (over ? reject(new Error(`body over ${limit} bytes`)) : resolve(Buffer.concat(chunks, n))));
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)).unref());
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
