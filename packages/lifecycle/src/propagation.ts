// Trace context extraction for the invocation (DataDog/datadog-lambda-extension, bottlecap/src/lifecycle/invocation/processor.rs and traces/propagation/): Datadog headers, W3C tracecontext
// and B3 (multi and single header), in the order DD_TRACE_PROPAGATION_STYLE_EXTRACT lists them.
// 128-bit trace ids keep their high 64 bits in `_dd.p.tid`, as the tracers do.

export type PropagationStyle = 'datadog' | 'tracecontext' | 'b3multi' | 'b3single';

export interface SpanContext {
  /** Low 64 bits of the trace id. */
  traceId: bigint;
  /** High 64 bits (0 for a 64-bit id). */
  traceIdHigh: bigint;
  /** The caller's span: the parent of whatever the extension starts. 0 when the carrier had none. */
  spanId: bigint;
  samplingPriority: number | undefined;
  origin: string | undefined;
  /** Propagated `_dd.p.*` tags (including `_dd.p.tid` for a 128-bit id). */
  tags: Record<string, string>;
  style: PropagationStyle;
}

/** A header map with lowercase keys; values may come as arrays (multi-value headers). */
export type Carrier = Readonly<Record<string, unknown>>;

const U64_MAX = (1n << 64n) - 1n;
const DEC = /^\d{1,20}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const HEX32 = /^[0-9a-f]{32}$/;

/** Style names as users write them (dd-trace's spellings) -> what we extract. Unknown names are skipped. */
export function parseStyles(names: readonly string[]): PropagationStyle[] {
  const out: PropagationStyle[] = [];
  for (const raw of names) {
    const n = raw.trim().toLowerCase();
    const style: PropagationStyle | undefined =
      n === 'datadog'
        ? 'datadog'
        : n === 'tracecontext'
          ? 'tracecontext'
          : n === 'b3multi' || n === 'b3'
            ? 'b3multi'
            : n === 'b3 single header' || n === 'b3single'
              ? 'b3single'
              : undefined;
    if (style !== undefined && !out.includes(style)) out.push(style);
  }
  return out;
}

/** Lowercases keys and keeps the first value of multi-value headers. */
export function lowerCarrier(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof headers !== 'object' || headers === null) return out;
  for (const [k, v] of Object.entries(headers)) {
    const value = Array.isArray(v) ? v[0] : v;
    if (typeof value === 'string') out[k.toLowerCase()] = value;
    else if (typeof value === 'number') out[k.toLowerCase()] = String(value);
  }
  return out;
}

function decU64(s: string | undefined): bigint | undefined {
  if (s === undefined || !DEC.test(s.trim())) return undefined;
  const v = BigInt(s.trim());
  return v <= U64_MAX ? v : undefined;
}

export function hex16(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}

function get(c: Carrier, key: string): string | undefined {
  const v = c[key];
  return typeof v === 'string' ? v : undefined;
}

/** `_dd.p.k=v,_dd.p.k2=v2`: only propagated tags are kept (the header is untrusted input). */
export function parseDatadogTags(header: string | undefined): Record<string, string> {
  const tags: Record<string, string> = {};
  if (header === undefined || header.length > 512) return tags;
  for (const pair of header.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const k = pair.slice(0, eq).trim();
    const v = pair.slice(eq + 1).trim();
    if (k.startsWith('_dd.p.') && v !== '') tags[k] = v;
  }
  return tags;
}

function datadog(c: Carrier): SpanContext | undefined {
  const traceId = decU64(get(c, 'x-datadog-trace-id'));
  if (traceId === undefined || traceId === 0n) return undefined;
  const tags = parseDatadogTags(get(c, 'x-datadog-tags'));
  let high = 0n;
  const tid = tags['_dd.p.tid'];
  if (tid !== undefined) {
    if (HEX16.test(tid)) high = BigInt(`0x${tid}`);
    else delete tags['_dd.p.tid'];
  }
  const prio = get(c, 'x-datadog-sampling-priority');
  const p = prio === undefined ? undefined : Number.parseInt(prio, 10);
  return {
    traceId,
    traceIdHigh: high,
    spanId: decU64(get(c, 'x-datadog-parent-id')) ?? 0n,
    samplingPriority: p === undefined || Number.isNaN(p) ? undefined : p,
    origin: get(c, 'x-datadog-origin'),
    tags,
    style: 'datadog',
  };
}

function tracecontext(c: Carrier): SpanContext | undefined {
  const tp = get(c, 'traceparent')?.trim().toLowerCase();
  if (tp === undefined) return undefined;
  const parts = tp.split('-');
  if (parts.length < 4) return undefined;
  const [version, trace, parent, flags] = parts as [string, string, string, string];
  if (!/^[0-9a-f]{2}$/.test(version) || version === 'ff' || (version === '00' && parts.length !== 4)) return undefined;
  if (!HEX32.test(trace) || !HEX16.test(parent) || !/^[0-9a-f]{2}$/.test(flags)) return undefined;
  const high = BigInt(`0x${trace.slice(0, 16)}`);
  const low = BigInt(`0x${trace.slice(16)}`);
  const spanId = BigInt(`0x${parent}`);
  if ((high === 0n && low === 0n) || spanId === 0n) return undefined;
  const sampled = (Number.parseInt(flags, 16) & 1) === 1;
  const tags: Record<string, string> = {};
  if (high !== 0n) tags['_dd.p.tid'] = hex16(high);
  let priority: number | undefined;
  let origin: string | undefined;
  // The `dd` member of tracestate: s (priority), o (origin), t.* (propagated tags), p (last dd parent).
  const dd = (get(c, 'tracestate') ?? '')
    .split(',')
    .map((m) => m.trim())
    .find((m) => m.startsWith('dd='));
  if (dd !== undefined) {
    for (const field of dd.slice(3).split(';')) {
      const colon = field.indexOf(':');
      if (colon <= 0) continue;
      const k = field.slice(0, colon);
      const v = field.slice(colon + 1);
      if (k === 's') {
        const n = Number.parseInt(v, 10);
        if (!Number.isNaN(n)) priority = n;
      } else if (k === 'o') origin = v.replaceAll('~', '=');
      else if (k === 'p' && HEX16.test(v)) tags['_dd.parent_id'] = v;
      else if (k.startsWith('t.') && k !== 't.tid') tags[`_dd.p.${k.slice(2)}`] = v.replaceAll('~', '=');
    }
  }
  // The sampled flag wins over a stale `s` that disagrees with it.
  if (priority === undefined || (sampled && priority <= 0) || (!sampled && priority > 0)) priority = sampled ? 1 : 0;
  return { traceId: low, traceIdHigh: high, spanId, samplingPriority: priority, origin, tags, style: 'tracecontext' };
}

