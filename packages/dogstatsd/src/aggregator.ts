// Contexts keyed by type + name + tags + 10 s bucket. Counts sum (scaled by 1/sample rate), gauges
// keep the last value, sets count unique members, and d/h/ms feed the agent's sketch. Everything
// accumulated is handed over at once by `take()`; the flush ships it.
import { AgentSketch } from './sketch.js';
import type { DsdEvent, DsdServiceCheck, DsdSink, MalformedReason, WireType } from './parse.js';

export const BUCKET_S = 10;
/** Tags kept per metric (bottlecap's limit); the rest are dropped and counted. */
export const MAX_TAGS = 100;
/**
 * The enhanced metric the Datadog Lambda libraries send that the extension's lifecycle unit also counts
 * (one per INVOKE): the library's copy is dropped so each invocation counts once, as bottlecap does
 * (DataDog/serverless-components, crates/dogstatsd/src/dogstatsd.rs). The library's `.errors` is kept:
 * it is the only count of an invocation that returned a 5xx response (datadog-lambda-js
 * src/index.ts), which the platform reports as a success; a thrown error is then counted by both, as
 * Datadog's extension counts it.
 */
export const LIBRARY_DUPLICATES: ReadonlySet<string> = new Set(['aws.lambda.enhanced.invocations']);

export type ContextKind = 'count' | 'gauge' | 'set' | 'distribution';

export interface Resource {
  name: string;
  type: string;
}

interface TagEntry {
  key: string;
  tags: string[];
  resources: Resource[];
  /** Fast path: the last context seen per metric name with these tags, valid for one window (`gen`). */
  byName: Map<string, Context>;
  gen: number;
}

export interface Context {
  name: string;
  kind: ContextKind;
  /** Bucket start, unix seconds. */
  bucket: number;
  tags: string[];
  resources: Resource[];
  value: number;
  members: Set<string> | undefined;
  sketch: AgentSketch | undefined;
}

export interface AggregatorOptions {
  /** DD_STATSD_METRIC_NAMESPACE, already validated. */
  namespace?: string | undefined;
  /** `k:v` tags added to DogStatsD metrics (function tags minus DD_LAMBDA_CUSTOMER_METRICS_EXCLUDE_TAGS). */
  customTags: readonly string[];
  /** `k:v` tags added to the extension's own metrics (all function tags). */
  extensionTags: readonly string[];
  maxContexts: number;
  /** Drop the library's LIBRARY_DUPLICATES (the extension's enhanced metrics count them). */
  dedupeLibraryEnhanced: boolean;
  now?: () => number;
}

export interface AggregatorCounters {
  lines: number;
  points: number;
  events: number;
  serviceChecks: number;
  malformed: number;
  malformedByReason: Partial<Record<MalformedReason, number>>;
  overflow: number;
  tagsTruncated: number;
  deduplicated: number;
}

export interface Taken {
  contexts: Context[];
  events: DsdEvent[];
  serviceChecks: DsdServiceCheck[];
}

export const MAX_EVENTS = 1000;
const TAG_CACHE_MAX = 8192;
const KIND_OF: Readonly<Record<WireType, ContextKind>> = { c: 'count', g: 'gauge', s: 'set', d: 'distribution', h: 'distribution', ms: 'distribution' };

export class Aggregator implements DsdSink {
  readonly counters: AggregatorCounters = {
    lines: 0,
    points: 0,
    events: 0,
    serviceChecks: 0,
    malformed: 0,
    malformedByReason: {},
    overflow: 0,
    tagsTruncated: 0,
    deduplicated: 0,
  };
  #contexts = new Map<string, Context>();
  #events: DsdEvent[] = [];
  #checks: DsdServiceCheck[] = [];
  readonly #tagCache = new Map<string, TagEntry>();
  readonly #extensionTagCache = new Map<string, TagEntry>();
  readonly #o: AggregatorOptions;
  readonly #prefix: string;
  readonly #now: () => number;
  #sampleMalformed: string | undefined;
  /** Window generation, bumped by take(); stale per-tag fast-path maps are reset lazily. */
  #gen = 0;
  /** Unix seconds, refreshed once per datagram (batch()) rather than per line. */
  #nowS: number;

