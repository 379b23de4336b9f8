// The invocation processor (DataDog/datadog-lambda-extension, bottlecap/src/lifecycle/invocation/processor.rs): one context per request id, fed by INVOKE/SHUTDOWN,
// the platform's telemetry events, the tracer's start/end-invocation calls and the other units'
// messages. It emits enhanced metrics as they become known and the extension's spans once an
// invocation is complete. No I/O besides /proc reads; outputs go through the two callbacks.
import type { PlatformEvent, TracerSpanMessage } from '@dd-lambda/protocol';
import { randomSpanId } from '@dd-lambda/protocol';
import type { Context, TracerState } from './context.js';
import { ContextStore } from './context-store.js';
import { EnhancedMetrics } from './enhanced-metrics.js';
import { invocationSpans } from './invocation-span.js';
import { ColdStartSpan } from './cold-start.js';
import { ProcSampler } from './proc.js';
import { extractContext, hex16, lowerCarrier } from './propagation.js';
import type { SpanContext } from './propagation.js';
import type { ProcessorCounters, ProcessorOptions } from './processor-options.js';
import { identifyTrigger } from './triggers.js';

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
  readonly #store: ContextStore;
  readonly #metrics: EnhancedMetrics;
  readonly #proc: ProcSampler | undefined;
  #procRequest: string | undefined;
  readonly #cold = new ColdStartSpan();
  #initStartSeen = false;
  /** Managed instances: invocations running now (the /proc sampling runs while any is). */
  #active = 0;
  #pendingInvocation: { ctx: Context; atMs: number } | undefined;

  constructor(o: ProcessorOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#newId = o.newId ?? randomSpanId;
    this.#store = new ContextStore({ managed: o.managed, sandboxStartMs: o.sandboxStartMs, now: this.#now, counters: this.counters });
    this.#metrics = new EnhancedMetrics({ enabled: o.enhancedMetrics, architecture: o.architecture, runtimeTag: o.runtimeTag, managed: o.managed, emit: o.emitMetrics });
    this.#proc = o.proc !== undefined && o.enhancedMetrics ? new ProcSampler(o.proc) : undefined;
  }

  get service(): string {
    if (!this.#o.awsServiceRepresentation) return 'aws.lambda';
    return (this.#o.service ?? this.#o.functionName).toLowerCase();
  }

  // ---- invocations ----

  /** An invocation starts: INVOKE (on demand) or platform.start (managed instances). */
  #begin(requestId: string, atMs: number): Context {
    const ctx = this.#store.context(requestId);
    if (ctx.invokeMs !== undefined) return ctx;
    ctx.invokeMs = atMs;
    this.#store.current = requestId;
    this.counters.invocations++;
    // The first on-demand INVOKE comes before platform.initStart, which says whether the function is
    // durable (a tag of every enhanced metric): its point waits for it, as bottlecap's does.
    if (!this.#o.managed && !this.#initStartSeen && this.#store.seq <= 1) this.#pendingInvocation = { ctx, atMs };
    else this.#metrics.emit('invocations', 1, ctx, atMs);
    // A tracer call that came before this INVOKE (naming it, or made between invocations).
    const waiting = this.#store.takeWaiting(requestId, atMs);
    if (waiting !== undefined && ctx.tracer === undefined) ctx.tracer = waiting;
    if (this.#proc !== undefined && !this.#o.managed) {
      this.#proc.begin();
      this.#procRequest = requestId;
    } else if (this.#proc !== undefined && ++this.#active === 1) this.#proc.resume();
    return ctx;
  }

  invoke(requestId: string, receivedAt: number): void {
    this.#begin(requestId, receivedAt);
  }

  /** The held first invocations point, now that the durable tag is known (or can no longer be). */
  #releaseInvocation(): void {
    const p = this.#pendingInvocation;
    if (p === undefined) return;
    this.#pendingInvocation = undefined;
    this.#metrics.emit('invocations', 1, p.ctx, p.atMs);
  }

  shutdown(receivedAt: number): void {
    this.#releaseInvocation();
    // Managed instances: the sandbox's peak usage and limits over its life, once (bottlecap emits them at SHUTDOWN).
    if (this.#o.managed && this.#proc !== undefined) for (const [name, value] of Object.entries(this.#proc.usage())) this.#metrics.emit(name, value, undefined, receivedAt);
    this.#proc?.stop();
    this.#metrics.emit('shutdowns', 1, undefined, receivedAt);
    if (this.#store.seq === 0) this.#metrics.emit('unused_init', 1, undefined, receivedAt);
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
          // Durable functions run on a runtime version named so (e.g. python:3.14.DurableFunction.v6).
          if (str(r['runtimeVersion'])?.includes('DurableFunction') === true) this.#metrics.durable = true;
          this.#initStartSeen = true;
          this.#releaseInvocation();
          if (e.type === 'platform.restoreStart') this.#cold.name = 'aws.lambda.snapstart_restore';
          this.#cold.startMs = atMs;
          this.#store.sandboxStartMs = Math.min(this.#store.sandboxStartMs, atMs);
          break;
        case 'platform.initReport':
        case 'platform.restoreReport': {
          const ms = num(obj(r['metrics'])['durationMs']);
          if (ms === undefined) break;
          this.#cold.durationMs = ms;
          if (e.type === 'platform.restoreReport') this.#metrics.emit('snapstart_restore_duration', ms / 1000, undefined, atMs);
          else this.#metrics.initDuration(ms / 1000, undefined, atMs, [`init_type:${str(r['initializationType']) ?? 'on-demand'}`]);
          this.#maybeColdStart();
          break;
        }
        case 'platform.start': {
          const id = str(r['requestId']);
          if (id === undefined) break;
          const ctx = this.#o.managed ? this.#begin(id, atMs) : this.#store.context(id);
          ctx.startMs = atMs;
          this.#store.current = id;
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
    // Telemetry arrives in order: past a runtimeDone, no initStart is still coming.
    this.#releaseInvocation();
    const ctx = this.#store.context(id);
    if (ctx.runtime !== undefined) return;
    const m = obj(r['metrics']);
    ctx.runtime = { status: str(r['status']) ?? 'success', errorType: str(r['errorType']), durationMs: num(m['durationMs']), producedBytes: num(m['producedBytes']), atMs };
    this.#metrics.runtimeDone(ctx, ctx.runtime);
    if (this.#proc !== undefined && this.#procRequest === id) {
      this.#procRequest = undefined;
      for (const [name, value] of Object.entries(this.#proc.end())) this.#metrics.emit(name, value, ctx, atMs);
    }
    if (this.#store.current === id) this.#store.current = undefined;
    this.#maybeFinish(ctx);
  }

  #report(r: Obj, atMs: number): void {
    const id = str(r['requestId']);
    if (id === undefined) return;
    const ctx = this.#store.context(id);
    const m = obj(r['metrics']);
    const status = str(r['status']) ?? 'success';
    const durationMs = num(m['durationMs']);
    if (this.#o.managed) {
      if (this.#proc !== undefined && this.#active > 0 && --this.#active === 0) this.#proc.pause();
      // Managed instances have no runtimeDone: the report carries the invocation's outcome.
      this.#runtimeDone({ requestId: id, status, errorType: r['errorType'], metrics: { durationMs } }, atMs);
    } else {
      const metrics = {
        durationMs,
        billedDurationMs: num(m['billedDurationMs']),
        memorySizeMB: num(m['memorySizeMB']),
        maxMemoryUsedMB: num(m['maxMemoryUsedMB']),
        initDurationMs: num(m['initDurationMs']),
        restoreDurationMs: num(m['restoreDurationMs']),
      };
      this.#metrics.report(ctx, metrics, status, str(r['errorType']), atMs);
    }
    ctx.reported = true;
    this.#maybeForget(ctx);
  }

  /** An out-of-memory line in the logs (from the logs unit); without a request id, the current one. */
  oom(requestId: string | undefined, atMs: number): void {
    const id = requestId ?? this.#store.current;
    if (id === undefined) return;
    this.#metrics.outOfMemory(this.#store.context(id), atMs);
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
    let extracted: SpanContext | undefined = trigger?.context;
    for (const c of extracted === undefined ? carriers : []) {
      if (c === undefined) continue;
      extracted = extractContext(c, this.#o.styles, this.#o.extractFirst, this.#o.baggage === true);
      if (extracted !== undefined) break;
    }
    // The event is kept only for payload capture, and only until the span is made (it may be 6 MiB).
    const state: TracerState = { startedAt: this.#now(), extracted, trigger, request: this.#o.capturePayload ? event : undefined };
    this.#store.pairStart(lower['lambda-runtime-aws-request-id'], state);
    const out: Record<string, string> = {};
    if (extracted !== undefined) {
      out['x-datadog-trace-id'] = extracted.traceId.toString();
      out['x-datadog-sampling-priority'] = String(extracted.samplingPriority ?? 1);
      if (extracted.traceIdHigh !== 0n) out['x-datadog-tags'] = `_dd.p.tid=${hex16(extracted.traceIdHigh)}`;
    }
    return out;
  }

  /** POST /lambda/end-invocation. */
  endInvocation(headers: Record<string, unknown>, body: Buffer | undefined): void {
    const lower = lowerCarrier(headers);
    const { value: response, ok } = parseBody(body);
    if (!ok) this.counters.badBodies++;
    const id = lower['lambda-runtime-aws-request-id'];
    let ctx = id === undefined ? undefined : this.#store.known(id);
    if (ctx === undefined && id === undefined) {
      // No request id: the latest invocation, if a tracer started it and has not ended it.
      const last = this.#store.latest();
      if (last !== undefined && last.tracer !== undefined && last.end === undefined && this.#store.known(last.requestId) !== undefined) ctx = last;
    }
    if (ctx === undefined) {
      this.counters.unpairedEnds++;
      return;
    }
    ctx.tracer ??= { startedAt: this.#now(), extracted: undefined, trigger: undefined, request: undefined };
    ctx.end = { at: this.#now(), headers: lower, response: this.#o.capturePayload ? response : { statusCode: obj(response)['statusCode'] } };
    if (lower['x-datadog-invocation-error'] === 'true') this.#metrics.error(ctx, ctx.end.at);
    this.#maybeFinish(ctx);
  }

  /** From the trace agent: a placeholder span's data, or the id the cold-start span must carry. */
  tracerSpan(msg: TracerSpanMessage): void {
    if (msg.kind === 'cold-start-parent') {
      this.#cold.link ??= msg;
      this.#maybeColdStart();
      return;
    }
    const id = msg.requestId ?? this.#store.current;
    if (id === undefined) return;
    const ctx = this.#store.context(id);
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
    this.#store.dropEarly();
    for (const ctx of this.#store.all()) if (!ctx.spanSent && ctx.tracer !== undefined && this.#store.known(ctx.requestId) !== undefined) this.#finish(ctx);
    this.#maybeColdStart();
  }

  /** Nothing survives its invocation: once reported and its span made (or not to be made), the context goes. */
  #maybeForget(ctx: Context): void {
    if (!ctx.reported || ctx.runtime === undefined || (ctx.tracer !== undefined && !ctx.spanSent)) return;
    this.#store.forget(ctx);
  }

  #finish(ctx: Context): void {
    ctx.spanSent = true;
    const tracer = ctx.tracer as TracerState;
    const { spans, ids } = invocationSpans(ctx, {
      service: this.service,
      functionName: this.#o.functionName,
      capturePayload: this.#o.capturePayload,
      captureMaxDepth: this.#o.captureMaxDepth,
      newId: this.#newId,
      now: this.#now,
    });
    // Contexts outlive their span (late OOM lines still dedupe against them); their payloads need not.
    tracer.request = undefined;
    if (ctx.end !== undefined) ctx.end.response = undefined;
    ctx.spanIds = ids;
    if (ctx.seq === 1 && ctx.coldStart) this.#cold.firstSpan = ids;
    this.counters.spans += spans.length;
    this.#o.emitSpans(spans);
    if (ctx.seq === 1) this.#maybeColdStart();
    this.#maybeForget(ctx);
  }

  #maybeColdStart(): void {
    if (this.#o.managed) return;
    const s = this.#cold.take({ service: this.service, resource: this.#o.functionName, newId: this.#newId });
    if (s === undefined) return;
    this.counters.spans++;
    this.#o.emitSpans([s]);
  }
}
