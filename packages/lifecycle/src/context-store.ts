// The invocation contexts, by request id, and the pairing of the tracer's start-invocation calls with
// them (a call may name its request, come before its INVOKE, or name none). Bounded: 500 contexts at
// most (bottlecap's buffer, DataDog/datadog-lambda-extension bottlecap/src/lifecycle/invocation/context.rs),
// 16 early calls.
import type { Context, TracerState } from './context.js';

/** Contexts kept at most. */
export const MAX_CONTEXTS = 500;
/** A first invoke this long after the sandbox started was a proactive initialization. */
export const PROACTIVE_INIT_MS = 10_000;
/** A start-invocation naming a request no INVOKE has named yet waits this long for it. */
export const EARLY_TTL_MS = 10_000;
const MAX_EARLY = 16;

export interface StoreCounters {
  evicted: number;
  /** A second start-invocation for an invocation that had one (the latest wins). */
  duplicateStarts: number;
  /** start-invocation calls for a request id no INVOKE ever named (dropped). */
  unknownRequests: number;
}

export class ContextStore {
  readonly #contexts = new Map<string, Context>();
  readonly #counters: StoreCounters;
  readonly #managed: boolean;
  readonly #now: () => number;
  /** Epoch ms when the sandbox started (our process start; initStart refines it). */
  sandboxStartMs: number;
  /** Invocations seen so far. */
  seq = 0;
  /** The running invocation's request id. */
  current: string | undefined;
  /** A start-invocation (no request id header) made while no invocation ran: the next INVOKE takes it. */
  #unpaired: TracerState | undefined;
  /** start-invocation calls naming a request id not seen yet, held for its INVOKE. */
  readonly #early = new Map<string, TracerState>();

  constructor(o: { managed: boolean; sandboxStartMs: number; now: () => number; counters: StoreCounters }) {
    this.#managed = o.managed;
    this.sandboxStartMs = o.sandboxStartMs;
    this.#now = o.now;
    this.#counters = o.counters;
  }

  /** The request's context, made on first mention (INVOKE, a platform event, a tracer call, a log line). */
  context(requestId: string): Context {
    let ctx = this.#contexts.get(requestId);
    if (ctx !== undefined) return ctx;
    const seq = ++this.seq;
    const first = seq === 1;
    const proactive = first && !this.#managed && this.#now() - this.sandboxStartMs > PROACTIVE_INIT_MS;
    ctx = {
      requestId,
      seq,
      coldStart: first && !proactive && !this.#managed,
      proactive,
      invokeMs: undefined,
      startMs: undefined,
      runtime: undefined,
      tracer: undefined,
      end: undefined,
      placeholder: undefined,
      errored: false,
      oom: false,
      spanSent: false,
      reported: false,
      spanIds: undefined,
    };
    this.#contexts.set(requestId, ctx);
    if (this.#contexts.size > MAX_CONTEXTS) {
      this.#contexts.delete(this.#contexts.keys().next().value as string);
      this.#counters.evicted++;
    }
    return ctx;
  }

  /** The context of a request the platform or INVOKE named (never one a tracer call alone made up). */
  known(id: string): Context | undefined {
    const ctx = this.#contexts.get(id);
    return ctx !== undefined && (ctx.invokeMs !== undefined || ctx.startMs !== undefined) ? ctx : undefined;
  }

  /** The most recent context, for an end-invocation that names no request. */
  latest(): Context | undefined {
    return [...this.#contexts.values()].pop();
  }

  all(): Context[] {
    return [...this.#contexts.values()];
  }

  forget(ctx: Context): void {
    this.#contexts.delete(ctx.requestId);
    if (this.current === ctx.requestId) this.current = undefined;
  }

  /**
   * The tracer call waiting for the invocation that just began: the one naming it, else one made
   * between invocations. Early calls for requests that never came are dropped once old: concurrent
   * invocations (managed instances) may each have one waiting, so another INVOKE does not void them.
   */
  takeWaiting(requestId: string, atMs: number): TracerState | undefined {
    const named = this.#early.get(requestId);
    this.#early.delete(requestId);
    for (const [id, st] of this.#early) {
      if (atMs - st.startedAt < EARLY_TTL_MS) continue;
      this.#early.delete(id);
      this.#counters.unknownRequests++;
    }
    const waiting = named ?? this.#unpaired;
    this.#unpaired = undefined;
    return waiting;
  }

  /**
   * Which invocation a start-invocation belongs to. By request id: that invocation once its INVOKE is
   * known, else held for it. Without one: the running invocation (a second call replaces the first:
   * its end-invocation will follow the latest), else the next INVOKE.
   */
  pairStart(headerId: string | undefined, state: TracerState): void {
    if (headerId !== undefined) {
      const known = this.known(headerId);
      if (known !== undefined) this.#attach(known, state);
      else {
        if (this.#early.size >= MAX_EARLY) {
          this.#early.delete(this.#early.keys().next().value as string);
          this.#counters.unknownRequests++;
        }
        this.#early.set(headerId, state);
      }
      return;
    }
    const running = this.current === undefined ? undefined : this.known(this.current);
    if (running !== undefined && running.runtime === undefined) {
      this.#attach(running, state);
      return;
    }
    if (this.#unpaired !== undefined) this.#counters.duplicateStarts++;
    this.#unpaired = state;
  }

  #attach(ctx: Context, state: TracerState): void {
    if (ctx.tracer !== undefined) {
      this.#counters.duplicateStarts++;
      // Ended or finished already: a late duplicate changes nothing.
      if (ctx.end !== undefined || ctx.spanSent) return;
    }
    ctx.tracer = state;
  }

  /** SHUTDOWN: early calls still waiting name requests that never came. */
  dropEarly(): void {
    this.#counters.unknownRequests += this.#early.size;
    this.#early.clear();
  }
}