  constructor(opts: AggregatorOptions) {
    this.#o = opts;
    this.#prefix = opts.namespace ? `${opts.namespace}.` : '';
    this.#now = opts.now ?? Date.now;
    this.#nowS = Math.floor(this.#now() / 1000);
  }

  batch(): void {
    this.#nowS = Math.floor(this.#now() / 1000);
  }

  get size(): number {
    return this.#contexts.size;
  }

  /** One malformed line seen since the last call, for the flush log (never more than one per flush). */
  takeMalformedSample(): string | undefined {
    const s = this.#sampleMalformed;
    this.#sampleMalformed = undefined;
    return s;
  }

  metric(name: string, type: WireType, values: string, rate: number, rawTags: string, timestamp: number): void {
    this.counters.lines++;
    if (this.#o.dedupeLibraryEnhanced && LIBRARY_DUPLICATES.has(name)) {
      this.counters.deduplicated++;
      return;
    }
    const kind = KIND_OF[type];
    const entry = this.#tags(rawTags, this.#tagCache, this.#o.customTags);
    const bucket = this.#bucket(timestamp);
    const fullName = this.#prefix + name;
    if (kind === 'set') {
      // Packing is not defined for sets: the whole field is one member.
      const ctx = this.#context(fullName, kind, bucket, entry);
      if (ctx) {
        ctx.members ??= new Set();
        ctx.members.add(values);
        this.counters.points++;
      }
      return;
    }
    if (values.indexOf(':') === -1) {
      const v = Number(values);
      if (!Number.isFinite(v)) return this.malformed('bad_value', `${name}:${values}|${type}`);
      const ctx = this.#context(fullName, kind, bucket, entry);
      if (!ctx) return;
      this.#apply(ctx, v, rate);
      this.counters.points++;
      return;
    }
    let from = 0;
    let parsed: number[] | undefined;
    // Packed values (protocol 1.1): validate all before touching state, so a bad one drops the line.
    for (;;) {
      const sep = values.indexOf(':', from);
      const raw = values.slice(from, sep === -1 ? values.length : sep);
      const v = raw === '' ? NaN : Number(raw);
      if (!Number.isFinite(v)) return this.malformed('bad_value', `${name}:${values}|${type}`);
      (parsed ??= []).push(v);
      if (sep === -1) break;
      from = sep + 1;
    }
    const ctx = this.#context(fullName, kind, bucket, entry);
    if (!ctx) return;
    for (const v of parsed) this.#apply(ctx, v, rate);
    this.counters.points += parsed.length;
  }

  /** A point from another unit of the extension (enhanced metrics): full function tags, never deduplicated. */
  point(name: string, kind: 'count' | 'gauge' | 'distribution', value: number, tags: readonly string[], timestamp: number): void {
    if (!Number.isFinite(value)) return this.malformed('bad_value', `${name}:${value}`);
    this.batch();
    const raw = tags.join(',');
    const entry = this.#tags(raw, this.#extensionTagCache, this.#o.extensionTags);
    const ctx = this.#context(name, kind, this.#bucket(timestamp), entry);
    if (!ctx) return;
    this.#apply(ctx, value, 1);
    this.counters.points++;
  }

  event(event: DsdEvent): void {
    this.counters.lines++;
    if (this.#events.length >= MAX_EVENTS) {
      this.counters.overflow++;
      return;
    }
    this.counters.events++;
    this.#events.push(event);
  }

  serviceCheck(check: DsdServiceCheck): void {
    this.counters.lines++;
    if (this.#checks.length >= MAX_EVENTS) {
      this.counters.overflow++;
      return;
    }
    this.counters.serviceChecks++;
    this.#checks.push(check);
  }

