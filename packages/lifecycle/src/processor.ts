// The invocation processor (DataDog/datadog-lambda-extension, bottlecap/src/lifecycle/invocation/processor.rs): one context per request id, fed by INVOKE/SHUTDOWN,
// the platform's telemetry events, the tracer's start/end-invocation calls and the other units'
// messages. It emits enhanced metrics as they become known and the extension's spans once an
// invocation is complete. No I/O besides /proc reads; outputs go through the two callbacks.
import type { Logger } from '@dd-lambda/logger';
import type { MetricPoints, PlatformEvent, SpanData, TracerSpanMessage } from '@dd-lambda/protocol';
import { randomSpanId } from '@dd-lambda/protocol';
import type { Context, SpanIds, TracerState } from './context.js';
import { invocationSpans } from './invocation-span.js';
import { ProcSampler } from './proc.js';
import type { ProcOptions } from './proc.js';
import { extractContext, hex16, lowerCarrier } from './propagation.js';
import type { PropagationStyle, SpanContext } from './propagation.js';
import { span } from './spans.js';
import { identifyTrigger } from './triggers.js';
import type { TriggerOptions } from './triggers.js';

export const PREFIX = 'aws.lambda.enhanced.';
/** Contexts kept at most (bottlecap's buffer holds 500). */
export const MAX_CONTEXTS = 500;
/** A first invoke this long after the sandbox started was a proactive initialization. */
export const PROACTIVE_INIT_MS = 10_000;
/** A start-invocation naming a request no INVOKE has named yet waits this long for it. */
export const EARLY_TTL_MS = 10_000;
/** Lambda's request price and per GB-second prices (USD). */
export const PRICE_PER_REQUEST = 0.0000002;
export const PRICE_PER_GB_S = { x86_64: 0.0000166667, arm64: 0.0000133334 } as const;
const OOM_ERROR_TYPE = 'Runtime.OutOfMemory';

type Point = MetricPoints['points'][number];

export interface ProcessorOptions {
  functionName: string;
  /** DD_SERVICE (lowercased on spans), else the function name. */
  service: string | undefined;
  awsServiceRepresentation: boolean;
  architecture: 'x86_64' | 'arm64';
  managed: boolean;
  enhancedMetrics: boolean;
  /** /proc metrics: where to read them, or undefined when DD_LAMBDA_PROC_ENHANCED_METRICS is off. */
  proc: ProcOptions | undefined;
  /** `runtime:` for metrics when the function tags have none (custom runtimes). */
  runtimeTag: string | undefined;
  styles: readonly PropagationStyle[];
  extractFirst: boolean;
  capturePayload: boolean;
  captureMaxDepth: number;
  triggers: TriggerOptions;
  /** Epoch ms when the sandbox started (our process start; initStart refines it). */
  sandboxStartMs: number;
  emitMetrics(points: Point[]): void;
  emitSpans(spans: SpanData[]): void;
  logger: Logger;
  now?: () => number;
  newId?: () => bigint;
}

export interface ProcessorCounters {
  invocations: number;
  spans: number;
  unpairedEnds: number;
  badBodies: number;
  evicted: number;
  /** A second start-invocation for an invocation that had one (the latest wins). */
  duplicateStarts: number;
  /** start-invocation calls for a request id no INVOKE ever named (dropped). */
  unknownRequests: number;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function parseBody(body: Buffer | undefined): { value: unknown; ok: boolean } {
  if (body === undefined || body.length === 0) return { value: {}, ok: true };
  try {
    return { value: JSON.parse(body.toString('utf8')) as unknown, ok: true };
  } catch {
    return { value: {}, ok: false };
  }
}

export class InvocationProcessor {
  readonly counters: ProcessorCounters = { invocations: 0, spans: 0, unpairedEnds: 0, badBodies: 0, evicted: 0, duplicateStarts: 0, unknownRequests: 0 };
  readonly #o: ProcessorOptions;
  readonly #now: () => number;
  readonly #newId: () => bigint;
  readonly #contexts = new Map<string, Context>();
  readonly #proc: ProcSampler | undefined;
  #procRequest: string | undefined;
  #seq = 0;
  #current: string | undefined;
  /** A start-invocation (no request id header) made while no invocation ran: the next INVOKE takes it. */
  #unpaired: TracerState | undefined;
  /** start-invocation calls naming a request id not seen yet: its INVOKE takes it, the next other INVOKE drops it. */
  readonly #early = new Map<string, TracerState>();
  /** The first invocation's aws.lambda span, for the cold-start span (its context is gone by then). */
  #firstSpan: SpanIds | undefined;
  #sandboxStartMs: number;
  #initDurationSent = false;
  #cold: { name: string; startMs: number | undefined; durationMs: number | undefined; link: TracerSpanMessage | undefined; sent: boolean } = { name: 'aws.lambda.cold_start', startMs: undefined, durationMs: undefined, link: undefined, sent: false };

