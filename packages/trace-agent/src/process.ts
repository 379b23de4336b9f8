// From decoded traces to intake chunks (DataDog/datadog-lambda-extension, bottlecap/src/traces/trace_processor.rs): normalize, mark top level, build the chunk,
// apply the tag filters to its root, drop the extension's own traffic and the serverless
// placeholder, then tag and obfuscate every span. Nothing here does I/O.
import { TraceAgentError } from './errors.js';
import { makeChunk, markTopLevel, normalizeTrace, rootOf } from './normalize.js';
import type { DropReason } from './normalize.js';
import { obfuscateSpan } from './obfuscate/index.js';
import type { ObfuscationOptions } from './obfuscate/index.js';
import { randomSpanId } from '@dd-lambda/protocol';
import type { DurableContextMessage, TracerSpanMessage } from '@dd-lambda/protocol';
import type { Chunk, Span, TracerInfo, TracerPayload } from './span.js';

/** The Java/Go tracers' stand-in for the invocation span; its data belongs to aws.lambda. */
export const PLACEHOLDER_RESOURCE = 'dd-tracer-serverless-span';
/** datadog-lambda-js / -python's module-loading span; the extension's cold-start span becomes its parent. */
export const COLD_START_LOAD_SPAN = 'aws.lambda.load';

export interface TagFilter {
  key: string;
  /** Exact value, a regex, or presence of the key when absent. */
  value?: string | RegExp;
}

export interface ProcessorOptions {
  /** Function tags, added to every span. */
  tags: Readonly<Record<string, string>>;
  /** DD_SERVICE: replaces the `aws.lambda` service name. */
  service: string | undefined;
  env: string | undefined;
  version: string | undefined;
  /** Extension-side stats (DD_LAMBDA_EXTENSION_COMPUTE_STATS). */
  computeStats: boolean;
  /** `_dd.origin` / `origin` of every span (`lambda`, or the mini agent's platform). */
  origin?: string;
  /**
   * `_dd.base_service` for inferred spans that lack it: the invocation span's service (DD_SERVICE, else
   * the function name, lower-cased; `aws.lambda` with DD_TRACE_AWS_SERVICE_REPRESENTATION_ENABLED=false).
   */
  baseService?: string;
  require: readonly TagFilter[];
  reject: readonly TagFilter[];
  obfuscation: ObfuscationOptions;
  /** host:port pairs (and ports on 127.0.0.1/localhost) that are the extension or the runtime API. */
  ownPorts: readonly number[];
  /**
   * Tells the lifecycle unit about a placeholder span, or about the first `aws.lambda.load` span
   * (whose parent is then set to a fresh id the cold-start span will carry). Absent: neither happens.
   */
  onTracerSpan?: (msg: TracerSpanMessage) => void;
  /**
   * A tracer's aws.lambda span named its request's durable execution (meta `aws.durable.*`, as
   * DataDog/datadog-lambda-extension bottlecap/src/traces/trace_agent.rs reads it): for the logs unit.
   */
  onDurableContext?: (msg: DurableContextMessage) => void;
  /** A fresh non-zero 64-bit span id (injectable for tests). */
  newSpanId?: () => bigint;
}

export type ChunkDropReason = DropReason | 'filtered' | 'empty_after_drops';

export interface ProcessCounters {
  tracesIn: number;
  spansIn: number;
  chunksOut: number;
  spansOut: number;
  droppedTraces: Partial<Record<ChunkDropReason, number>>;
  /** Spans removed from kept chunks (own traffic, placeholders). */
  droppedSpans: number;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '0.0.0.0']);
const LOCAL_DNS = new Set(['0.0.0.0', '127.0.0.1', '169.254.79.129']);

/**
 * `k:v` (exact) or `k` (present) entries; regex variants compile the value. A bad regex throws
 * TA_ERR_CONFIG so the caller can name it and skip it.
 */
export function parseFilters(entries: readonly string[], regex: boolean): { filters: TagFilter[]; errors: TraceAgentError[] } {
  const filters: TagFilter[] = [];
  const errors: TraceAgentError[] = [];
  for (const e of entries) {
    const at = e.indexOf(':');
    const key = (at < 0 ? e : e.slice(0, at)).trim();
    if (key === '') continue;
    if (at < 0) {
      filters.push({ key });
      continue;
    }
    const raw = e.slice(at + 1).trim();
    if (!regex) {
      filters.push({ key, value: raw });
      continue;
    }
    try {
      filters.push({ key, value: new RegExp(raw) });
    } catch (err) {
      errors.push(new TraceAgentError('TA_ERR_CONFIG', `DD_APM_FILTER_TAGS_REGEX_* entry "${e}" does not compile: ${(err as Error).message}`));
    }
  }
  return { filters, errors };
}

