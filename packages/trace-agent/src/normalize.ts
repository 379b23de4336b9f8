// The agent's trace normalization (libdatadog trace-normalization, which bottlecap runs): the
// rules and limits are theirs, the code is ours. A trace that cannot be normalized is dropped
// whole, with a reason the caller counts.
import { PRIORITY_NONE } from './span.js';
import type { Chunk, Span } from './span.js';

export const MAX_NAME_LEN = 100;
export const MAX_SERVICE_LEN = 100;
export const MAX_TYPE_LEN = 100;
export const MAX_TAG_LEN = 200;
export const DEFAULT_SPAN_NAME = 'unnamed_operation';
export const DEFAULT_SERVICE_NAME = 'unnamed-service';
/** Nanoseconds since the epoch on 2000-01-01: earlier starts are a unit mistake. */
const YEAR_2000_NS = 946_684_800_000_000_000n;
const I64_MAX = (1n << 63n) - 1n;

export type DropReason = 'empty_trace' | 'trace_id_zero' | 'span_id_zero' | 'foreign_span';

const utf8 = new TextEncoder();

/** Cuts `s` to at most `limit` UTF-8 bytes without splitting a character. */
export function truncateUtf8(s: string, limit: number): string {
  if (s.length <= limit / 3) return s; // at most 3 bytes per UTF-16 unit: cannot be over
  const bytes = utf8.encode(s);
  if (bytes.length <= limit) return s;
  let end = limit;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8');
}

const LOWER = /\p{Ll}/u;
const UPPER = /\p{Lu}/u;
const LETTER = /\p{L}/u;
const NUMBER = /\p{N}/u;

/**
 * Tag normalization: lower case; letters, `:` kept; digits `.` `/` `-` kept except leading;
 * anything else collapses into one `_`; no leading or trailing `_`; at most 200 characters.
 */
export function normalizeTag(tag: string): string {
  if (tag === '') return '';
  if (/^[a-z:][a-z0-9:./-]*(?:_[a-z0-9:./-]+)*$/.test(tag) && tag.length <= MAX_TAG_LEN) return tag;
  let out = '';
  let illegal = true; // a run of illegal characters is open (also at the start: no leading _)
  let written = 0;
  let bytes = 0;
  for (const ch of tag) {
    if (written >= MAX_TAG_LEN || bytes >= 2 * MAX_TAG_LEN) break;
    let c = ch;
    let keep: 'letter' | 'digit' | 'under' | 'bad';
    if ((c >= 'a' && c <= 'z') || c === ':') keep = 'letter';
    else if (c >= 'A' && c <= 'Z') {
      c = c.toLowerCase();
      keep = 'letter';
    } else if ((c >= '0' && c <= '9') || c === '.' || c === '/' || c === '-') keep = 'digit';
    else if (c === '_') keep = 'under';
    else if (c.charCodeAt(0) < 0x80) keep = 'bad';
    else if (LOWER.test(c)) keep = 'letter';
    else {
      if (UPPER.test(c)) {
        const lower = [...c.toLowerCase()][0] ?? c;
        if (utf8.encode(lower).length <= utf8.encode(c).length) c = lower;
      }
      keep = LETTER.test(c) ? 'letter' : NUMBER.test(c) ? 'digit' : 'bad';
    }
    let w: string;
    if (keep === 'letter') {
      w = c;
      illegal = false;
    } else if (keep === 'digit') {
      if (out === '') continue;
      w = c;
      illegal = false;
    } else {
      if (illegal || (keep === 'under' && out === '')) continue;
      w = '_';
      illegal = true;
    }
    out += w;
    written++;
    bytes += w.length === 1 && w.charCodeAt(0) < 0x80 ? 1 : utf8.encode(w).length;
  }
  if (illegal && out.endsWith('_')) out = out.slice(0, -1);
  return out;
}

/** Metric-name rules for span names: starts at the first ASCII letter, `[A-Za-z0-9_.]`, no runs of `_`/`.`. */
export function normalizeMetricName(name: string): string {
  let i = 0;
  while (i < name.length && !/[A-Za-z]/.test(name[i] ?? '')) i++;
  if (i === name.length) return '';
  let out = '';
  let last = '';
  for (; i < name.length; i++) {
    const c = name[i] ?? '';
    if (/[A-Za-z0-9]/.test(c)) {
      out += c;
      last = c;
    } else if (c === '.' && last === '_') {
      out = `${out.slice(0, -1)}.`;
      last = '.';
    } else if (last === '_' || last === '.') {
      continue;
    } else if (c === '_' || c === '.') {
      out += c;
      last = c;
    } else {
      out += '_';
      last = '_';
    }
  }
  if (last === '_') out = out.slice(0, -1);
  return out;
}