  malformed(reason: MalformedReason, line: string): void {
    this.counters.lines++;
    this.counters.malformed++;
    this.counters.malformedByReason[reason] = (this.counters.malformedByReason[reason] ?? 0) + 1;
    this.#sampleMalformed ??= line.length > 200 ? `${line.slice(0, 200)}…` : line;
  }

  /** Hand over everything accumulated and start empty. */
  take(): Taken {
    const out: Taken = { contexts: [...this.#contexts.values()], events: this.#events, serviceChecks: this.#checks };
    this.#contexts = new Map();
    this.#gen++;
    this.#events = [];
    this.#checks = [];
    return out;
  }

  /** Tags processed for events and service checks (function tags added, internal tags removed). */
  tagsFor(raw: string): string[] {
    return this.#tags(raw, this.#tagCache, this.#o.customTags).tags;
  }

  #apply(ctx: Context, v: number, rate: number): void {
    switch (ctx.kind) {
      case 'count':
        ctx.value += v / rate;
        break;
      case 'gauge':
        ctx.value = v;
        break;
      case 'distribution':
        // The agent inserts a sampled value 1/rate times (truncated, at least once).
        (ctx.sketch ??= new AgentSketch()).insert(v, Math.max(1, Math.trunc(1 / rate)));
        break;
      case 'set':
        break;
    }
  }

  #bucket(timestamp: number): number {
    const now = this.#nowS;
    const ts = timestamp > 0 && timestamp <= now ? timestamp : now; // future → now
    return ts - (ts % BUCKET_S);
  }

  #context(name: string, kind: ContextKind, bucket: number, tags: TagEntry): Context | undefined {
    if (tags.gen !== this.#gen) {
      tags.byName = new Map();
      tags.gen = this.#gen;
    }
    let ctx = tags.byName.get(name);
    if (ctx && ctx.kind === kind && ctx.bucket === bucket) return ctx;
    const key = `${kind}\0${name}\0${bucket}\0${tags.key}`;
    ctx = this.#contexts.get(key);
    if (ctx) {
      tags.byName.set(name, ctx);
      return ctx;
    }
    if (this.#contexts.size >= this.#o.maxContexts) {
      this.counters.overflow++;
      return undefined;
    }
    ctx = { name, kind, bucket, tags: tags.tags, resources: tags.resources, value: 0, members: undefined, sketch: undefined };
    this.#contexts.set(key, ctx);
    tags.byName.set(name, ctx);
    return ctx;
  }

  #tags(raw: string, cache: Map<string, TagEntry>, added: readonly string[]): TagEntry {
    const hit = cache.get(raw);
    if (hit) return hit;
    const own: string[] = [];
    const resources: Resource[] = [];
    let from = 0;
    while (from <= raw.length && raw !== '') {
      let comma = raw.indexOf(',', from);
      if (comma === -1) comma = raw.length;
      const tag = raw.slice(from, comma);
      from = comma + 1;
      if (tag === '') continue;
      if (tag.startsWith('dd.internal.')) {
        // dd.internal.resource:<type>:<name> becomes a series resource; other internal tags
        // (entity id for origin detection) mean nothing in Lambda.
        if (tag.startsWith('dd.internal.resource:')) {
          const rest = tag.slice('dd.internal.resource:'.length);
          const c = rest.indexOf(':');
          if (c > 0 && c < rest.length - 1) resources.push({ type: rest.slice(0, c), name: rest.slice(c + 1) });
        }
        continue;
      }
      if (own.length >= MAX_TAGS) {
        this.counters.tagsTruncated++;
        continue;
      }
      own.push(tag);
    }
    let key = [...new Set(own)].sort().join(',');
    for (const r of resources) key += `\0${r.type}:${r.name}`;
    const entry: TagEntry = { key, tags: [...new Set([...own, ...added])].sort(), resources, byName: new Map(), gen: this.#gen };
    if (cache.size >= TAG_CACHE_MAX) cache.clear();
    cache.set(raw, entry);
    return entry;
  }
}
