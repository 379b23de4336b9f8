// OTLP ResourceSpans to Datadog spans, as Datadog's OTLP ingest maps them (DataDog/datadog-agent
// pkg/trace/transform/transform.go; DataDog/datadog-lambda-extension bottlecap/src/otlp/transform.rs).
// Where bottlecap departs from the agent (the `span.kind` key, `_dd.measured`, a resource's
// service.version, links), the agent's behaviour is kept: it is what Datadog's UI reads. The result goes
// through the same processor, stats and flush as tracer payloads.
import type { Span, SpanLink, TracerInfo } from '../span.js';
import type { AnyValue, KeyValue, OtlpResourceSpans, OtlpSpan } from './model.js';
import { STATUS_ERROR } from './model.js';
import type { Attrs } from './names.js';
import { kindName, operationName, resourceName, spanType } from './names.js';

export interface OtlpBatch {
  traces: Span[][];
  info: TracerInfo;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Bytes [from, from+8) as an unsigned 64-bit id; 0 when absent or short. */
function u64(b: Uint8Array, from = 0): bigint {
  if (b.length < from + 8) return 0n;
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).readBigUInt64BE(from);
}

/** An attribute value as a tag string: arrays and maps as JSON, bytes as hex. */
export function valueString(v: AnyValue): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean' || typeof v === 'bigint' || typeof v === 'number') return String(v);
  if (v instanceof Uint8Array) return hex(v);
  if (Array.isArray(v)) return JSON.stringify(v.filter((x) => x !== undefined).map(valueString));
  const o: Record<string, string> = {};
  for (const kv of v.kvlist) if (kv.value !== undefined) o[kv.key] = valueString(kv.value);
  return JSON.stringify(o);
}

function toMap(kvs: readonly KeyValue[]): Map<string, AnyValue> {
  const m = new Map<string, AnyValue>();
  for (const kv of kvs) if (!m.has(kv.key)) m.set(kv.key, kv.value);
  return m;
}

/** Keys Datadog reads as span fields rather than tags. */
const isApmConventionKey = (k: string): boolean => k === 'service.name' || k === 'operation.name' || k === 'resource.name' || k === 'span.type' || k.startsWith('datadog.');

/** `datadog.*` attributes that become the tag Datadog knows. */
const DD_SEMANTIC: ReadonlyArray<[string, string]> = [
  ['datadog.env', 'env'],
  ['datadog.version', 'version'],
  ['datadog.http_status_code', 'http.status_code'],
  ['datadog.error.msg', 'error.msg'],
  ['datadog.error.type', 'error.type'],
  ['datadog.error.stack', 'error.stack'],
];
/** Tags a `datadog.*` attribute already decided: a plain attribute of the same name does not override them. */
const DD_DECIDED = new Set(DD_SEMANTIC.map(([, k]) => k));

function setMeta(s: Span, key: string, value: string): void {
  if (isApmConventionKey(key)) return;
  const k = key.startsWith('http.request.header.') ? `http.request.headers.${key.slice('http.request.header.'.length)}` : key;
  if (DD_DECIDED.has(k) && k in s.meta) return;
  if (k === 'analytics.event') {
    if (value === 'true' || value === 'false') s.metrics['_dd1.sr.eausr'] = value === 'true' ? 1 : 0;
    return;
  }
  s.meta[k] = value;
}

function setMetric(s: Span, key: string, value: number): void {
  if (isApmConventionKey(key)) return;
  if (DD_DECIDED.has(key) && key in s.metrics) return;
  s.metrics[key === 'sampling.priority' ? '_sampling_priority_v1' : key] = value;
}

const STATUS_NAMES = ['Unset', 'Ok', 'Error'];

function statusCode(spanAttrs: Map<string, AnyValue>): number {
  for (const k of ['datadog.http_status_code', 'http.response.status_code', 'http.status_code']) {
    const n = Number(valueString(spanAttrs.get(k)));
    if (Number.isInteger(n) && n > 0) return n;
  }
  return 0;
}

/** error.msg/type/stack from the exception event, else the status message, else the HTTP status. */
function errorDetails(s: Span, o: OtlpSpan): void {
  for (const e of o.events) {
    if (e.name !== 'exception') continue;
    const a = toMap(e.attributes);
    for (const [from, to] of [
      ['exception.message', 'error.msg'],
      ['exception.type', 'error.type'],
      ['exception.stacktrace', 'error.stack'],
    ] as const) {
      const v = valueString(a.get(from));
      if (v !== '' && !(to in s.meta)) s.meta[to] = v;
    }
  }
  if (s.meta['error.msg'] !== undefined) return;
  if (o.status !== undefined && o.status.message !== '') s.meta['error.msg'] = o.status.message;
  else if (s.metrics['http.status_code'] !== undefined) s.meta['error.msg'] = String(s.metrics['http.status_code']);
}

