// The sandbox's shared state, which the lifecycle (emulator.ts) and the two APIs (extensions-api.ts,
// runtime-api.ts) read and move: its extensions, its runtime, the invocations in flight, and the
// change signal the lifecycle waits on.

import type http from 'node:http';
import type { SandboxLimits } from './limits.js';
import type { SandboxProcess } from './processes.js';
import type { Subscriber, TelemetryHub } from './telemetry.js';
import type { EmulatorOptions, EventType, ExtensionTimings, InvokeOptions, InvokeResponse } from './types.js';
import { sendEvent, sleep } from './http-util.js';

export type ResolvedOptions = Required<
  Pick<
    EmulatorOptions,
    | 'functionName'
    | 'functionVersion'
    | 'memoryMB'
    | 'timeoutMs'
    | 'region'
    | 'accountId'
    | 'architecture'
    | 'initializationType'
    | 'logFormat'
    | 'initTimeoutMs'
    | 'maxConcurrency'
  >
> &
  EmulatorOptions;

export type ExtState = 'launched' | 'registered' | 'idle' | 'running' | 'init-error' | 'exit-error' | 'exited';

export interface Extension {
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

export interface Invocation {
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

export type Phase = 'new' | 'init' | 'ready' | 'failed' | 'closed';

export class Sandbox {
  phase: Phase = 'new';
  extensions: Extension[] = [];
  runtime: SandboxProcess | undefined;
  runtimeReadyAt: number | undefined;
  /** Runtime `/next` polls waiting for an invocation. */
  runtimePending: http.ServerResponse[] = [];
  runtimeQueue: Invocation[] = [];
  readonly active = new Map<string, Invocation>();
  initError: string | undefined;
  initStartedAt = 0;
  /** The init duration the next REPORT carries (the first invocation after an init). */
  reportInitDuration: number | undefined;
  #changed!: Promise<void>;
  #kickChanged!: () => void;

  constructor(
    readonly o: ResolvedOptions,
    readonly telemetry: TelemetryHub,
    readonly limits: SandboxLimits,
  ) {
    this.#resetChanged();
  }

  get managed(): boolean {
    return this.o.initializationType === 'lambda-managed-instances';
  }

  get functionArn(): string {
    return `arn:aws:lambda:${this.o.region}:${this.o.accountId}:function:${this.o.functionName}`;
  }

  /** The runtime and every extension process that was started. */
  processes(): SandboxProcess[] {
    return [this.runtime, ...this.extensions.map((e) => e.proc)].filter((p): p is SandboxProcess => p !== undefined);
  }

  /** Wakes whatever waits in until(): something it may be waiting for changed. */
  kick(): void {
    const k = this.#kickChanged;
    this.#resetChanged();
    k();
  }

  /** Waits until `pred()` holds (true) or the performance.now() deadline passes (false). */
  async until(pred: () => boolean, deadline: number): Promise<boolean> {
    for (;;) {
      if (pred()) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await Promise.race([this.#changed, sleep(left)]);
    }
  }

  #resetChanged(): void {
    this.#changed = new Promise((resolve) => {
      this.#kickChanged = resolve;
    });
  }

  extAlive(e: Extension): boolean {
    if (e.state === 'exited' || e.state === 'exit-error') return false;
    return e.proc ? e.proc.alive : true;
  }

  /** The extension's init marks, relative to its spawn (to the init's start for attached ones). */
  timings(e: Extension): ExtensionTimings {
    const base = e.spawnedAt ?? this.initStartedAt;
    const rel = (t: number | undefined): number | undefined => (t === undefined ? undefined : t - base);
    return {
      name: e.name,
      spawnMs: e.spawnedAt === undefined ? undefined : e.spawnedAt - this.initStartedAt,
      registerMs: rel(e.registeredAt),
      subscribeMs: rel(e.subscribedAt),
      readyMs: rel(e.readyAt),
    };
  }

  /** Answers the extension's waiting /next with `event`, or queues it for its next poll. */
  deliver(e: Extension, event: object): void {
    if (e.pending && !e.pending.writableEnded) {
      const res = e.pending;
      e.pending = undefined;
      e.state = 'running';
      sendEvent(res, event);
    } else {
      e.queue.push(event);
    }
  }
}

export function newExtension(name: string, attached: boolean): Extension {
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
