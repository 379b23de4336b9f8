// Building the spans the extension makes: aws.lambda for tracers that use universal
// instrumentation, the inferred spans in front of it, and the cold-start span.
import type { SpanData } from '@dd-lambda/protocol';
import type { InferredDraft } from './triggers.js';

export const TIMEOUT_MESSAGE = 'Datadog detected a Timeout';

/** Epoch ms (fractional) to ns: whole ms and the fraction apart, since ms * 1e6 is past 2^53. */
export function msToNs(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

/** A span with the shape the trace agent expects; meta and metrics start empty. */
export function span(fields: Pick<SpanData, 'name' | 'service' | 'resource' | 'type' | 'traceId' | 'spanId' | 'parentId'> & { startMs: number; durationMs: number }): SpanData {
  return {
    name: fields.name,
    service: fields.service,
    resource: fields.resource,
    type: fields.type,
    traceId: fields.traceId,
    spanId: fields.spanId,
    parentId: fields.parentId,
    start: msToNs(fields.startMs),
    duration: msToNs(Math.max(0, fields.durationMs)),
    error: 0,
    meta: {},
    metrics: {},
  };
}

/**
 * The inferred spans of one trigger, outermost first, chained parent to child; returns them and
 * the id the invocation span hangs under. A wrapper (SNS in front of SQS) ends where the next
 * begins; the innermost ends at the invocation's start (async) or end (sync).
 */
export function inferredSpans(
  drafts: readonly InferredDraft[],
  ids: { traceId: bigint; parentId: bigint; newId: () => bigint },
  invocation: { startMs: number; endMs: number },
): { spans: SpanData[]; innermost: bigint } {
  const spans: SpanData[] = [];
  let parent = ids.parentId;
  drafts.forEach((d, i) => {
    const next = drafts[i + 1];
    const endMs = next !== undefined ? next.startMs : d.async ? invocation.startMs : invocation.endMs;
    const s = span({
      name: d.name,
      service: d.service,
      resource: d.resource,
      type: d.type,
      traceId: ids.traceId,
      spanId: ids.newId(),
      parentId: parent,
      startMs: d.startMs,
      durationMs: endMs - d.startMs,
    });
    Object.assign(s.meta, d.meta);
    spans.push(s);
    parent = s.spanId;
  });
  return { spans, innermost: parent };
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Error headers arrive base64 (Java, Go) or raw (others): decode only what is clearly base64 text. */
export function maybeBase64(value: string): string {
  if (value.length < 4 || value.length % 4 !== 0 || !B64.test(value)) return value;
  try {
    const text = utf8.decode(Buffer.from(value, 'base64'));
    // eslint-disable-next-line no-control-regex
    return /[\u0000-\u0008\u000e-\u001f]/.test(text) ? value : text;
  } catch {
    return value;
  }
}