function valueOf(span: Span, key: string): string | undefined {
  const m = span.meta[key];
  if (m !== undefined) return m;
  switch (key) {
    case 'name':
      return span.name;
    case 'service':
      return span.service;
    case 'resource':
      return span.resource;
    case 'type':
      return span.type;
    default:
      return undefined;
  }
}

function matches(span: Span, f: TagFilter): boolean {
  const v = valueOf(span, f.key);
  if (v === undefined) return false;
  if (f.value === undefined) return true;
  return typeof f.value === 'string' ? v === f.value : f.value.test(v);
}

/** True when the root passes DD_APM_FILTER_TAGS_*: every require matches, no reject does. */
export function passesFilters(root: Span, require: readonly TagFilter[], reject: readonly TagFilter[]): boolean {
  for (const f of require) if (!matches(root, f)) return false;
  for (const f of reject) if (matches(root, f)) return false;
  return true;
}

function portOf(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d{1,5}$/.test(v)) return undefined;
  return Number(v);
}

/** A span of the function talking to the runtime API or to the extension itself, or a local DNS lookup. */
export function isOwnTraffic(span: Span, ownPorts: ReadonlySet<number>): boolean {
  const meta = span.meta;
  const url = meta['http.url'];
  if (url !== undefined) {
    const m = /^[a-z]+:\/\/([^/:?#]+|\[[^\]]+\])(?::(\d+))?/i.exec(url);
    if (m !== null && LOCAL_HOSTS.has((m[1] ?? '').replace(/^\[|\]$/g, '')) && ownPorts.has(Number(m[2] ?? '80'))) return true;
  }
  const host = meta['tcp.remote.host'] ?? meta['out.host'] ?? meta['network.destination.name'] ?? meta['network.destination.ip'];
  // Tracers put ports in meta or, as numbers, in metrics (dd-trace's net plugin does the latter).
  const m = span.metrics;
  const port = portOf(meta['tcp.remote.port'] ?? meta['network.destination.port'] ?? meta['out.port']) ?? m['tcp.remote.port'] ?? m['network.destination.port'] ?? m['out.port'];
  if (host !== undefined && LOCAL_HOSTS.has(host) && port !== undefined && ownPorts.has(port)) return true;
  const dns = meta['dns.address'];
  if (dns !== undefined && LOCAL_DNS.has(dns)) return true;
  if (span.name === 'dns.lookup') {
    const h = meta['dns.hostname'] ?? span.resource;
    if (LOCAL_DNS.has(h) || h === 'localhost') return true;
  }
  return false;
}

export class TraceProcessor {
  readonly #o: ProcessorOptions;
  readonly #ownPorts: ReadonlySet<number>;
  readonly #functionTag: string;
  /** Only the sandbox's first aws.lambda.load is linked to the cold-start span. */
  #loadLinked = false;
  readonly counters: ProcessCounters = { tracesIn: 0, spansIn: 0, chunksOut: 0, spansOut: 0, droppedTraces: {}, droppedSpans: 0 };

  constructor(o: ProcessorOptions) {
    this.#o = o;
    this.#ownPorts = new Set(o.ownPorts);
    this.#functionTag = Object.entries(o.tags)
      .map(([k, v]) => `${k}:${v}`)
      .join(',');
  }

  #drop(reason: ChunkDropReason): void {
    this.counters.droppedTraces[reason] = (this.counters.droppedTraces[reason] ?? 0) + 1;
  }

  /** One tracer request's traces → the TracerPayload shipped for it (possibly with no chunks). */
  process(traces: Span[][], info: TracerInfo, nowNs: bigint = BigInt(Date.now()) * 1_000_000n): TracerPayload {
    const chunks: Chunk[] = [];
    let first: Span | undefined;
    for (const spans of traces) {
      this.counters.tracesIn++;
      this.counters.spansIn += spans.length;
      const chunk = this.#chunk(spans, info, nowNs);
      if (chunk === undefined) continue;
      first ??= chunk.spans[0];
      chunks.push(chunk);
      this.counters.chunksOut++;
      this.counters.spansOut += chunk.spans.length;
    }
    const tags: Record<string, string> = {};
    if (this.#functionTag !== '') tags['_dd.tags.function'] = this.#functionTag;
    return {
      info,
      runtimeId: first?.meta['runtime-id'] ?? '',
      env: first?.meta['env'] ?? this.#o.env ?? '',
      appVersion: first?.meta['version'] ?? this.#o.version ?? '',
      hostname: '',
      chunks,
      tags,
    };
  }

  #chunk(spans: Span[], info: TracerInfo, nowNs: bigint): Chunk | undefined {
    const bad = normalizeTrace(spans, nowNs);
    if (bad !== undefined) {
      this.#drop(bad);
      return undefined;
    }
    markTopLevel(spans, info.clientComputedTopLevel);
    const root = rootOf(spans) as Span;
    if (!passesFilters(root, this.#o.require, this.#o.reject)) {
      this.#drop('filtered');
      return undefined;
    }
    const chunk = makeChunk(spans, root);
    const kept = this.#dropOwn(spans);
    if (kept.length === 0) {
      this.#drop('empty_after_drops');
      return undefined;
    }
    chunk.spans = kept;
    if (chunk.origin === '') chunk.origin = this.#o.origin ?? 'lambda';
    const statsByBackend = !info.clientComputedStats && !this.#o.computeStats;
    for (const s of kept) this.#decorate(s, statsByBackend);
    return chunk;
  }

  /**
   * Removes own-traffic spans (their children move to their parent) and placeholders (their children
   * keep the placeholder's id: the extension's aws.lambda span takes it over).
   */
  #dropOwn(spans: Span[]): Span[] {
    let removed: Map<bigint, bigint> | undefined;
    let placeholders = 0;
    for (const s of spans) {
      if (s.resource === PLACEHOLDER_RESOURCE) {
        placeholders++;
        this.#reportPlaceholder(s);
      } else if (isOwnTraffic(s, this.#ownPorts)) {
        (removed ??= new Map()).set(s.spanId, s.parentId);
      } else if (s.name === COLD_START_LOAD_SPAN && !this.#loadLinked && this.#o.onTracerSpan) {
        this.#loadLinked = true;
        const id = (this.#o.newSpanId ?? randomSpanId)();
        this.#o.onTracerSpan({
          t: 'TRACER_SPAN',
          kind: 'cold-start-parent',
          requestId: s.meta['request_id'],
          traceId: s.traceId,
          spanId: id,
          parentId: s.parentId,
          meta: {},
          metrics: {},
        });
        s.parentId = id;
      }
      if (s.name === 'aws.lambda' && this.#o.onDurableContext !== undefined) this.#reportDurable(s);
    }
    if (removed === undefined && placeholders === 0) return spans;
    this.counters.droppedSpans += (removed?.size ?? 0) + placeholders;
    const kept: Span[] = [];
    for (const s of spans) {
      if (s.resource === PLACEHOLDER_RESOURCE || removed?.has(s.spanId) === true) continue;
      if (removed !== undefined) {
        let p = s.parentId;
        for (let hops = 0; removed.has(p) && hops < removed.size; hops++) p = removed.get(p) as bigint;
        s.parentId = p;
      }
      kept.push(s);
    }
    return kept;
  }

  #reportDurable(s: Span): void {
    const m = s.meta;
    const requestId = m['request_id'];
    const executionId = m['aws.durable.execution_id'];
    const executionName = m['aws.durable.execution_name'];
    if (requestId === undefined || executionId === undefined || executionName === undefined) return;
    const first = m['aws.durable.first_invocation'];
    this.#o.onDurableContext?.({
      t: 'DURABLE_CONTEXT',
      requestId,
      executionId,
      executionName,
      firstInvocation: first === undefined ? undefined : first === 'true',
      executionStatus: m['aws.durable.execution_status'],
    });
  }

  #reportPlaceholder(s: Span): void {
    this.#o.onTracerSpan?.({
      t: 'TRACER_SPAN',
      kind: 'placeholder',
      requestId: s.meta['request_id'],
      traceId: s.traceId,
      spanId: s.spanId,
      parentId: s.parentId,
      meta: { ...s.meta },
      metrics: { ...s.metrics },
    });
  }

  #decorate(s: Span, statsByBackend: boolean): void {
    if (s.service === 'aws.lambda' && this.#o.service !== undefined) s.service = this.#o.service;
    const meta = s.meta;
    // As bottlecap's trace_processor.rs: inferred spans name the service they were inferred for.
    if (this.#o.baseService !== undefined && meta['_inferred_span.tag_source'] !== undefined && meta['_dd.base_service'] === undefined) {
      meta['_dd.base_service'] = this.#o.baseService;
    }
    for (const k in this.#o.tags) meta[k] = this.#o.tags[k] as string;
    if (statsByBackend) meta['_dd.compute_stats'] = '1';
    // Both, as bottlecap sets them on every span (bottlecap/src/traces/trace_processor.rs).
    meta['_dd.origin'] = this.#o.origin ?? 'lambda';
    meta['origin'] = this.#o.origin ?? 'lambda';
    obfuscateSpan(s, this.#o.obfuscation);
  }
}
