// The DogStatsD pipeline as a worker unit: datagrams from the supervisor's UDP socket, lines from
// the trace agent's /dogstatsd/v2/proxy route, points from the extension's own units; shipped on
// the supervisor's FLUSH as v2 series, sketches, events and check runs.
import type { Config } from '@dd-lambda/config';
import { buildIntakeClient } from '@dd-lambda/intake-client';
import type { IntakeClient, IntakeOutcome } from '@dd-lambda/intake-client';
import type { Logger } from '@dd-lambda/logger';
import type { InvocationEvent, UnitMessage } from '@dd-lambda/protocol';
import type { FlushResult, FlushSignal, PipelineUnit, UnitContext } from '@dd-lambda/worker-host';
import { Aggregator } from './aggregator.js';
import type { AggregatorCounters } from './aggregator.js';
import { parseDatagram } from './parse.js';
import type { MalformedReason } from './parse.js';
import { checkRunBody, eventBody, seriesBatches, sketchBatches } from './serialize.js';

/** Distinct contexts held between flushes; new ones beyond it are dropped and counted. */
export const MAX_CONTEXTS = 50_000;
/** Payloads kept for the next flush after a retryable failure (5xx, 429, network). */
export const RETRY_BYTES = 16 * 1024 * 1024;
/** Sends in flight at once per flush. */
const CONCURRENCY = 4;

/** The extension's own invocation count (bottlecap counts it too); the library's copy is dropped. */
const INVOCATIONS = 'aws.lambda.enhanced.invocations';

const NAMESPACE_RE = /^[A-Za-z][A-Za-z0-9_.]*$/;

interface Payload {
  what: 'series' | 'sketches' | 'events' | 'check_run';
  path: string;
  contentType: string;
  compress: boolean;
  body: Buffer;
  points: number;
  /** Already copied to the additional endpoints (a retried payload is not copied twice). */
  copied?: boolean;
}

export interface DogStatsDOptions {
  config: Readonly<Config>;
  /** Function tags (`k` → `v`) as the supervisor computed them. */
  tags: Readonly<Record<string, string>>;
  logger: Logger;
  client?: IntakeClient;
  now?: () => number;
}

export interface DogStatsD extends PipelineUnit {
  readonly aggregator: Aggregator;
  /** Parse one datagram or proxy body (tests and the bench call it directly). */
  ingest(text: string): void;
}

function metricsNamespace(config: Readonly<Config>, logger: Logger): string | undefined {
  const ns = config.statsdMetricNamespace?.trim().replace(/\.+$/, '');
  if (ns === undefined || ns === '') return undefined;
  if (!NAMESPACE_RE.test(ns)) {
    logger.warn({ code: 'DSD_ERR_NAMESPACE', namespace: ns }, 'DD_STATSD_METRIC_NAMESPACE must start with a letter and hold only letters, digits, _ and .; ignored');
    return undefined;
  }
  return ns;
}

