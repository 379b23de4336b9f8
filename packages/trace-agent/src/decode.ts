// msgpack → spans for /v0.4/traces and /v0.5/traces. msgpackr does the byte work (see the README
// for the measured choice over msgpack-lite); this file checks the shape as the agent's decoder
// does: known fields with the wrong type fail the payload, unknown fields are skipped, nil reads
// as the zero value. 64-bit fields arrive as bigint and stay bigint.
import { Unpackr } from 'msgpackr';
import { TraceAgentError } from './errors.js';
import type { Span, SpanLink } from './span.js';

const unpackr = new Unpackr({ int64AsType: 'bigint', mapsAsObjects: true, useRecords: false, moreTypes: false });

const U64_MAX = (1n << 64n) - 1n;

type Raw = Record<string, unknown>;

function fail(path: string, message: string): never {
  throw new TraceAgentError('TA_ERR_DECODE', `${path}: ${message}`);
}

function kind(v: unknown): string {
  if (v === null) return 'nil';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Uint8Array) return 'binary';
  return typeof v;
}

/** Decodes one msgpack value; the whole body must be that value (no truncation, no trailing bytes). */
export function unpack(body: Uint8Array): unknown {
  if (body.length === 0) fail('body', 'empty');
  try {
    return unpackr.unpack(body);
  } catch (err) {
    const msg = (err as Error).message;
    // msgpackr's "end of buffer not reached" message embeds the decoded value; keep ours short.
    fail('body', msg.startsWith('Data read, but end of buffer not reached') ? 'trailing bytes after the msgpack value' : `invalid msgpack (${msg})`);
  }
}

function str(v: unknown, path: string): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
  return fail(path, `expected a string, got ${kind(v)}`);
}

function u64(v: unknown, path: string): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n) return BigInt.asUintN(64, v); // an int64 encoding of a uint64 id keeps its bits
    if (v > U64_MAX) fail(path, 'over 64 bits');
    return v;
  }
  if (typeof v === 'number' && Number.isInteger(v)) return v < 0 ? BigInt.asUintN(64, BigInt(v)) : BigInt(v);
  if (v === null || v === undefined) return 0n;
  return fail(path, `expected an integer, got ${kind(v)}`);
}

function i64(v: unknown, path: string): bigint {
  if (typeof v === 'bigint') return BigInt.asIntN(64, v);
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.trunc(v));
  if (v === null || v === undefined) return 0n;
  return fail(path, `expected an integer, got ${kind(v)}`);
}

function int32(v: unknown, path: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v) | 0;
  if (typeof v === 'bigint') return Number(BigInt.asIntN(32, v));
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === null || v === undefined) return 0;
  return fail(path, `expected an integer, got ${kind(v)}`);
}

function float(v: unknown, path: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === null || v === undefined) return 0;
  return fail(path, `expected a number, got ${kind(v)}`);
}

function isMap(v: unknown): v is Raw {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function strMap(v: unknown, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === null || v === undefined) return out;
  if (!isMap(v)) fail(path, `expected a map, got ${kind(v)}`);
  for (const k of Object.keys(v)) out[k] = str(v[k], `${path}.${k}`);
  return out;
}

function numMap(v: unknown, path: string): Record<string, number> {
  const out: Record<string, number> = {};
  if (v === null || v === undefined) return out;
  if (!isMap(v)) fail(path, `expected a map, got ${kind(v)}`);
  for (const k of Object.keys(v)) out[k] = float(v[k], `${path}.${k}`);
  return out;
}

function binMap(v: unknown, path: string): Record<string, Uint8Array> | undefined {
  if (v === null || v === undefined) return undefined;
  if (!isMap(v)) fail(path, `expected a map, got ${kind(v)}`);
  const out: Record<string, Uint8Array> = {};
  for (const k of Object.keys(v)) {
    const b = v[k];
    if (!(b instanceof Uint8Array)) fail(`${path}.${k}`, `expected binary, got ${kind(b)}`);
    out[k] = b;
  }
  return out;
}

function links(v: unknown, path: string): SpanLink[] | undefined {
  if (v === null || v === undefined) return undefined;
  if (!Array.isArray(v)) fail(path, `expected an array, got ${kind(v)}`);
  return v.map((l: unknown, i): SpanLink => {
    const p = `${path}[${i}]`;
    if (!isMap(l)) fail(p, `expected a map, got ${kind(l)}`);
    return {
      traceId: u64(l['trace_id'], `${p}.trace_id`),
      traceIdHigh: u64(l['trace_id_high'], `${p}.trace_id_high`),
      spanId: u64(l['span_id'], `${p}.span_id`),
      attributes: strMap(l['attributes'], `${p}.attributes`),
      tracestate: str(l['tracestate'], `${p}.tracestate`),
      flags: int32(l['flags'], `${p}.flags`) >>> 0,
    };
  });
}