export function toDatadogSpan(o: OtlpSpan, res: Map<string, AnyValue>, scope: { name: string; version: string; attributes: KeyValue[] }): Span {
  const own = toMap(o.attributes);
  const get = (m: Map<string, AnyValue>, k: string): string => valueString(m.get(k));
  const attrs: Attrs = { span: (k) => get(own, k), either: (k) => get(res, k) || get(own, k) };
  const high = u64(o.traceId, 0);
  const s: Span = {
    service: get(own, 'datadog.service') || get(res, 'service.name') || 'otlpresourcenoservicename',
    name: get(own, 'datadog.name') || operationName(o, attrs, scope.name),
    resource: get(own, 'datadog.resource') || resourceName(o, attrs),
    type: get(own, 'datadog.type') || spanType(o, attrs),
    traceId: u64(o.traceId, 8),
    spanId: u64(o.spanId),
    parentId: u64(o.parentSpanId),
    start: o.startTimeUnixNano,
    duration: o.endTimeUnixNano > o.startTimeUnixNano ? o.endTimeUnixNano - o.startTimeUnixNano : 0n,
    error: 0,
    meta: {},
    metrics: {},
    metaStruct: undefined,
    spanLinks: undefined,
  };
  if (high !== 0n) s.meta['_dd.p.tid'] = high.toString(16).padStart(16, '0');
  const ddError = own.get('datadog.error');
  if (ddError !== undefined) s.error = Number(valueString(ddError)) === 1 ? 1 : 0;
  else if (o.status?.code === STATUS_ERROR) s.error = 1;
  s.meta['span.kind'] = get(own, 'datadog.span.kind') || kindName(o);
  const status = statusCode(own);
  if (status !== 0) s.metrics['http.status_code'] = status;
  const env = get(res, 'deployment.environment.name') || get(res, 'deployment.environment');
  if (env !== '') s.meta['env'] = env;
  if (get(own, '_dd.measured') === '1' || s.meta['span.kind'] === 'client' || s.meta['span.kind'] === 'producer') s.metrics['_dd.measured'] = 1;
  for (const [from, to] of DD_SEMANTIC) {
    const v = get(own, from);
    if (v !== '') s.meta[to] = v;
  }
  for (const [k, v] of res) {
    const text = valueString(v);
    if (text !== '') setMeta(s, k, text);
  }
  for (const kv of scope.attributes) {
    const text = valueString(kv.value);
    if (text !== '') s.meta[kv.key] = text;
  }
  s.meta['otel.trace_id'] = hex(o.traceId);
  const version = get(res, 'service.version');
  if (version !== '' && s.meta['version'] === undefined) s.meta['version'] = version;
  if (o.events.some((e) => e.name === 'exception')) s.meta['_dd.span_events.has_exception'] = 'true';
  if (o.events.length > 0) s.meta['events'] = JSON.stringify(o.events.map(eventJson));
  if (o.links.length > 0) s.spanLinks = o.links.map(linkOf);
  for (const [k, v] of own) {
    if (k.startsWith('datadog.') || v === undefined) continue;
    if (typeof v === 'number') setMetric(s, k, v);
    else if (typeof v === 'bigint') setMetric(s, k, Number(v));
    else setMeta(s, k, valueString(v));
  }
  if (o.traceState !== '') s.meta['w3c.tracestate'] = o.traceState;
  if (scope.name !== '') s.meta['otel.scope.name'] = scope.name;
  if (scope.version !== '') s.meta['otel.scope.version'] = scope.version;
  if (o.status !== undefined) {
    s.meta['otel.status_code'] = STATUS_NAMES[o.status.code] ?? String(o.status.code);
    if (o.status.message !== '') s.meta['otel.status_description'] = o.status.message;
  }
  if (s.error === 1) errorDetails(s, o);
  return s;
}

function eventJson(e: OtlpSpan['events'][number]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (e.timeUnixNano !== 0n) out['time_unix_nano'] = Number(e.timeUnixNano);
  if (e.name !== '') out['name'] = e.name;
  if (e.attributes.length > 0) {
    const a: Record<string, string> = {};
    for (const kv of e.attributes) if (kv.value !== undefined) a[kv.key] = valueString(kv.value);
    out['attributes'] = a;
  }
  if (e.droppedAttributesCount > 0) out['dropped_attributes_count'] = e.droppedAttributesCount;
  return out;
}

function linkOf(l: OtlpSpan['links'][number]): SpanLink {
  const attributes: Record<string, string> = {};
  for (const kv of l.attributes) if (kv.value !== undefined) attributes[kv.key] = valueString(kv.value);
  if (l.droppedAttributesCount > 0) attributes['_dd.dropped_attributes_count'] = String(l.droppedAttributesCount);
  return { traceId: u64(l.traceId, 8), traceIdHigh: u64(l.traceId, 0), spanId: u64(l.spanId), attributes, tracestate: l.traceState, flags: l.flags };
}

/** One batch per ResourceSpans (its SDK is the "tracer"), spans grouped by trace. Resource-less entries are skipped, as bottlecap does. */
export function otlpToBatches(request: readonly OtlpResourceSpans[]): { batches: OtlpBatch[]; spans: number } {
  const batches: OtlpBatch[] = [];
  let spans = 0;
  for (const rs of request) {
    if (rs.resource === undefined) continue;
    const res = toMap(rs.resource.attributes);
    const byTrace = new Map<bigint, Span[]>();
    for (const ss of rs.scopeSpans) {
      const scope = ss.scope ?? { name: '', version: '', attributes: [] };
      for (const o of ss.spans) {
        const s = toDatadogSpan(o, res, scope);
        spans++;
        const t = byTrace.get(s.traceId);
        if (t) t.push(s);
        else byTrace.set(s.traceId, [s]);
      }
    }
    if (byTrace.size === 0) continue;
    const sdkVersion = valueString(res.get('telemetry.sdk.version'));
    batches.push({
      traces: [...byTrace.values()],
      info: {
        lang: valueString(res.get('telemetry.sdk.language')),
        langVersion: '',
        langInterpreter: '',
        langVendor: '',
        tracerVersion: sdkVersion === '' ? 'otlp' : `otlp-${sdkVersion}`,
        containerId: '',
        clientComputedTopLevel: false,
        clientComputedStats: false,
        droppedP0Traces: 0,
        droppedP0Spans: 0,
      },
    });
  }
  return { batches, spans };
}