export function buildDogStatsD(opts: DogStatsDOptions): DogStatsD {
  const { config, logger } = opts;
  const now = opts.now ?? Date.now;
  const exclude = new Set(config.customerMetricsExcludeTags);
  const allTags = Object.entries(opts.tags).map(([k, v]) => `${k}:${v}`);
  const customTags = Object.entries(opts.tags).filter(([k]) => !exclude.has(k)).map(([k, v]) => `${k}:${v}`);
  const aggregator = new Aggregator({
    namespace: metricsNamespace(config, logger),
    customTags,
    extensionTags: allTags,
    maxContexts: MAX_CONTEXTS,
    dedupeLibraryInvocations: config.enhancedMetrics,
    now,
  });
  const client = opts.client ?? buildIntakeClient({ config, logger });
  const defaultHost = opts.tags['function_arn'] ?? config.aws.functionName;
  const targets: { base: string; apiKey: string | undefined }[] = [{ base: config.urls.metrics, apiKey: undefined }];
  for (const [url, keys] of Object.entries(config.additionalEndpoints)) {
    for (const key of keys) targets.push({ base: url.replace(/\/+$/, ''), apiKey: key });
  }
  let retry: Payload[] = [];
  let retryBytes = 0;
  let reported: AggregatorCounters = { ...aggregator.counters, malformedByReason: {} };
  const decoder = new TextDecoder();

  function ingest(text: string): void {
    parseDatagram(text, aggregator);
  }

  function build(): Payload[] {
    const taken = aggregator.take();
    const out: Payload[] = [];
    for (const b of seriesBatches(taken.contexts)) out.push({ what: 'series', path: '/api/v2/series', contentType: 'application/json', compress: true, body: b.body, points: b.points });
    for (const b of sketchBatches(taken.contexts)) out.push({ what: 'sketches', path: '/api/beta/sketches', contentType: 'application/x-protobuf', compress: true, body: b.body, points: b.points });
    for (const ev of taken.events) {
      out.push({ what: 'events', path: '/api/v1/events', contentType: 'application/json', compress: false, body: eventBody(ev, aggregator.tagsFor(ev.tags)), points: 1 });
    }
    if (taken.serviceChecks.length > 0) {
      const nowS = Math.floor(now() / 1000);
      const checks = taken.serviceChecks.map((check) => ({ check, tags: aggregator.tagsFor(check.tags) }));
      out.push({ what: 'check_run', path: '/api/v1/check_run', contentType: 'application/json', compress: false, body: checkRunBody(checks, defaultHost, nowS), points: checks.length });
    }
    return out;
  }

  async function ship(p: Payload, deadline: number): Promise<IntakeOutcome> {
    const send = (base: string, apiKey: string | undefined): Promise<IntakeOutcome> => client.send({
      url: base + p.path,
      body: p.body,
      contentType: p.contentType,
      encoding: 'zstd',
      level: p.compress ? config.metricsCompressionLevel : 0,
      deadline,
      ...(apiKey !== undefined ? { apiKey } : {}),
    });
    const [primary, ...extra] = targets;
    // Additional endpoints get one copy; only the primary's outcome decides keep or drop.
    if (p.copied) extra.length = 0;
    p.copied = true;
    for (const t of extra) {
      void send(t.base, t.apiKey).then((o) => {
        if (!o.ok) logger.warn({ code: o.error.code, endpoint: t.base, what: p.what }, `additional endpoint: ${o.error.message}`);
      });
    }
    return send(primary?.base ?? config.urls.metrics, undefined);
  }

  /** Log what input was dropped since the last flush; returns how many lines and points that was. */
  function logCounters(): number {
    const c = aggregator.counters;
    const malformed = c.malformed - reported.malformed;
    const overflow = c.overflow - reported.overflow;
    const truncated = c.tagsTruncated - reported.tagsTruncated;
    if (malformed > 0 || overflow > 0 || truncated > 0) {
      const byReason: Record<string, number> = {};
      for (const [reason, n] of Object.entries(c.malformedByReason)) {
        const delta = n - (reported.malformedByReason[reason as MalformedReason] ?? 0);
        if (delta > 0) byReason[reason] = delta;
      }
      logger.warn({
        code: 'DSD_ERR_DROPPED_INPUT',
        malformed,
        byReason,
        overflow,
        tagsTruncated: truncated,
        sample: aggregator.takeMalformedSample(),
      }, 'DogStatsD input dropped since the last flush (malformed lines, context or event cap, tags over 100)');
    }
    reported = { ...c, malformedByReason: { ...c.malformedByReason } };
    return malformed + overflow;
  }

  async function flush(signal: FlushSignal): Promise<FlushResult> {
    const inputDropped = logCounters();
    const queue = [...retry, ...build()];
    retry = [];
    retryBytes = 0;
    let sent = 0;
    let dropped = 0;
    const rejected = new Set<string>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < queue.length) {
        const p = queue[next++];
        if (!p) break;
        const out = await ship(p, signal.deadline);
        if (out.ok) { sent += p.points; continue; }
        if (out.retryable && retryBytes + p.body.length <= RETRY_BYTES) {
          retry.push(p);
          retryBytes += p.body.length;
          continue;
        }
        dropped += p.points;
        if (!rejected.has(p.what)) {
          rejected.add(p.what);
          logger.error({ code: out.error.code, what: p.what, status: out.status, points: p.points }, `metrics payload dropped: ${out.error.message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
    const pending = retry.reduce((n, p) => n + p.points, 0);
    if (pending > 0) logger.warn({ code: 'DSD_ERR_INTAKE_UNAVAILABLE', pending }, 'metrics intake unavailable; payloads kept for the next flush');
    return { sent, dropped: dropped + inputDropped, pending };
  }

  return {
    aggregator,
    ingest,
    datagrams(data, lengths) {
      let off = 0;
      for (const n of lengths) {
        ingest(data.toString('utf8', off, off + n));
        off += n;
      }
    },
    // Every INVOKE the platform hands out is one invocation, including those whose handler never
    // ran the library's wrapper (init errors, timeouts). The lifecycle pipeline will add the other
    // enhanced metrics; this count stays exact either way.
    invocation(event: InvocationEvent) {
      if (event.kind !== 'invoke' || !config.enhancedMetrics) return;
      aggregator.point(INVOCATIONS, 'distribution', 1, [], Math.floor(event.receivedAt / 1000));
    },
    message(_from: string, msg: UnitMessage) {
      if (msg.t === 'DSD_LINES') ingest(decoder.decode(msg.data));
      else if (msg.t === 'METRICS') for (const p of msg.points) aggregator.point(p.name, p.kind, p.value, p.tags, p.timestamp);
    },
    // No drain(): input arrives synchronously (datagrams, messages), so nothing is in flight
    // between flushes and the final flush sees everything.
    flush,
  };
}

/** Worker-host entry: `units/dogstatsd.cjs` in the layer. */
export function createUnit(ctx: UnitContext): PipelineUnit {
  return buildDogStatsD({ config: ctx.config, tags: ctx.tags, logger: ctx.logger });
}
