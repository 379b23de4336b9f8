// The trace agent as a service, in stages: receiver.ts (routes, decoding) → the buffers here (processed
// and encoded payloads, stats, proxy requests, bounded) → parcels.ts (batches per tracer) → the Outbox.
// The HTTP app never listens itself (the supervisor owns the sockets and hands connections over).
// Decoding, processing and encoding run inline on this worker's thread: the bench (bench/traces.mjs) puts a 200-span request well under a millisecond,
// far below what a pool hop would cost; the README has the figures.
import type { Duplex } from 'node:stream';
import { isNativeAccelerationEnabled } from 'msgpackr';
import { EXTENSION_VERSION } from '@dd-lambda/config';
import type { Config } from '@dd-lambda/config';
import { DropLedger, Outbox, buildIntakeClient, mirrorBases, total } from '@dd-lambda/intake-client';
import type { IntakeClient } from '@dd-lambda/intake-client';
import type { Logger } from '@dd-lambda/logger';
import type { DurableContextMessage, SendToUnit, TcpIngress, TracerSpanMessage, UnitMessage } from '@dd-lambda/protocol';
import type { FlushResult, FlushSignal } from '@dd-lambda/worker-host';
import { RawBodyApp } from '@dd-lambda/worker-host/http';
import { encodeTracerPayload } from './encode.js';
import { TraceAgentError } from './errors.js';
import type { TraceAgentErrorCode } from './errors.js';
import { parseReplaceRules } from './obfuscate/index.js';
import { TraceProcessor, parseFilters } from './process.js';
import type { TagFilter } from './process.js';
import { proxyParcels, statsParcels, traceParcels } from './parcels.js';
import type { ParcelTargets, Pending, ProxyPending } from './parcels.js';
import { TEXT, addRoutes } from './receiver.js';
import type { ReceiverCounters } from './receiver.js';
import { PRIORITY_NONE } from './span.js';
import type { Span, TracerInfo, TracerPayload } from './span.js';
import { StatsConcentrator } from './stats.js';
import { APPSEC_WAIT_MS, AppSecVerdicts } from './appsec.js';
import { SpanDeduper } from './dedup.js';
import type { ClientStatsPayload } from './stats-payload.js';
import type { OtlpCounters } from './otlp/http.js';
import type { OtlpReceiver } from './otlp/receiver.js';

export { MAX_TRACE_BODY, MAX_STATS_BODY, MAX_PROXY_BODY, INFO_ENDPOINTS } from './receiver.js';
export { tracerInfo } from './tracer-info.js';

const MiB = 1024 * 1024;
/** Encoded trace payloads held between flushes; beyond it requests are dropped (429 with real status). */
export const MAX_PENDING_BYTES = 32 * MiB;
/** Proxy request bodies held between flushes. */
export const MAX_PROXY_PENDING_BYTES = 16 * MiB;

export interface TraceAgentOptions {
  config: Readonly<Config>;
  tags: Readonly<Record<string, string>>;
  logger: Logger;
  client?: IntakeClient;
  /** The intake refused the API key (403): tell the supervisor, which may resolve it again. */
  onKeyRejected?: () => void;
  /** Where /dogstatsd/v2/proxy lines and placeholder / cold-start links go (the unit context's send). */
  send?: SendToUnit;
  now?: () => number;
}

/** `overflowRequests`: tracer (or proxy) requests dropped because their buffer was full. */
export type TraceAgentCounters = ReceiverCounters & OtlpCounters;

export interface TraceAgent {
  readonly app: RawBodyApp;
  readonly processor: TraceProcessor;
  readonly counters: TraceAgentCounters;
  ready(): Promise<void>;
  /** Serve one connection handed over by the supervisor (or a test); `apm` unless an OTLP ingress. */
  connection(socket: Duplex, ingress?: TcpIngress): void;
  message(from: string, msg: UnitMessage): void;
  flush(signal: FlushSignal): Promise<FlushResult>;
  /** Wait until no request is in flight (SHUTDOWN), or the deadline. */
  drain(deadline: number): Promise<void>;
  close(): Promise<void>;
}

function filtersFrom(config: Readonly<Config>, logger: Logger): { require: TagFilter[]; reject: TagFilter[] } {
  const parts = [
    parseFilters(config.apmFilterTagsRequire, false),
    parseFilters(config.apmFilterTagsRegexRequire, true),
    parseFilters(config.apmFilterTagsReject, false),
    parseFilters(config.apmFilterTagsRegexReject, true),
  ] as const;
  for (const p of parts) for (const e of p.errors) logger.warn({ code: e.code }, `${e.message}; entry ignored`);
  return { require: [...parts[0].filters, ...parts[1].filters], reject: [...parts[2].filters, ...parts[3].filters] };
}