  constructor(o: ProcessorOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#newId = o.newId ?? randomSpanId;
    this.#sandboxStartMs = o.sandboxStartMs;
    this.#proc = o.proc !== undefined && o.enhancedMetrics ? new ProcSampler(o.proc) : undefined;
  }

  get service(): string {
    if (!this.#o.awsServiceRepresentation) return 'aws.lambda';
    return (this.#o.service ?? this.#o.functionName).toLowerCase();
  }

  // ---- metrics ----

  #tags(ctx: Context | undefined): string[] {
    const tags: string[] = [];
    if (ctx !== undefined) {
      tags.push(`cold_start:${ctx.coldStart}`);
      if (ctx.proactive) tags.push('proactive_initialization:true');
    }
    if (this.#o.runtimeTag !== undefined) tags.push(`runtime:${this.#o.runtimeTag}`);
    return tags;
  }

  #metric(name: string, value: number, ctx: Context | undefined, atMs: number, extra: string[] = []): void {
    if (!this.#o.enhancedMetrics || !Number.isFinite(value)) return;
    this.#o.emitMetrics([{ name: PREFIX + name, kind: 'distribution', value, tags: [...this.#tags(ctx), ...extra], timestamp: Math.floor(atMs / 1000) }]);
  }

  #error(ctx: Context, atMs: number): void {
    if (ctx.errored) return;
    ctx.errored = true;
    this.#metric('errors', 1, ctx, atMs);
  }

  #outOfMemory(ctx: Context, atMs: number): void {
    if (ctx.oom) return;
    ctx.oom = true;
    this.#metric('out_of_memory', 1, ctx, atMs);
  }

  // ---- contexts ----

  /** The request's context, made on first mention (INVOKE, a platform event, a tracer call, a log line). */
  #context(requestId: string): Context {
    let ctx = this.#contexts.get(requestId);
    if (ctx !== undefined) return ctx;
    const seq = ++this.#seq;
    const first = seq === 1;
    const nowMs = this.#now();
    const proactive = first && this.#o.managed === false && nowMs - this.#sandboxStartMs > PROACTIVE_INIT_MS;
    ctx = {
      requestId, seq, coldStart: first && !proactive && !this.#o.managed, proactive, invokeMs: undefined, startMs: undefined, runtime: undefined,
      tracer: undefined, end: undefined, placeholder: undefined, errored: false, oom: false, spanSent: false, reported: false, spanIds: undefined,
    };
    this.#contexts.set(requestId, ctx);
    if (this.#contexts.size > MAX_CONTEXTS) {
      const oldest = this.#contexts.keys().next().value as string;
      this.#contexts.delete(oldest);
      this.counters.evicted++;
    }
    return ctx;
  }