function v04Span(raw: unknown, path: string): Span {
  if (!isMap(raw)) fail(path, `expected a span map, got ${kind(raw)}`);
  const meta = strMap(raw['meta'], `${path}.meta`);
  // Native span events have no field in the intake's schema here; tracers fall back to this tag.
  if (raw['span_events'] !== undefined && raw['span_events'] !== null && meta['events'] === undefined) {
    meta['events'] = JSON.stringify(raw['span_events'], (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  }
  return {
    service: str(raw['service'], `${path}.service`),
    name: str(raw['name'], `${path}.name`),
    resource: str(raw['resource'], `${path}.resource`),
    traceId: u64(raw['trace_id'], `${path}.trace_id`),
    spanId: u64(raw['span_id'], `${path}.span_id`),
    parentId: u64(raw['parent_id'], `${path}.parent_id`),
    start: i64(raw['start'], `${path}.start`),
    duration: i64(raw['duration'], `${path}.duration`),
    error: int32(raw['error'], `${path}.error`),
    meta,
    metrics: numMap(raw['metrics'], `${path}.metrics`),
    type: str(raw['type'], `${path}.type`),
    metaStruct: binMap(raw['meta_struct'], `${path}.meta_struct`),
    spanLinks: links(raw['span_links'], `${path}.span_links`),
  };
}

/** `/v0.4/traces`: an array of traces, each an array of span maps. */
export function decodeV04(body: Uint8Array): Span[][] {
  const value = unpack(body);
  if (!Array.isArray(value)) fail('payload', `expected an array of traces, got ${kind(value)}`);
  return value.map((trace: unknown, t) => {
    if (!Array.isArray(trace)) fail(`traces[${t}]`, `expected an array of spans, got ${kind(trace)}`);
    return trace.map((s: unknown, i) => v04Span(s, `traces[${t}][${i}]`));
  });
}

/** `/v0.5/traces`: `[strings, traces]`, every string field an index into `strings`. */
export function decodeV05(body: Uint8Array): Span[][] {
  const value = unpack(body);
  if (!Array.isArray(value) || value.length !== 2) fail('payload', 'expected [strings, traces]');
  const [strings, traces] = value as [unknown, unknown];
  if (!Array.isArray(strings)) fail('strings', `expected an array, got ${kind(strings)}`);
  if (!Array.isArray(traces)) fail('traces', `expected an array, got ${kind(traces)}`);
  const table = strings.map((s: unknown, i) => str(s, `strings[${i}]`));
  const at = (v: unknown, path: string): string => {
    const i = int32(v, path);
    const s = table[i];
    if (i < 0 || s === undefined) fail(path, `string index ${i} outside the table of ${table.length}`);
    return s;
  };
  return traces.map((trace: unknown, t) => {
    if (!Array.isArray(trace)) fail(`traces[${t}]`, `expected an array of spans, got ${kind(trace)}`);
    return trace.map((s: unknown, i): Span => {
      const p = `traces[${t}][${i}]`;
      if (!Array.isArray(s) || s.length !== 12) fail(p, 'expected a 12-element span array');
      const meta: Record<string, string> = {};
      const rawMeta = s[9] as unknown;
      if (rawMeta !== null) {
        if (!isMap(rawMeta)) fail(`${p}.meta`, `expected a map, got ${kind(rawMeta)}`);
        for (const [k, v] of Object.entries(rawMeta)) meta[at(Number(k), `${p}.meta key`)] = at(v, `${p}.meta.${k}`);
      }
      const metrics: Record<string, number> = {};
      const rawMetrics = s[10] as unknown;
      if (rawMetrics !== null) {
        if (!isMap(rawMetrics)) fail(`${p}.metrics`, `expected a map, got ${kind(rawMetrics)}`);
        for (const [k, v] of Object.entries(rawMetrics)) metrics[at(Number(k), `${p}.metrics key`)] = float(v, `${p}.metrics.${k}`);
      }
      return {
        service: at(s[0], `${p}.service`),
        name: at(s[1], `${p}.name`),
        resource: at(s[2], `${p}.resource`),
        traceId: u64(s[3], `${p}.trace_id`),
        spanId: u64(s[4], `${p}.span_id`),
        parentId: u64(s[5], `${p}.parent_id`),
        start: i64(s[6], `${p}.start`),
        duration: i64(s[7], `${p}.duration`),
        error: int32(s[8], `${p}.error`),
        meta,
        metrics,
        type: at(s[11], `${p}.type`),
        metaStruct: undefined,
        spanLinks: undefined,
      };
    });
  });
}
