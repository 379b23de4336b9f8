// A finished invocation as spans: the aws.lambda span (the tracer's ids, the placeholder's meta, the
// trigger's tags, errors, status code, payload capture) under the inferred spans of its trigger, as
// bottlecap makes them (DataDog/datadog-lambda-extension, bottlecap/src/lifecycle/invocation/processor.rs).
import type { SpanData } from '@dd-lambda/protocol';
import type { Context, SpanIds, TracerState } from './context.js';
import { flattenPayload } from './payload.js';
import { parseDatadogTags } from './propagation.js';
import { TIMEOUT_MESSAGE, inferredSpans, maybeBase64, span } from './spans.js';
import { withPointerLinks } from './triggers/span-pointers.js';

export interface SpanOptions {
  service: string;
  functionName: string;
  capturePayload: boolean;
  captureMaxDepth: number;
  newId: () => bigint;
  now: () => number;
}

const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

export function decU64(s: string | undefined): bigint | undefined {
  if (s === undefined || !/^\d{1,20}$/.test(s)) return undefined;
  const v = BigInt(s);
  return v > 0n && v < 1n << 64n ? v : undefined;
}

export function invocationSpans(ctx: Context, o: SpanOptions): { spans: SpanData[]; ids: SpanIds } {
  const tracer = ctx.tracer as TracerState;
  const h = ctx.end?.headers ?? {};
  const ph = ctx.placeholder;
  const endTags = parseDatadogTags(h['x-datadog-tags']);
  const traceId = decU64(h['x-datadog-trace-id']) ?? tracer.extracted?.traceId ?? ph?.traceId ?? o.newId();
  const spanId = decU64(h['x-datadog-span-id']) ?? ph?.spanId ?? o.newId();
  const startMs = ctx.startMs ?? tracer.startedAt;
  const durationMs = ctx.runtime?.durationMs ?? (ctx.end?.at ?? o.now()) - startMs;
  const endMs = startMs + durationMs;
  const statusCode = obj(ctx.end?.response)['statusCode'];
  const status = typeof statusCode === 'number' || typeof statusCode === 'string' ? String(statusCode) : undefined;
  const serverError = status !== undefined && /^5\d\d$/.test(status);

  const out: SpanData[] = [];
  let parentId = decU64(h['x-datadog-parent-id']) ?? tracer.extracted?.spanId ?? 0n;
  const trigger = tracer.trigger;
  if (trigger !== undefined && trigger.inferred.length > 0) {
    const inf = inferredSpans(trigger.inferred, { traceId, parentId: tracer.extracted?.spanId ?? 0n, newId: o.newId }, { startMs, endMs });
    parentId = inf.innermost;
    for (const s of inf.spans) {
      // The extracted context's tags (propagated `_dd.p.*`, baggage) go on the inferred spans too, as bottlecap's inferrer extends them.
      if (tracer.extracted !== undefined) Object.assign(s.meta, tracer.extracted.tags);
      if (status !== undefined && trigger.http) s.meta['http.status_code'] = status;
      if (serverError) s.error = 1;
      out.push(s);
    }
  }

  const s = span({ name: 'aws.lambda', service: o.service, resource: o.functionName, type: 'serverless', traceId, spanId, parentId, startMs, durationMs });
  const meta = s.meta;
  if (ph !== undefined) {
    Object.assign(meta, ph.meta);
    Object.assign(s.metrics, ph.metrics);
  }
  meta['span.kind'] = 'server';
  meta['request_id'] = ctx.requestId;
  meta['cold_start'] = String(ctx.coldStart);
  if (ctx.proactive) meta['proactive_initialization'] = 'true';
  if (trigger !== undefined) {
    meta['function_trigger.event_source'] = trigger.source;
    if (trigger.arn !== undefined) meta['function_trigger.event_source_arn'] = trigger.arn;
    Object.assign(meta, trigger.tags);
  }
  if (tracer.extracted !== undefined) Object.assign(meta, tracer.extracted.tags);
  Object.assign(meta, endTags);
  if (status !== undefined) meta['http.status_code'] = status;
  const priority = h['x-datadog-sampling-priority'] ?? (tracer.extracted?.samplingPriority !== undefined ? String(tracer.extracted.samplingPriority) : undefined);
  if (priority !== undefined && Number.isFinite(Number(priority))) {
    s.metrics['_sampling_priority_v1'] = Number(priority);
    for (const x of out) x.metrics['_sampling_priority_v1'] = Number(priority);
  }
  if (h['x-datadog-invocation-error'] === 'true') {
    s.error = 1;
    for (const k of ['msg', 'type', 'stack'] as const) {
      const v = h[`x-datadog-invocation-error-${k}`];
      if (v !== undefined) meta[`error.${k === 'msg' ? 'message' : k}`] = maybeBase64(v);
    }
    if (meta['error.message'] !== undefined) meta['error.msg'] = meta['error.message'];
  } else if (ctx.runtime?.status === 'timeout') {
    s.error = 1;
    meta['error.msg'] = TIMEOUT_MESSAGE;
    meta['error.message'] = TIMEOUT_MESSAGE;
    meta['error.type'] = 'Timeout';
  } else if (ctx.runtime !== undefined && ctx.runtime.status !== 'success') {
    s.error = 1;
    meta['error.type'] = ctx.runtime.errorType ?? ctx.runtime.status;
  }
  if (serverError) s.error = 1;
  if (o.capturePayload) {
    if (tracer.request !== undefined) flattenPayload(meta, 'function.request', tracer.request, o.captureMaxDepth);
    if (ctx.end !== undefined) flattenPayload(meta, 'function.response', ctx.end.response, o.captureMaxDepth);
  }
  out.push(s);
  // Bottlecap puts the trigger's pointers on the root of the spans it makes: the outermost inferred span, else aws.lambda.
  if (trigger?.pointers !== undefined && trigger.pointers.length > 0) {
    const root = out[0] as SpanData;
    root.meta['_dd.span_links'] = withPointerLinks(root.meta['_dd.span_links'], trigger.pointers);
  }
  return { spans: out, ids: { traceId, spanId, traceIdHigh: meta['_dd.p.tid'] } };
}
