// The DogStatsD pipeline as a worker unit: datagrams from the supervisor's UDP socket, lines from
// the trace agent's /dogstatsd/v2/proxy route, points from the extension's own units; shipped on
// the supervisor's FLUSH as v2 series, sketches, events and check runs.
import type { Config } from '@dd-lambda/config';
import { DropLedger, Outbox, buildIntakeClient, mirrorBases, mirrorsAt, total } from '@dd-lambda/intake-client';
import type { IntakeClient, Parcel } from '@dd-lambda/intake-client';
import type { Logger } from '@dd-lambda/logger';
import type { UnitMessage } from '@dd-lambda/protocol';
import type { FlushResult, FlushSignal, PipelineUnit, UnitContext } from '@dd-lambda/worker-host';
import { Aggregator } from './aggregator.js';
import { parseDatagram } from './parse.js';
import { checkRunBody, eventBody, seriesBatches, sketchBatches } from './serialize.js';
import type { DogStatsDErrorCode } from './errors.js';

/** Distinct contexts held between flushes; new ones beyond it are dropped and counted. */
export const MAX_CONTEXTS = 50_000;

const NAMESPACE_RE = /^[A-Za-z][A-Za-z0-9_.]*$/;

export interface DogStatsDOptions {
  config: Readonly<Config>;
  /** Function tags (`k` → `v`) as the supervisor computed them. */
  tags: Readonly<Record<string, string>>;
  logger: Logger;
  client?: IntakeClient;
  /** The intake refused the API key (403): tell the supervisor, which may resolve it again. */
  onKeyRejected?: () => void;
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
    logger.warn(
      { code: 'DSD_ERR_NAMESPACE' satisfies DogStatsDErrorCode, namespace: ns },
      'DD_STATSD_METRIC_NAMESPACE must start with a letter and hold only letters, digits, _ and .; ignored',
    );
    return undefined;
  }
  return ns;
}

export function buildDogStatsD(opts: DogStatsDOptions): DogStatsD {
  const { config, logger } = opts;
  const now = opts.now ?? Date.now;
  const exclude = new Set(config.customerMetricsExcludeTags);
  const allTags = Object.entries(opts.tags).map(([k, v]) => `${k}:${v}`);
  const customTags = Object.entries(opts.tags)
    .filter(([k]) => !exclude.has(k))
    .map(([k, v]) => `${k}:${v}`);
  const aggregator = new Aggregator({
    namespace: metricsNamespace(config, logger),
    customTags,
    extensionTags: allTags,
    maxContexts: MAX_CONTEXTS,
    dedupeLibraryEnhanced: config.enhancedMetrics,
    now,
  });
  const client = opts.client ?? buildIntakeClient({ config, logger, ...(opts.onKeyRejected ? { onForbidden: opts.onKeyRejected } : {}) });
  const defaultHost = opts.tags['function_arn'] ?? config.aws.functionName;
  const mirrors = mirrorBases(config.additionalEndpoints);
  const outbox = new Outbox({ client, logger });
  const drops = new DropLedger();
  const malformedDrops = new DropLedger();
  const decoder = new TextDecoder();

  function ingest(text: string): void {
    parseDatagram(text, aggregator);
  }

  function parcel(what: string, path: string, contentType: string, compress: boolean, body: Buffer, count: number): Parcel {
    return {
      what,
      count,
      request: { url: config.urls.metrics + path, body, contentType, encoding: 'zstd', level: compress ? config.metricsCompressionLevel : 0 },
      mirrors: mirrorsAt(mirrors, path),
    };
  }

  function build(): Parcel[] {
    const taken = aggregator.take();
    const out: Parcel[] = [];
    for (const b of seriesBatches(taken.contexts)) out.push(parcel('series', '/api/v2/series', 'application/json', true, b.body, b.points));
    for (const b of sketchBatches(taken.contexts)) out.push(parcel('sketches', '/api/beta/sketches', 'application/x-protobuf', true, b.body, b.points));
    for (const ev of taken.events) out.push(parcel('events', '/api/v1/events', 'application/json', false, eventBody(ev, aggregator.tagsFor(ev.tags)), 1));
    if (taken.serviceChecks.length > 0) {
      const nowS = Math.floor(now() / 1000);
      const checks = taken.serviceChecks.map((check) => ({ check, tags: aggregator.tagsFor(check.tags) }));
      out.push(parcel('check_run', '/api/v1/check_run', 'application/json', false, checkRunBody(checks, defaultHost, nowS), checks.length));
    }
    return out;
  }

  /** Log what input was dropped since the last flush; returns how many lines and points that was. */
  function logCounters(): number {
    const c = aggregator.counters;
    const d = drops.take({ malformed: c.malformed, overflow: c.overflow, tagsTruncated: c.tagsTruncated });
    const byReason = malformedDrops.take(c.malformedByReason);
    if (total(d) > 0) {
      logger.warn(
        {
          code: 'DSD_ERR_DROPPED_INPUT' satisfies DogStatsDErrorCode,
          malformed: d['malformed'] ?? 0,
          byReason,
          overflow: d['overflow'] ?? 0,
          tagsTruncated: d['tagsTruncated'] ?? 0,
          sample: aggregator.takeMalformedSample(),
        },
        'DogStatsD input dropped since the last flush (malformed lines, context or event cap, tags over 100)',
      );
    }
    return (d['malformed'] ?? 0) + (d['overflow'] ?? 0);
  }

  async function flush(signal: FlushSignal): Promise<FlushResult> {
    const inputDropped = logCounters();
    const res = await outbox.ship(build(), signal.deadline, signal.reason === 'shutdown');
    return { sent: res.sent, dropped: res.dropped + inputDropped, pending: res.pending };
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
  return buildDogStatsD({ config: ctx.config, tags: ctx.tags, logger: ctx.logger, onKeyRejected: () => ctx.keyRejected() });
}