export function buildTraceAgent(opts: TraceAgentOptions): TraceAgent {
  const { config, logger } = opts;
  const now = opts.now ?? Date.now;
  const client = opts.client ?? buildIntakeClient({ config, logger, ...(opts.onKeyRejected ? { onForbidden: opts.onKeyRejected } : {}) });
  const outbox = new Outbox({ client, logger });
  const replace = parseReplaceRules(config.apmReplaceTags);
  for (const e of replace.errors) logger.warn({ code: e.code }, `${e.message}; rule ignored`);
  const { require, reject } = filtersFrom(config, logger);
  // The layer ships msgpackr's native string addon for its architecture (1.4x faster decoding).
  logger.debug({ nativeAddon: isNativeAccelerationEnabled }, 'msgpack decoder');
  const ownPorts = [config.ports.apm, config.ports.dogstatsd, config.ports.lifecycle, config.ports.telemetry];
  const runtimePort = Number(config.aws.runtimeApi?.split(':')[1] ?? '9001');
  if (Number.isInteger(runtimePort)) ownPorts.push(runtimePort);
  const processor = new TraceProcessor({
    tags: opts.tags,
    service: config.service,
    env: config.env,
    version: config.version,
    computeStats: config.computeStats,
    origin: config.origin,
    baseService: config.traceAwsServiceRepresentationEnabled ? (config.service ?? config.aws.functionName).toLowerCase() : 'aws.lambda',
    require,
    reject,
    ownPorts,
    ...(opts.send !== undefined ? { onTracerSpan: (m: TracerSpanMessage) => opts.send?.('lifecycle', m) } : {}),
    // Only when the logs unit runs and holds logs for it (DD_LAMBDA_DURABLE_FUNCTION_LOG_BUFFER_SIZE > 0).
    ...(opts.send !== undefined && config.logsEnabled && config.durableFunctionLogBufferSize > 0 ? { onDurableContext: (m: DurableContextMessage) => opts.send?.('logs', m) } : {}),
    obfuscation: {
      httpRemoveQueryString: config.apmObfuscationHttpRemoveQueryString,
      httpRemovePathsWithDigits: config.apmObfuscationHttpRemovePathsWithDigits,
      ...config.apmObfuscation,
      replace: replace.rules,
    },
  });
  const concentrator = config.computeStats ? new StatsConcentrator({ env: config.env ?? 'unknown-env', version: config.version ?? '', now }) : undefined;
  const targets: ParcelTargets = {
    apmUrl: config.urls.apm,
    level: config.apmCompressionLevel,
    env: config.env ?? '',
    mirrors: mirrorBases(config.apmAdditionalEndpoints),
  };
  const counters: TraceAgentCounters = {
    requests: 0,
    badRequests: 0,
    overflowRequests: 0,
    statsPayloads: 0,
    proxied: 0,
    dogstatsdProxied: 0,
    otlpRequests: 0,
    otlpBadRequests: 0,
    otlpSpans: 0,
  };

  let pending: Pending[] = [];
  let pendingBytes = 0;
  let tracerStats: ClientStatsPayload[] = [];
  let proxies: ProxyPending[] = [];
  let proxyBytes = 0;
  let droppedSinceFlush = 0;
  const verdicts = new AppSecVerdicts();
  const dedup = new SpanDeduper();

  // Every error is a clear text answer; the tracer logs it and carries on.
  const app = new RawBodyApp({
    onError: (err) => {
      counters.badRequests++;
      const own = err instanceof TraceAgentError ? (err.code === 'TA_ERR_TOO_LARGE' ? 413 : 400) : undefined;
      const status = own ?? (err as { status?: number }).status ?? 500;
      if (status >= 500) logger.error({ err }, 'trace receiver failed on a request');
      return { status, type: TEXT, body: err.message };
    },
  });

  /**
   * Processes one request's traces (or other units' spans) and holds the encoded payload for the next
   * flush. False when the pending buffer is full and the payload was dropped (counted).
   */
  function enqueue(traces: Span[][], info: TracerInfo): boolean {
    const payload = processor.process(traces, info, BigInt(now()) * 1_000_000n);
    if (concentrator !== undefined && !info.clientComputedStats) {
      concentrator.add(payload);
      // Stats now count them; sampled-out chunks need not travel (bottlecap drops them too).
      payload.chunks = payload.chunks.filter((c) => c.priority > 0 || c.priority === PRIORITY_NONE);
    }
    if (payload.chunks.length === 0 && info.droppedP0Traces === 0) return true;
    // An invocation whose AppSec verdict is still coming waits for it (bounded; see appsec.ts).
    if (verdicts.hold(payload)) return true;
    return store(payload);
  }

  /** Encodes a processed payload into the pending buffer; false when the buffer is full (counted). */
  function store(payload: TracerPayload): boolean {
    const spans = payload.chunks.reduce((n, c) => n + c.spans.length, 0);
    const bytes = encodeTracerPayload(payload);
    if (pendingBytes + bytes.length > MAX_PENDING_BYTES) {
      counters.overflowRequests++;
      droppedSinceFlush += spans;
      if (counters.overflowRequests === 1 || counters.overflowRequests % 100 === 0) {
        logger.warn({ code: 'TA_ERR_DROPPED', pendingBytes, dropped: counters.overflowRequests }, 'trace buffer full; tracer request dropped');
      }
      return false;
    }
    pending.push({ info: payload.info, bytes, spans });
    pendingBytes += bytes.length;
    return true;
  }

  addRoutes({
    app,
    config,
    counters,
    enqueue,
    dedup,
    addStats: (stats) => tracerStats.push(stats),
    addProxy: (p) => {
      if (proxyBytes + p.body.length > MAX_PROXY_PENDING_BYTES) return false;
      proxies.push(p);
      proxyBytes += p.body.length;
      return true;
    },
    send: opts.send,
  });

  // OTLP, only when an endpoint is configured: its modules load in ready(), off the path of a function that does not use it.
  let otlp: OtlpReceiver | undefined;
  const otlpBad = (err: Error): void => logger.debug({ code: (err as TraceAgentError).code, err: err.message }, 'OTLP request refused');

  /** Empties the buffers into this flush's parcels. */
  function takeParcels(final: boolean): ReturnType<typeof traceParcels> {
    const out = [...traceParcels(pending, targets), ...statsParcels(tracerStats, concentrator?.flush(final), targets), ...proxyParcels(proxies)];
    pending = [];
    pendingBytes = 0;
    tracerStats = [];
    proxies = [];
    proxyBytes = 0;
    return out;
  }

  /** Intended drops (filters, the extension's own traffic) are not losses: debug, and not reported as dropped. */
  const INTENDED = new Set(['filtered', 'empty_after_drops']);
  const drops = new DropLedger();
  function logDrops(): number {
    const lost: Record<string, number> = {};
    const intended: Record<string, number> = {};
    for (const [k, d] of Object.entries(drops.take(processor.counters.droppedTraces))) (INTENDED.has(k) ? intended : lost)[k] = d;
    const n = total(lost);
    if (n > 0) logger.warn({ code: 'TA_ERR_DROPPED' satisfies TraceAgentErrorCode, byReason: lost }, 'traces dropped by normalization since the last flush');
    if (Object.keys(intended).length > 0) logger.debug({ byReason: intended }, 'traces filtered since the last flush');
    return n;
  }

  return {
    app,
    processor,
    counters,
    async ready() {
      if (config.otlp.httpPort === undefined && config.otlp.grpcPort === undefined) return;
      const { buildOtlpReceiver } = await import('./otlp/receiver.js');
      otlp = buildOtlpReceiver(config.otlp, counters, enqueue, otlpBad);
    },
    connection(socket, ingress = 'apm') {
      if (ingress === 'otlp-http' || ingress === 'otlp-grpc') {
        if (otlp !== undefined) otlp.connection(socket, ingress);
        else socket.destroy();
      } else app.connection(socket);
    },
    message(_from, msg) {
      if (msg.t === 'APPSEC') {
        for (const p of verdicts.onMessage(msg)) store(p);
        return;
      }
      if (msg.t !== 'SPANS') return;
      // Spans made by other units (aws.lambda, inferred spans): plain objects with bigint ids.
      const info: TracerInfo = {
        lang: '',
        langVersion: '',
        langInterpreter: '',
        langVendor: '',
        tracerVersion: EXTENSION_VERSION,
        containerId: '',
        clientComputedTopLevel: false,
        clientComputedStats: false,
        droppedP0Traces: 0,
        droppedP0Spans: 0,
      };
      const byTrace = new Map<bigint, Span[]>();
      for (const d of msg.spans) {
        const s: Span = { ...d, metaStruct: undefined, spanLinks: undefined };
        const t = byTrace.get(s.traceId);
        if (t) t.push(s);
        else byTrace.set(s.traceId, [s]);
      }
      enqueue([...byTrace.values()], info);
    },
    async flush(signal) {
      const final = signal.reason === 'shutdown';
      for (const p of await verdicts.release(APPSEC_WAIT_MS)) store(p);
      const dropped = logDrops() + droppedSinceFlush;
      droppedSinceFlush = 0;
      const res = await outbox.ship(takeParcels(final), signal.deadline, final);
      return { sent: res.sent, dropped: res.dropped + dropped, pending: res.pending };
    },
    async drain(deadline) {
      await Promise.all([app.drain(deadline), otlp?.drain(deadline)]);
    },
    async close() {
      await app.close();
      await otlp?.close();
      await client.close();
    },
  };
}