function b3Ids(trace: string, span: string): { low: bigint; high: bigint; spanId: bigint } | undefined {
  const t = trace.toLowerCase();
  const s = span.toLowerCase();
  if (!(HEX16.test(t) || HEX32.test(t)) || !HEX16.test(s)) return undefined;
  const low = BigInt(`0x${t.slice(-16)}`);
  const high = t.length === 32 ? BigInt(`0x${t.slice(0, 16)}`) : 0n;
  const spanId = BigInt(`0x${s}`);
  if ((low === 0n && high === 0n) || spanId === 0n) return undefined;
  return { low, high, spanId };
}

function b3Priority(sampled: string | undefined, debug: boolean): number | undefined {
  if (debug) return 2;
  if (sampled === '1' || sampled === 'true') return 1;
  if (sampled === '0' || sampled === 'false') return 0;
  return undefined;
}

function b3multi(c: Carrier): SpanContext | undefined {
  const ids = b3Ids(get(c, 'x-b3-traceid') ?? '', get(c, 'x-b3-spanid') ?? '');
  if (ids === undefined) return undefined;
  const tags: Record<string, string> = {};
  if (ids.high !== 0n) tags['_dd.p.tid'] = hex16(ids.high);
  const priority = b3Priority(get(c, 'x-b3-sampled'), get(c, 'x-b3-flags') === '1');
  return { traceId: ids.low, traceIdHigh: ids.high, spanId: ids.spanId, samplingPriority: priority, origin: undefined, tags, style: 'b3multi' };
}

function b3single(c: Carrier): SpanContext | undefined {
  const parts = (get(c, 'b3') ?? '').trim().split('-');
  if (parts.length < 2) return undefined;
  const ids = b3Ids(parts[0] as string, parts[1] as string);
  if (ids === undefined) return undefined;
  const tags: Record<string, string> = {};
  if (ids.high !== 0n) tags['_dd.p.tid'] = hex16(ids.high);
  const s = parts[2];
  const priority = s === 'd' ? 2 : b3Priority(s, false);
  return { traceId: ids.low, traceIdHigh: ids.high, spanId: ids.spanId, samplingPriority: priority, origin: undefined, tags, style: 'b3single' };
}

const EXTRACTORS: Record<PropagationStyle, (c: Carrier) => SpanContext | undefined> = { datadog, tracecontext, b3multi, b3single };

/**
 * The first style that yields a valid context wins. Unless `extractFirst`, a later tracecontext
 * context for the same trace supplies the parent span (W3C is the hop closest to us), and the Datadog
 * parent is kept as `_dd.parent_id`, as dd-trace does.
 */
export function extractContext(carrier: Carrier, styles: readonly PropagationStyle[], extractFirst = false, baggage = false): SpanContext | undefined {
  const found = extractStyles(carrier, styles, extractFirst);
  if (found !== undefined && baggage) attachBaggage(found, carrier);
  return found;
}

const BAGGAGE_PREFIX = 'ot-baggage-';

/**
 * DD_TRACE_PROPAGATION_HTTP_BAGGAGE_ENABLED: `ot-baggage-<key>` headers become `<key>` tags of the
 * context, so of the spans made from it (DataDog/datadog-lambda-extension, bottlecap/src/traces/propagation/mod.rs).
 */
function attachBaggage(ctx: SpanContext, carrier: Carrier): void {
  for (const [k, v] of Object.entries(carrier)) {
    if (!k.startsWith(BAGGAGE_PREFIX) || k.length === BAGGAGE_PREFIX.length) continue;
    const value = Array.isArray(v) ? (v[0] as unknown) : v;
    if (typeof value === 'string') ctx.tags[k.slice(BAGGAGE_PREFIX.length)] = value;
  }
}

function extractStyles(carrier: Carrier, styles: readonly PropagationStyle[], extractFirst: boolean): SpanContext | undefined {
  let found: SpanContext | undefined;
  for (const style of styles) {
    const ctx = EXTRACTORS[style](carrier);
    if (ctx === undefined) continue;
    if (found === undefined) {
      found = ctx;
      if (extractFirst) return found;
      continue;
    }
    if (style === 'tracecontext' && ctx.traceId === found.traceId && ctx.spanId !== found.spanId && found.style === 'datadog') {
      found.tags['_dd.parent_id'] = ctx.tags['_dd.parent_id'] ?? hex16(found.spanId);
      found.spanId = ctx.spanId;
    }
  }
  return found;
}
