// The main thread. Cold-start path, in order: send register, load config while it is in flight, bind
// every ingestion socket, subscribe to telemetry, send the first /next. Workers are spawned only
// after that /next is on the wire. Then the loop: per INVOKE, the flush decision; on SHUTDOWN, the
// drain. Any failure after register falls back to an idle loop that keeps answering /next, so the
// function never breaks because of us.
import { writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { functionTags, loadConfig, processEnv, readAwsAccess } from '@dd-lambda/config';
import type { AwsAccess, Config } from '@dd-lambda/config';
import { ExtensionClient } from '@dd-lambda/extension-api';
import type { NextEvent } from '@dd-lambda/extension-api';
import { createBootLogger } from '@dd-lambda/logger/boot';
import type { Logger } from '@dd-lambda/logger';
import type { InvocationEvent } from '@dd-lambda/protocol';
import { Checkpoints } from './checkpoints.js';
import { idleUntilShutdown } from './idle.js';
import { resolveApiKey } from './api-key.js';
import type { KeyResolution } from './api-key.js';
import { FlushControl } from './flush-control.js';
import { Pipelines, summary } from './pipelines.js';
import { RuntimeDoneWaiter } from './runtime-done.js';
import { RuntimeApiProxy } from './runtime-proxy.js';
import type { TeeKind } from './runtime-proxy.js';

export const EXTENSION_NAME = 'datadog-agent';
/**
 * SHUTDOWN work ends this long before the platform's deadline, so exit happens before the SIGKILL:
 * terminating the workers and exiting take a few ms of CPU, which at 128 MB's share is ~100 ms of wall.
 */
export const SHUTDOWN_MARGIN_MS = 300;
/** A blocking flush ends this long before the invocation's deadline: our flush never turns a success into a timeout. */
export const INVOCATION_MARGIN_MS = 200;
export const REGISTER_ATTEMPTS = 3;
/** Managed instances: the budget of the shutdown an unexpected INVOKE starts (the platform gives SHUTDOWN 2 s there). */
export const MANAGED_INVOKE_SHUTDOWN_MS = 2000;

export interface RunOptions {
  /** Directory of the bundled code: units.json and worker.cjs live here. */
  codeDir: string;
  /** Worker thread entry; `<codeDir>/worker.cjs` by default. */
  workerEntry?: string;
  /** Where self-log lines go (tests); stdout by default. */
  write?: (line: string) => void;
}

/** Runs the extension until SHUTDOWN; resolves with the process exit code. */
export async function runExtension(options: RunOptions): Promise<number> {
  const cp = new Checkpoints();
  const env = processEnv();
  const write = options.write;
  const managed = env['AWS_LAMBDA_INITIALIZATION_TYPE'] === 'lambda-managed-instances';
  const runtimeApi = env['AWS_LAMBDA_RUNTIME_API'];
  if (runtimeApi === undefined || runtimeApi === '') {
    createBootLogger({ level: 'error', bindings: { component: 'supervisor' }, ...(write ? { write } : {}) }).fatal(
      'AWS_LAMBDA_RUNTIME_API is not set: not running inside Lambda (or its emulator)',
    );
    return 1;
  }
  const client = new ExtensionClient({ runtimeApi, name: EXTENSION_NAME });
  // Register goes out first; config loads while it is in flight.
  const registering = registerWithRetry(client, managed ? ['SHUTDOWN'] : ['INVOKE', 'SHUTDOWN']);
  registering.catch(() => undefined);

  const { config, warnings, yamlFile } = loadConfig(env);
  cp.mark('config parsed');
  const logger = createBootLogger({ level: config.logLevel, bindings: { component: 'supervisor' }, ...(write ? { write } : {}) });
  for (const w of warnings) logger.warn(w);
  if (yamlFile !== undefined) logger.debug({ file: yamlFile }, 'read datadog.yaml');

  // Sockets bind while register is still in flight.
  const sv = new Supervisor(config, logger, client, cp, options, managed, readAwsAccess(env));
  const binding = sv.prepare();
  binding.catch(() => undefined);

  let registration: Awaited<typeof registering>;
  try {
    registration = await registering;
  } catch (err) {
    logger.fatal({ err }, 'could not register with the Extensions API; exiting');
    await sv.abandon();
    return 1;
  }
  cp.mark('register done');
  return sv.run(registration.accountId, binding);
}

async function registerWithRetry(client: ExtensionClient, events: ('INVOKE' | 'SHUTDOWN')[]): Promise<{ accountId: string | undefined }> {
  let last: unknown;
  for (let i = 0; i < REGISTER_ATTEMPTS; i++) {
    try {
      return await client.register(events);
    } catch (err) {
      last = err;
      // A 4xx is an answer, not a glitch: retrying cannot help.
      const status = (err as { status?: number }).status;
      if (status !== undefined && status >= 400 && status < 500) break;
      await new Promise((r) => setTimeout(r, 25 * (i + 1)));
    }
  }
  throw last;
}

class Supervisor {
  readonly #config: Readonly<Config>;
  readonly #log: Logger;
  readonly #client: ExtensionClient;
  readonly #cp: Checkpoints;
  readonly #opts: RunOptions;
  readonly #managed: boolean;
  readonly #flush: FlushControl;
  readonly #p: Pipelines;
  readonly #runtimeDone: RuntimeDoneWaiter;
  #timer: NodeJS.Timeout | undefined;
  #invocations = 0;
  readonly #aws: AwsAccess;
  /** Resolves the API key from KMS, Secrets Manager or SSM; loaded only when one of them is configured. */
  #keys: KeyResolution | undefined;
  #proxy: RuntimeApiProxy | undefined;

  constructor(config: Readonly<Config>, logger: Logger, client: ExtensionClient, cp: Checkpoints, opts: RunOptions, managed: boolean, aws: AwsAccess) {
    this.#config = config;
    this.#log = logger;
    this.#client = client;
    this.#cp = cp;
    this.#opts = opts;
    this.#managed = managed;
    this.#aws = aws;
    const strategy = managed && config.flushStrategy.kind !== 'continuously' ? { kind: 'continuously' as const, intervalMs: 30_000 } : config.flushStrategy;
    if (managed && config.flushStrategy.kind !== 'default' && config.flushStrategy.kind !== 'continuously') {
      logger.warn({ strategy: config.flushStrategy.kind }, 'managed instances flush continuously; DD_SERVERLESS_FLUSH_STRATEGY ignored');
    }
    this.#runtimeDone = new RuntimeDoneWaiter(logger);
    this.#flush = new FlushControl(strategy, config.flushTimeoutMs, Math.round(performance.timeOrigin));
    this.#p = new Pipelines({
      config,
      logger,
      codeDir: opts.codeDir,
      workerEntry: opts.workerEntry,
      onReady: (slot, units) => {
        this.#cp.mark(`worker w${slot} READY`);
        this.#log.debug({ worker: slot, units }, 'worker ready');
      },
      onAllReady: () => this.#emitCheckpoints(),
      onKeyRejected: () => this.#keys?.rejected(),
      onPlatform: (e) => this.#runtimeDone.onPlatform(e),
    });
    this.#p.onFlush = () => this.#flush.flushed(Date.now());
  }

  /**
   * Before register answers: read units.json, build the worker set (nothing spawned) and bind every
   * ingestion socket. Rejections are handled by run(), which falls back to idle.
   */
  async prepare(): Promise<void> {
    await Promise.all([this.#p.prepare(), this.#bindRuntimeProxy()]);
    this.#cp.mark('listeners bound');
  }

  /**
   * The runtime-API proxy binds with the other listeners, before register answers and so before the
   * runtime (and the wrapper's check for it) starts. It keeps forwarding even when the rest of the
   * init fails (idle mode): the wrapper may have pointed the runtime at it already.
   */
  async #bindRuntimeProxy(): Promise<void> {
    const { runtimeProxy, aws } = this.#config;
    if (!runtimeProxy.enabled || aws.runtimeApi === undefined) return;
    const proxy = new RuntimeApiProxy({
      upstream: aws.runtimeApi,
      port: runtimeProxy.port,
      logger: this.#log.child({ component: 'runtime-proxy' }),
      // Copies only for AppSec; the units are known once units.json was read (prepare runs both at once).
      ...(this.#config.appsecEnabled
        ? {
            tee: (requestId: string, kind: TeeKind, body: Buffer) => {
              if (this.#p.wantsRuntime) this.#p.sendRuntime(requestId, kind, body);
            },
          }
        : {}),
    });
    try {
      await proxy.bind();
      this.#proxy = proxy;
    } catch (err) {
      // Not fatal: without a listener the wrapper leaves the runtime on Lambda's API.
      this.#log.error({ err, code: (err as { code?: unknown }).code }, 'the runtime API proxy could not listen; set DD_EXTENSION_RUNTIME_PROXY_PORT to a free port');
    }
  }

  /** Register failed: release the sockets prepare() may have bound. */
  async abandon(): Promise<void> {
    await this.#teardown();
    await this.#proxy?.close();
  }

  async run(accountId: string | undefined, binding: Promise<void>): Promise<number> {
    let first: Promise<NextEvent>;
    try {
      await binding;
      this.#p.workers?.identify(accountId, functionTags(this.#config, accountId));
      ({ first } = await this.#initActive());
    } catch (err) {
      this.#log.error({ err, code: (err as { code?: unknown }).code }, 'init failed after register; running idle (no telemetry is collected) so the function keeps working');
      await this.#teardown();
      return this.#idle();
    }
    return this.#loop(first);
  }

  /** Everything between register and the first /next. Returns the pending first /next. */
  async #initActive(): Promise<{ first: Promise<NextEvent> }> {
    const config = this.#config;
    const plan = this.#p.plan;
    await this.#client.subscribeTelemetry({
      schemaVersion: this.#managed ? '2025-01-29' : '2022-12-13',
      destination: { protocol: 'HTTP', URI: `http://sandbox:${config.ports.telemetry}/` },
      types: config.logsEnabled ? ['platform', 'function', 'extension'] : ['platform'],
      buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 },
    });
    this.#cp.mark('subscribed');
    const first = this.#client.next(() => this.#cp.mark('first /next sent'));
    first.catch(() => undefined);
    // Workers only after /next is on the wire: spawning them first delays it by 12-17 ms.
    setImmediate(() => {
      this.#p.workers?.start();
      resolveApiKey(
        this.#config,
        this.#aws,
        this.#log,
        (key) => this.#p.workers?.setApiKey(key),
        (r) => (this.#keys = r),
      );
      this.#log.info(
        {
          node: process.versions.node,
          workers: plan.threads.length,
          budget: config.workers,
          budgetSource: config.workersSource,
          assignment: plan.threads.map((t, i) => `w${i + 1}:${t.map((u) => u.name).join('+')}`),
        },
        'worker assignment',
      );
      if (plan.threads.length === 0) this.#emitCheckpoints();
    });
    const interval = this.#flush.intervalMs;
    if (interval !== undefined) {
      this.#timer = setInterval(() => this.#onTick(), interval);
      this.#timer.unref();
    }
    return { first };
  }

  #emitCheckpoints(): void {
    const list = this.#cp.list;
    if (this.#log.isLevelEnabled('debug')) this.#log.debug({ checkpoints: list }, `extension ready in ${this.#cp.find('first /next sent')?.totalMs.toFixed(3) ?? '?'} ms`);
    this.#cp.emit(this.#config.checkpoints, this.#opts.write ?? ((l) => writeSync(1, l)));
  }

  async #loop(first: Promise<NextEvent>): Promise<number> {
    let pending = first;
    for (;;) {
      let ev: NextEvent;
      try {
        ev = await pending;
      } catch (err) {
        // Datadog's extension treats a failed or unparsable /next as a shutdown.
        this.#log.error({ err }, '/next failed; shutting down');
        return this.#shutdown({ eventType: 'SHUTDOWN', shutdownReason: 'next-failed', deadlineMs: Date.now() + 1500 });
      }
      if (ev.eventType === 'SHUTDOWN') return this.#shutdown(ev);
      if (this.#managed) {
        // Registered for SHUTDOWN only, so an INVOKE means the platform and we disagree: bottlecap
        // (bin/bottlecap/main.rs) stops there, draining and flushing what it holds; so do we.
        this.#log.error({ requestId: ev.requestId }, 'INVOKE received in managed-instance mode (registered for SHUTDOWN only); shutting down');
        return this.#shutdown({ eventType: 'SHUTDOWN', shutdownReason: 'invoke-in-managed-mode', deadlineMs: Date.now() + MANAGED_INVOKE_SHUTDOWN_MS });
      }
      await this.#onInvoke(ev);
      pending = this.#client.next();
    }
  }

  async #onInvoke(ev: Extract<NextEvent, { eventType: 'INVOKE' }>): Promise<void> {
    this.#invocations++;
    const now = Date.now();
    const event: InvocationEvent = { kind: 'invoke', requestId: ev.requestId, deadlineMs: ev.deadlineMs, invokedFunctionArn: ev.invokedFunctionArn, receivedAt: now };
    this.#p.broadcast(event);
    const decision = this.#flush.evaluate(now);
    this.#log.debug({ requestId: ev.requestId, decision }, 'invoke');
    switch (decision) {
      case 'end':
        await this.#runtimeDone.wait(ev.requestId, ev.deadlineMs);
        await this.#p.flushAll('end', this.#blockingDeadline(ev.deadlineMs));
        return;
      case 'periodic':
        await this.#p.flushAll('periodic', this.#blockingDeadline(ev.deadlineMs));
        return;
      case 'continuous':
        this.#p.flushNonBlocking('continuous');
        return;
      case 'dont':
        return;
    }
  }

  /** DD_FLUSH_TIMEOUT from now, but never past the invocation's deadline less a margin. */
  #blockingDeadline(invocationDeadlineMs: number): number {
    return Math.min(Date.now() + this.#config.flushTimeoutMs, invocationDeadlineMs - INVOCATION_MARGIN_MS);
  }

  #onTick(): void {
    // While waiting on /next only the default strategy flushes on the timer (DataDog/datadog-lambda-extension, bottlecap/src/lifecycle/flush_control.rs); managed
    // instances flush continuously from the timer.
    if (this.#managed) this.#p.flushNonBlocking('continuous');
    else if (this.#flush.strategy.kind === 'default') this.#p.flushNonBlocking('interval');
  }

  async #shutdown(ev: Extract<NextEvent, { eventType: 'SHUTDOWN' }>): Promise<number> {
    const t0 = performance.now();
    const deadline = ev.deadlineMs - SHUTDOWN_MARGIN_MS;
    this.#log.info({ reason: ev.shutdownReason, deadlineMs: ev.deadlineMs, budgetMs: deadline - Date.now() }, 'shutting down');
    if (this.#timer) clearInterval(this.#timer);
    this.#keys?.stop();
    this.#p.broadcast({ kind: 'shutdown', reason: ev.shutdownReason, deadlineMs: ev.deadlineMs, receivedAt: Date.now() });
    const ingress = this.#p.ingress;
    const workers = this.#p.workers;
    // 1-2. Stop new input (what was received is handed over), let the last telemetry arrive.
    await ingress?.quiesce(deadline);
    // 3. Drain (finish in-flight requests), then the final flush, both acknowledged.
    const reports = await this.#p.drainAndFlush(deadline);
    this.#client.close();
    await this.#proxy?.close();
    const s = summary(reports);
    this.#log.info(
      {
        ms: Math.round((performance.now() - t0) * 100) / 100,
        invocations: this.#invocations,
        // sent/dropped/pending/failed: the final flush; totals: every flush of this sandbox.
        ...s,
        totals: this.#p.totals,
        ingress: ingress?.counters,
        workers: workers?.stats,
        runtimeProxy: this.#proxy?.counters,
      },
      'shutdown complete',
    );
    return 0;
  }

  async #teardown(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#p.teardown();
  }

  /** Keeps answering /next without instrumentation until SHUTDOWN (bottlecap's extension_loop_idle). */
  async #idle(): Promise<number> {
    await idleUntilShutdown(this.#client, this.#log);
    await this.#proxy?.close();
    return 0;
  }
}