  /** An invocation starts: INVOKE (on demand) or platform.start (managed instances). */
  #begin(requestId: string, atMs: number): Context {
    const ctx = this.#context(requestId);
    if (ctx.invokeMs !== undefined) return ctx;
    ctx.invokeMs = atMs;
    this.#current = requestId;
    this.counters.invocations++;
    this.#metric('invocations', 1, ctx, atMs);
    // Tracer calls that came before this INVOKE: the one naming this request, else one made between
    // invocations. Early calls for other ids name requests that never came: dropped, not carried on.
    const named = this.#early.get(requestId);
    this.#early.delete(requestId);
    // Early calls for requests that never came are dropped once old: concurrent invocations (managed
    // instances) may each have one waiting, so another INVOKE does not void them.
    for (const [id, st] of this.#early) {
      if (atMs - st.startedAt < EARLY_TTL_MS) continue;
      this.#early.delete(id);
      this.counters.unknownRequests++;
    }
    const waiting = named ?? this.#unpaired;
    this.#unpaired = undefined;
    if (waiting !== undefined && ctx.tracer === undefined) ctx.tracer = waiting;
    if (this.#proc !== undefined && !this.#o.managed) {
      this.#proc.begin();
      this.#procRequest = requestId;
    }
    return ctx;
  }

  invoke(requestId: string, receivedAt: number): void {
    this.#begin(requestId, receivedAt);
  }

  shutdown(receivedAt: number): void {
    this.#proc?.stop();
    this.#metric('shutdowns', 1, undefined, receivedAt);
    if (this.#seq === 0) this.#metric('unused_init', 1, undefined, receivedAt);
  }

  // ---- platform events ----

  platform(events: readonly PlatformEvent[]): void {
    for (const e of events) {
      const r = obj(e.record);
      const at = Date.parse(e.time);
      const atMs = Number.isNaN(at) ? this.#now() : at;
      switch (e.type) {
        case 'platform.initStart':
        case 'platform.restoreStart':
          if (e.type === 'platform.restoreStart') this.#cold.name = 'aws.lambda.snapstart_restore';
          this.#cold.startMs = atMs;
          this.#sandboxStartMs = Math.min(this.#sandboxStartMs, atMs);
          break;
        case 'platform.initReport':
        case 'platform.restoreReport': {
          const ms = num(obj(r['metrics'])['durationMs']);
          if (ms === undefined) break;
          this.#cold.durationMs = ms;
          if (e.type === 'platform.restoreReport') this.#metric('snapstart_restore_duration', ms / 1000, undefined, atMs);
          else if (!this.#initDurationSent) {
            this.#initDurationSent = true;
            this.#metric('init_duration', ms / 1000, undefined, atMs, [`init_type:${str(r['initializationType']) ?? 'on-demand'}`]);
          }
          this.#maybeColdStart();
          break;
        }
        case 'platform.start': {
          const id = str(r['requestId']);
          if (id === undefined) break;
          const ctx = this.#o.managed ? this.#begin(id, atMs) : this.#context(id);
          ctx.startMs = atMs;
          this.#current = id;
          break;
        }
        case 'platform.runtimeDone':
          this.#runtimeDone(r, atMs);
          break;
        case 'platform.report':
          this.#report(r, atMs);
          break;
        default:
          break;
      }
    }
  }

  #runtimeDone(r: Obj, atMs: number): void {
    const id = str(r['requestId']);
    if (id === undefined) return;
    const ctx = this.#context(id);
    if (ctx.runtime !== undefined) return;
    const m = obj(r['metrics']);
    const status = str(r['status']) ?? 'success';
    const errorType = str(r['errorType']);
    ctx.runtime = { status, errorType, durationMs: num(m['durationMs']), producedBytes: num(m['producedBytes']), atMs };
    if (ctx.runtime.durationMs !== undefined) this.#metric('runtime_duration', ctx.runtime.durationMs, ctx, atMs);
    if (ctx.runtime.producedBytes !== undefined) this.#metric('produced_bytes', ctx.runtime.producedBytes, ctx, atMs);
    if (status !== 'success') this.#error(ctx, atMs);
    if (status === 'timeout') this.#metric('timeouts', 1, ctx, atMs);
    if (errorType === OOM_ERROR_TYPE) this.#outOfMemory(ctx, atMs);
    if (this.#proc !== undefined && this.#procRequest === id) {
      this.#procRequest = undefined;
      for (const [name, value] of Object.entries(this.#proc.end())) this.#metric(name, value, ctx, atMs);
    }
    if (this.#current === id) this.#current = undefined;
    this.#maybeFinish(ctx);
  }

  #report(r: Obj, atMs: number): void {
    const id = str(r['requestId']);
    if (id === undefined) return;
    const ctx = this.#context(id);
    const m = obj(r['metrics']);
    const status = str(r['status']) ?? 'success';
    const duration = num(m['durationMs']);
    if (this.#o.managed) {
      // Managed instances have no runtimeDone: the report carries the invocation's outcome.
      this.#runtimeDone({ requestId: id, status, errorType: r['errorType'], metrics: { durationMs: duration } }, atMs);
      ctx.reported = true;
      this.#maybeForget(ctx);
      return;
    }
    const billed = num(m['billedDurationMs']);
    const size = num(m['memorySizeMB']);
    const used = num(m['maxMemoryUsedMB']);
    if (duration !== undefined) this.#metric('duration', duration / 1000, ctx, atMs);
    if (billed !== undefined) this.#metric('billed_duration', billed / 1000, ctx, atMs);
    if (used !== undefined) this.#metric('max_memory_used', used, ctx, atMs);
    if (size !== undefined) this.#metric('memorysize', size, ctx, atMs);
    if (billed !== undefined && size !== undefined) {
      const gbs = (billed / 1000) * (size / 1024);
      this.#metric('estimated_cost', PRICE_PER_REQUEST + gbs * PRICE_PER_GB_S[this.#o.architecture], ctx, atMs);
    }
    const runtime = ctx.runtime?.durationMs;
    if (duration !== undefined && runtime !== undefined) this.#metric('post_runtime_duration', Math.max(0, duration - runtime), ctx, atMs);
    const init = num(m['initDurationMs']);
    if (init !== undefined && !this.#initDurationSent) {
      this.#initDurationSent = true;
      this.#metric('init_duration', init / 1000, ctx, atMs);
    }
    const restore = num(m['restoreDurationMs']);
    if (restore !== undefined) this.#metric('snapstart_restore_duration', restore / 1000, ctx, atMs);
    if (status !== 'success') this.#error(ctx, atMs);
    if (str(r['errorType']) === OOM_ERROR_TYPE || (size !== undefined && used !== undefined && used >= size)) this.#outOfMemory(ctx, atMs);
    ctx.reported = true;
    this.#maybeForget(ctx);
  }

  /** An out-of-memory line in the logs (from the logs unit); without a request id, the current one. */
  oom(requestId: string | undefined, atMs: number): void {
    const id = requestId ?? this.#current;
    if (id === undefined) return;
    this.#outOfMemory(this.#context(id), atMs);
  }

  // ---- tracer calls ----

  /** POST /lambda/start-invocation. Returns the headers to answer with. */
  startInvocation(headers: Record<string, unknown>, body: Buffer | undefined): Record<string, string> {
    const lower = lowerCarrier(headers);
    const { value: event, ok } = parseBody(body);
    if (!ok) this.counters.badBodies++;
    const trigger = identifyTrigger(event, this.#o.triggers);
    // Carriers in bottlecap's order: the event's own, then event.request.headers, event.headers, the call's headers.
    const carriers = [trigger?.carrier, lowerCarrier(obj(obj(event)['request'])['headers']), lowerCarrier(obj(event)['headers']), lower];
    let extracted: SpanContext | undefined;
    for (const c of carriers) {
      if (c === undefined) continue;
      extracted = extractContext(c, this.#o.styles, this.#o.extractFirst);
      if (extracted !== undefined) break;
    }
    // The event is kept only for payload capture, and only until the span is made (it may be 6 MiB).
    const state: TracerState = { startedAt: this.#now(), extracted, trigger, request: this.#o.capturePayload ? event : undefined };
    this.#pairStart(lower['lambda-runtime-aws-request-id'], state);
    const out: Record<string, string> = {};
    if (extracted !== undefined) {
      out['x-datadog-trace-id'] = extracted.traceId.toString();
      out['x-datadog-sampling-priority'] = String(extracted.samplingPriority ?? 1);
      if (extracted.traceIdHigh !== 0n) out['x-datadog-tags'] = `_dd.p.tid=${hex16(extracted.traceIdHigh)}`;
    }
    return out;
  }

  /**
   * Which invocation a start-invocation belongs to. By request id: that invocation once its INVOKE is
   * known, else held for it. Without one: the running invocation (a second call replaces the first:
   * its end-invocation will follow the latest), else the next INVOKE.
   */
  #pairStart(headerId: string | undefined, state: TracerState): void {
    if (headerId !== undefined) {
      const known = this.#known(headerId);
      if (known !== undefined) this.#attach(known, state);
      else {
        if (this.#early.size >= 16) {
          this.#early.delete(this.#early.keys().next().value as string);
          this.counters.unknownRequests++;
        }
        this.#early.set(headerId, state);
      }
      return;
    }
    const running = this.#current === undefined ? undefined : this.#known(this.#current);
    if (running !== undefined && running.runtime === undefined) {
      this.#attach(running, state);
      return;
    }
    if (this.#unpaired !== undefined) this.counters.duplicateStarts++;
    this.#unpaired = state;
  }

  #attach(ctx: Context, state: TracerState): void {
    if (ctx.tracer !== undefined) {
      this.counters.duplicateStarts++;
      // Ended or finished already: a late duplicate changes nothing.
      if (ctx.end !== undefined || ctx.spanSent) return;
    }
    ctx.tracer = state;
  }

  /** The context of a request the platform or INVOKE named (never one a tracer call alone made up). */
  #known(id: string): Context | undefined {
    const ctx = this.#contexts.get(id);
    return ctx !== undefined && (ctx.invokeMs !== undefined || ctx.startMs !== undefined) ? ctx : undefined;
  }

  /** POST /lambda/end-invocation. */
  endInvocation(headers: Record<string, unknown>, body: Buffer | undefined): void {
    const lower = lowerCarrier(headers);
    const { value: response, ok } = parseBody(body);
    if (!ok) this.counters.badBodies++;
    const id = lower['lambda-runtime-aws-request-id'];
    let ctx = id === undefined ? undefined : this.#known(id);
    if (ctx === undefined && id === undefined) {
      // No request id: the latest invocation, if a tracer started it and has not ended it.
      const last = [...this.#contexts.values()].pop();
      if (last !== undefined && last.tracer !== undefined && last.end === undefined && this.#known(last.requestId) !== undefined) ctx = last;
    }
    if (ctx === undefined) {
      this.counters.unpairedEnds++;
      return;
    }
    ctx.tracer ??= { startedAt: this.#now(), extracted: undefined, trigger: undefined, request: undefined };
    ctx.end = { at: this.#now(), headers: lower, response: this.#o.capturePayload ? response : { statusCode: obj(response)['statusCode'] } };
    if (lower['x-datadog-invocation-error'] === 'true') this.#error(ctx, ctx.end.at);
    this.#maybeFinish(ctx);
  }

  /** From the trace agent: a placeholder span's data, or the id the cold-start span must carry. */
  tracerSpan(msg: TracerSpanMessage): void {
    if (msg.kind === 'cold-start-parent') {
      this.#cold.link ??= msg;
      this.#maybeColdStart();
      return;
    }
    const id = msg.requestId ?? this.#current;
    if (id === undefined) return;
    const ctx = this.#context(id);
    ctx.placeholder = msg;
    // A placeholder means a tracer with universal instrumentation, even if start-invocation was missed.
    ctx.tracer ??= { startedAt: this.#now(), extracted: undefined, trigger: undefined, request: undefined };
  }

  // ---- spans ----

  #maybeFinish(ctx: Context): void {
    if (ctx.spanSent || ctx.tracer === undefined || ctx.runtime === undefined) return;
    // Without end-invocation the runtime may still be about to call it; a failed runtime never will.
    if (ctx.end === undefined && ctx.runtime.status === 'success') return;
    this.#finish(ctx);
  }

  /** SHUTDOWN: every invocation a tracer started goes out with what is known. */
  finishAll(): void {
    this.counters.unknownRequests += this.#early.size;
    this.#early.clear();
    for (const ctx of [...this.#contexts.values()]) if (!ctx.spanSent && ctx.tracer !== undefined && this.#known(ctx.requestId) !== undefined) this.#finish(ctx);
    this.#maybeColdStart();
  }

  /** Nothing survives its invocation: once reported and its span made (or not to be made), the context goes. */
  #maybeForget(ctx: Context): void {
    if (!ctx.reported || ctx.runtime === undefined || (ctx.tracer !== undefined && !ctx.spanSent)) return;
    this.#contexts.delete(ctx.requestId);
    if (this.#current === ctx.requestId) this.#current = undefined;
  }

  #finish(ctx: Context): void {
    ctx.spanSent = true;
    const tracer = ctx.tracer as TracerState;
    const { spans, ids } = invocationSpans(ctx, {
      service: this.service, functionName: this.#o.functionName, capturePayload: this.#o.capturePayload,
      captureMaxDepth: this.#o.captureMaxDepth, newId: this.#newId, now: this.#now,
    });
    // Contexts outlive their span (late OOM lines still dedupe against them); their payloads need not.
    tracer.request = undefined;
    if (ctx.end !== undefined) ctx.end.response = undefined;
    ctx.spanIds = ids;
    if (ctx.seq === 1 && ctx.coldStart) this.#firstSpan = ids;
    this.counters.spans += spans.length;
    this.#o.emitSpans(spans);
    if (ctx.seq === 1) this.#maybeColdStart();
    this.#maybeForget(ctx);
  }

  /**
   * The cold-start span needs its timing (initStart + initReport) and a trace to join: the first
   * invocation's extension-made aws.lambda span, or the one the tracer's aws.lambda.load names.
   */
  #maybeColdStart(): void {
    const cold = this.#cold;
    if (cold.sent || this.#o.managed || cold.startMs === undefined || cold.durationMs === undefined) return;
    let ids: { traceId: bigint; spanId: bigint; parentId: bigint; tid: string | undefined } | undefined;
    if (cold.link !== undefined) {
      ids = { traceId: cold.link.traceId, spanId: cold.link.spanId, parentId: cold.link.parentId, tid: undefined };
    } else {
      const first = this.#firstSpan;
      if (first === undefined) return;
      ids = { traceId: first.traceId, spanId: this.#newId(), parentId: first.spanId, tid: first.traceIdHigh };
    }
    cold.sent = true;
    const s = span({ name: cold.name, service: this.service, resource: this.#o.functionName, type: 'serverless', traceId: ids.traceId, spanId: ids.spanId, parentId: ids.parentId, startMs: cold.startMs, durationMs: cold.durationMs });
    if (ids.tid !== undefined) s.meta['_dd.p.tid'] = ids.tid;
    this.counters.spans++;
    this.#o.emitSpans([s]);
  }
}