export function normalizeService(service: string): string {
  const s = normalizeTag(truncateUtf8(service, MAX_SERVICE_LEN));
  return s === '' ? DEFAULT_SERVICE_NAME : s;
}

export function normalizeName(name: string): string {
  if (/^[A-Za-z][A-Za-z0-9]*(?:[_.][A-Za-z0-9]+)*$/.test(name) && name.length <= MAX_NAME_LEN) return name;
  const n = normalizeMetricName(truncateUtf8(name, MAX_NAME_LEN));
  return n === '' ? DEFAULT_SPAN_NAME : n;
}

function validStatusCode(code: string): boolean {
  if (!/^[+-]?\d+$/.test(code)) return false;
  const n = Number(code);
  return n >= 100 && n < 600;
}

/** Normalizes one span in place. `now` is epoch nanoseconds. */
export function normalizeSpan(s: Span, now: bigint): void {
  s.service = normalizeService(s.service);
  s.name = normalizeName(s.name);
  if (s.resource === '') s.resource = s.name;
  // Zipkin-style roots carry parent = trace = span id.
  if (s.parentId === s.traceId && s.parentId === s.spanId) s.parentId = 0n;
  if (s.duration < 0n) s.duration = 0n;
  if (s.start + s.duration > I64_MAX) s.duration = 0n;
  if (s.start < YEAR_2000_NS) {
    s.start = now - s.duration;
    if (s.start < 0n) s.start = now;
  }
  if (s.type.length > MAX_TYPE_LEN / 3) s.type = truncateUtf8(s.type, MAX_TYPE_LEN);
  const env = s.meta['env'];
  if (env !== undefined) s.meta['env'] = normalizeTag(env);
  const code = s.meta['http.status_code'];
  if (code !== undefined && !validStatusCode(code)) delete s.meta['http.status_code'];
}

/** Normalizes every span of a trace; the trace must be one non-zero trace id and non-zero span ids. */
export function normalizeTrace(spans: Span[], now: bigint): DropReason | undefined {
  const first = spans[0];
  if (first === undefined) return 'empty_trace';
  if (first.traceId === 0n) return 'trace_id_zero';
  for (const s of spans) {
    if (s.traceId !== first.traceId) return 'foreign_span';
    if (s.spanId === 0n) return 'span_id_zero';
  }
  for (const s of spans) normalizeSpan(s, now);
  return undefined;
}

/**
 * The root of a trace: the last span whose parent is not in the trace (the agent's GetRoot), else
 * the last span.
 */
export function rootOf(spans: readonly Span[]): Span | undefined {
  if (spans.length === 1) return spans[0];
  const ids = new Set<bigint>();
  for (const s of spans) ids.add(s.spanId);
  for (let i = spans.length - 1; i >= 0; i--) {
    const s = spans[i];
    if (s !== undefined && (s.parentId === 0n || !ids.has(s.parentId))) return s;
  }
  return spans[spans.length - 1];
}

/** Chunk priority from `_sampling_priority_v1` (root first, then any span) and origin from the root. */
export function makeChunk(spans: Span[], root: Span): Chunk {
  let priority = PRIORITY_NONE;
  const p = root.metrics['_sampling_priority_v1'];
  if (p !== undefined) priority = Math.trunc(p);
  else {
    for (const s of spans) {
      const q = s.metrics['_sampling_priority_v1'];
      if (q !== undefined) {
        priority = Math.trunc(q);
        break;
      }
    }
  }
  return { priority, origin: root.meta['_dd.origin'] ?? '', spans, droppedTrace: false };
}

/**
 * Top-level marking (`_top_level: 1`): roots, and spans whose parent has another service. When the
 * tracer computed it (`Datadog-Client-Computed-Top-Level`), its `_dd.top_level` is taken instead.
 */
export function markTopLevel(spans: readonly Span[], clientComputed: boolean): void {
  if (clientComputed) {
    for (const s of spans) if (s.metrics['_dd.top_level'] === 1) s.metrics['_top_level'] = 1;
    return;
  }
  const services = new Map<bigint, string>();
  for (const s of spans) services.set(s.spanId, s.service);
  for (const s of spans) {
    const parentService = s.parentId === 0n ? undefined : services.get(s.parentId);
    if (parentService === undefined || parentService !== s.service) s.metrics['_top_level'] = 1;
    else delete s.metrics['_top_level'];
  }
}
