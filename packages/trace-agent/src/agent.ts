// The trace agent as a service: an HTTP app that never listens itself (the supervisor owns the
// sockets and hands connections over), the processing of every tracer request as it arrives, and
// the flush that ships what was buffered. Decoding, processing and encoding run inline on this
// worker's thread: the bench (bench/traces.mjs) puts a 200-span request well under a millisecond,
// far below what a pool hop would cost; the README has the figures.
import type { Duplex } from 'node:stream';
import { isNativeAccelerationEnabled } from 'msgpackr';
import { EXTENSION_VERSION } from '@dd-lambda/config';
import type { Config } from '@dd-lambda/config';
import { Outbox, buildIntakeClient } from '@dd-lambda/intake-client';
import type { IntakeClient, Parcel } from '@dd-lambda/intake-client';
import type { Logger } from '@dd-lambda/logger';
import type { SendToUnit, TracerSpanMessage, UnitMessage } from '@dd-lambda/protocol';
import type { FlushResult, FlushSignal } from '@dd-lambda/worker-host';
import { RawBodyApp, header } from '@dd-lambda/worker-host/http';
import type { RawReply, RawRequest } from '@dd-lambda/worker-host/http';
import { decodeV04, decodeV05 } from './decode.js';
import { MAX_BATCH_BYTES, agentPayload, encodeTracerPayload, framedSize } from './encode.js';
import { TraceAgentError } from './errors.js';
import { parseReplaceRules } from './obfuscate/index.js';
import { TraceProcessor, parseFilters } from './process.js';
import type { TagFilter } from './process.js';
import { PROXY_ROUTES, forwardedHeaders, proxyUrl } from './proxy.js';
import { PRIORITY_NONE } from './span.js';
import type { Span, TracerInfo } from './span.js';
import { StatsConcentrator } from './stats.js';
import { decodeClientStats, statsPayloadBody } from './stats-payload.js';
import type { ClientStatsPayload } from './stats-payload.js';

const MiB = 1024 * 1024;
/** Request body limits, as Datadog's extension sets them. */
export const MAX_TRACE_BODY = 50 * MiB;
export const MAX_STATS_BODY = 2 * MiB;
export const MAX_PROXY_BODY = 2 * MiB;
/** Encoded trace payloads held between flushes; beyond it requests are dropped (429 with real status). */
export const MAX_PENDING_BYTES = 32 * MiB;
/** Payloads kept for a later flush after a retryable intake failure. */
export const RETRY_BYTES = 16 * MiB;
/** Proxy request bodies held between flushes. */
export const MAX_PROXY_PENDING_BYTES = 16 * MiB;

const RATE_BY_SERVICE = '{"rate_by_service":{}}';

export const INFO_ENDPOINTS: readonly string[] = ['/v0.4/traces', '/v0.5/traces', '/v0.6/stats', '/info', '/dogstatsd/v2/proxy', ...PROXY_ROUTES.map((r) => r.path)];

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

export interface TraceAgentCounters {
  requests: number;
  badRequests: number;
  /** Tracer requests dropped because the pending buffer was full. */
  overflowRequests: number;
  statsPayloads: number;
  proxied: number;
  dogstatsdProxied: number;
}

interface Pending {
  info: TracerInfo;
  bytes: Uint8Array;
  spans: number;
}

interface ProxyPending {
  what: string;
  url: string;
  body: Buffer;
  contentType: string;
  headers: Record<string, string>;
}

export interface TraceAgent {
  readonly app: RawBodyApp;
  readonly processor: TraceProcessor;
  readonly counters: TraceAgentCounters;
  ready(): Promise<void>;
  /** Serve one connection handed over by the supervisor (or a test). */
  connection(socket: Duplex): void;
  message(from: string, msg: UnitMessage): void;
  flush(signal: FlushSignal): Promise<FlushResult>;
  /** Wait until no request is in flight (SHUTDOWN), or the deadline. */
  drain(deadline: number): Promise<void>;
  close(): Promise<void>;
}

/** Go's isHeaderTrue: empty, 0, f, false (any case) are false; anything else is true. */
function headerTrue(v: string): boolean {
  const s = v.trim().toLowerCase();
  return s !== '' && s !== '0' && s !== 'f' && s !== 'false';
}

function count(v: string): number {
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? Math.trunc(n) : 0;
}

export function tracerInfo(req: Pick<RawRequest, 'headers'>): TracerInfo {
  return {
    lang: header(req, 'datadog-meta-lang'),
    langVersion: header(req, 'datadog-meta-lang-version'),
    langInterpreter: header(req, 'datadog-meta-lang-interpreter'),
    langVendor: header(req, 'datadog-meta-lang-vendor'),
    tracerVersion: header(req, 'datadog-meta-tracer-version'),
    containerId: header(req, 'datadog-container-id'),
    clientComputedTopLevel: headerTrue(header(req, 'datadog-client-computed-top-level')),
    clientComputedStats: headerTrue(header(req, 'datadog-client-computed-stats')),
    droppedP0Traces: count(header(req, 'datadog-client-dropped-p0-traces')),
    droppedP0Spans: count(header(req, 'datadog-client-dropped-p0-spans')),
  };
}

/** Outbound headers of a traces request: the tracer's own, as bottlecap forwards them. */
function outboundHeaders(info: TracerInfo, droppedTraces: number, droppedSpans: number): Record<string, string> {
  const h: Record<string, string> = { 'datadog-send-real-http-status': '1' };
  const set = (k: string, v: string): void => {
    if (v !== '') h[k] = v;
  };
  set('datadog-meta-lang', info.lang);
  set('datadog-meta-lang-version', info.langVersion);
  set('datadog-meta-lang-interpreter', info.langInterpreter);
  set('datadog-meta-lang-vendor', info.langVendor);
  set('datadog-meta-tracer-version', info.tracerVersion);
  set('datadog-container-id', info.containerId);
  if (info.clientComputedStats) h['datadog-client-computed-stats'] = 'true';
  if (info.clientComputedTopLevel) h['datadog-client-computed-top-level'] = 'true';
  if (droppedTraces > 0) h['datadog-client-dropped-p0-traces'] = String(droppedTraces);
  if (droppedSpans > 0) h['datadog-client-dropped-p0-spans'] = String(droppedSpans);
  return h;
}

function infoKey(i: TracerInfo): string {
  return [i.lang, i.langVersion, i.langInterpreter, i.langVendor, i.tracerVersion, i.containerId, i.clientComputedStats, i.clientComputedTopLevel].join('\u0000');
}

const MSGPACK_TYPES = new Set(['', 'application/msgpack', 'application/x-msgpack', 'application/octet-stream']);

function mediaType(req: RawRequest): string {
  return header(req, 'content-type').split(';')[0]?.trim().toLowerCase() ?? '';
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
  const outbox = new Outbox({ client, logger, maxBytes: RETRY_BYTES });
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
    require,
    reject,
    ownPorts,
    ...(opts.send !== undefined ? { onTracerSpan: (m: TracerSpanMessage) => opts.send?.('lifecycle', m) } : {}),
    obfuscation: {
      httpRemoveQueryString: config.apmObfuscationHttpRemoveQueryString,
      httpRemovePathsWithDigits: config.apmObfuscationHttpRemovePathsWithDigits,
      ...config.apmObfuscation,
      replace: replace.rules,
    },
  });
  const concentrator = config.computeStats ? new StatsConcentrator({ env: config.env ?? 'unknown-env', version: config.version ?? '', now }) : undefined;
  const mirrors = Object.entries(config.apmAdditionalEndpoints).flatMap(([url, keys]) => keys.map((apiKey) => ({ base: url.replace(/\/+$/, ''), apiKey })));
  const counters: TraceAgentCounters = { requests: 0, badRequests: 0, overflowRequests: 0, statsPayloads: 0, proxied: 0, dogstatsdProxied: 0 };

  let pending: Pending[] = [];
  let pendingBytes = 0;
  let tracerStats: ClientStatsPayload[] = [];
  let proxies: ProxyPending[] = [];
  let proxyBytes = 0;
  let droppedSinceFlush = 0;

  const TEXT = 'text/plain; charset=utf-8';
  // Every error is a clear text answer; the tracer logs it and carries on.
  const app = new RawBodyApp({
    onError: (err) => {
      counters.badRequests++;
      const own = err instanceof TraceAgentError ? (err.code === 'TA_ERR_TOO_LARGE' ? 413 : 400) : undefined;
      const status = own ?? ((err as { status?: number }).status ?? 500);
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
    pending.push({ info, bytes, spans });
    pendingBytes += bytes.length;
    return true;
  }

  function traces(version: 'v0.4' | 'v0.5') {
    return (req: RawRequest): RawReply => {
      counters.requests++;
      const type = mediaType(req);
      if (!MSGPACK_TYPES.has(type)) {
        counters.badRequests++;
        return { status: 415, type: TEXT, body: `unsupported Content-Type "${type}" for /${version}/traces: send application/msgpack` };
      }
      const body = req.body;
      // An empty request (a tracer's connectivity probe) is accepted as zero traces.
      if (body === undefined || body.length === 0) return { type: 'application/json', body: RATE_BY_SERVICE };
      const decoded: Span[][] = version === 'v0.4' ? decodeV04(body) : decodeV05(body);
      if (!enqueue(decoded, tracerInfo(req)) && headerTrue(header(req, 'datadog-send-real-http-status'))) {
        return { status: 429, type: TEXT, body: 'trace buffer full; payload dropped' };
      }
      return { type: 'application/json', body: RATE_BY_SERVICE };
    };
  }

  for (const version of ['v0.4', 'v0.5'] as const) app.route(['PUT', 'POST'], `/${version}/traces`, { bodyLimit: MAX_TRACE_BODY }, traces(version));

  app.route(['PUT', 'POST'], '/v0.6/stats', { bodyLimit: MAX_STATS_BODY }, (req) => {
    if (req.body !== undefined && req.body.length > 0) {
      const stats = decodeClientStats(req.body);
      if (stats !== undefined) {
        tracerStats.push(stats);
        counters.statsPayloads++;
      }
    }
    return { status: 202, type: TEXT, body: 'Successfully buffered stats to be aggregated.' };
  });

  const info = JSON.stringify({ endpoints: INFO_ENDPOINTS, client_drop_p0s: false, span_meta_structs: true, config: { statsd_port: config.ports.dogstatsd, receiver_port: config.ports.apm } });
  app.route(['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'PATCH', 'OPTIONS'], '/info', { bodyLimit: MAX_PROXY_BODY }, () => ({ type: 'application/json', body: info }));

  // dd-trace sends its DogStatsD lines here first; they join the DogStatsD pipeline unparsed.
  app.route(['POST'], '/dogstatsd/v2/proxy', { bodyLimit: MAX_PROXY_BODY }, (req) => {
    const body = req.body;
    if (body !== undefined && body.length > 0 && opts.send !== undefined) {
      const data = new ArrayBuffer(body.length);
      new Uint8Array(data).set(body);
      opts.send('dogstatsd', { t: 'DSD_LINES', data }, [data]);
      counters.dogstatsdProxied++;
    }
    return { status: 200, body: '' };
  });

  for (const route of PROXY_ROUTES) {
    app.route(['POST'], route.path, { bodyLimit: MAX_PROXY_BODY }, (req) => {
      const body = req.body ?? Buffer.alloc(0);
      if (proxyBytes + body.length > MAX_PROXY_PENDING_BYTES) {
        counters.overflowRequests++;
        return { status: headerTrue(header(req, 'datadog-send-real-http-status')) ? 429 : 200, type: TEXT, body: `proxy buffer full; ${route.path} request dropped` };
      }
      proxies.push({
        what: `proxy ${route.path}`,
        url: proxyUrl(route, config.site, config.urls.apmProxy),
        body,
        contentType: header(req, 'content-type') || 'application/octet-stream',
        headers: forwardedHeaders(req.headers, config.aws.functionName),
      });
      proxyBytes += body.length;
      counters.proxied++;
      return { status: 200, type: TEXT, body: `Acknowledged request for ${route.path}` };
    });
  }

  function traceParcels(): Parcel[] {
    const groups = new Map<string, Pending[]>();
    for (const p of pending) {
      const k = infoKey(p.info);
      const g = groups.get(k);
      if (g) g.push(p);
      else groups.set(k, [p]);
    }
    pending = [];
    pendingBytes = 0;
    const out: Parcel[] = [];
    for (const group of groups.values()) {
      let batch: Pending[] = [];
      let size = 32; // the AgentPayload header
      const cut = (): void => {
        if (batch.length === 0) return;
        const first = batch[0] as Pending;
        const droppedTraces = batch.reduce((n, p) => n + p.info.droppedP0Traces, 0);
        const droppedSpans = batch.reduce((n, p) => n + p.info.droppedP0Spans, 0);
        out.push({
          what: 'traces',
          count: batch.reduce((n, p) => n + p.spans, 0),
          request: {
            url: `${config.urls.apm}/api/v0.2/traces`,
            body: agentPayload(batch.map((p) => p.bytes)),
            contentType: 'application/x-protobuf',
            encoding: 'zstd',
            level: config.apmCompressionLevel,
            headers: outboundHeaders(first.info, droppedTraces, droppedSpans),
          },
          mirrors: mirrors.map((m) => ({ url: `${m.base}/api/v0.2/traces`, apiKey: m.apiKey })),
        });
        batch = [];
        size = 32;
      };
      for (const p of group) {
        const add = framedSize(p.bytes.length);
        if (size + add > MAX_BATCH_BYTES) cut();
        batch.push(p);
        size += add;
      }
      cut();
    }
    return out;
  }

  function statsParcels(final: boolean): Parcel[] {
    const out: Parcel[] = [];
    const statsRequest = (stats: ClientStatsPayload[], clientComputed: boolean): Parcel => ({
      what: 'stats',
      count: stats.reduce((n, s) => n + s.Stats.reduce((m, b) => m + b.Stats.length, 0), 0),
      request: {
        url: `${config.urls.apm}/api/v0.2/stats`,
        body: statsPayloadBody(stats, clientComputed, config.env ?? '', EXTENSION_VERSION),
        contentType: 'application/msgpack',
        encoding: 'gzip',
        level: 6,
        accept: (s) => s === 202,
      },
    });
    if (tracerStats.length > 0) {
      out.push(statsRequest(tracerStats, true));
      tracerStats = [];
    }
    const own = concentrator?.flush(final);
    if (own !== undefined) out.push(statsRequest([own], false));
    return out;
  }

  function proxyParcels(): Parcel[] {
    const out = proxies.map((p): Parcel => ({
      what: p.what,
      count: 1,
      request: { url: p.url, body: p.body, contentType: p.contentType, encoding: 'identity', level: 0, headers: p.headers },
    }));
    proxies = [];
    proxyBytes = 0;
    return out;
  }

  /** Intended drops (filters, the extension's own traffic) are not losses: debug, and not reported as dropped. */
  const INTENDED = new Set(['filtered', 'empty_after_drops']);
  let logged = { ...processor.counters.droppedTraces };
  function logDrops(): number {
    const c = processor.counters.droppedTraces;
    const lost: Record<string, number> = {};
    const intended: Record<string, number> = {};
    let n = 0;
    for (const [k, v] of Object.entries(c)) {
      const d = v - (logged[k as keyof typeof logged] ?? 0);
      if (d <= 0) continue;
      if (INTENDED.has(k)) intended[k] = d;
      else {
        lost[k] = d;
        n += d;
      }
    }
    if (n > 0) logger.warn({ code: 'TA_ERR_DROPPED', byReason: lost }, 'traces dropped by normalization since the last flush');
    if (Object.keys(intended).length > 0) logger.debug({ byReason: intended }, 'traces filtered since the last flush');
    logged = { ...c };
    return n;
  }

  return {
    app,
    processor,
    counters,
    ready: () => Promise.resolve(),
    connection(socket) {
      app.connection(socket);
    },
    message(_from, msg) {
      if (msg.t !== 'SPANS') return;
      // Spans made by other units (aws.lambda, inferred spans): plain objects with bigint ids.
      const info: TracerInfo = { lang: '', langVersion: '', langInterpreter: '', langVendor: '', tracerVersion: EXTENSION_VERSION, containerId: '', clientComputedTopLevel: false, clientComputedStats: false, droppedP0Traces: 0, droppedP0Spans: 0 };
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
      const dropped = logDrops() + droppedSinceFlush;
      droppedSinceFlush = 0;
      const res = await outbox.ship([...traceParcels(), ...statsParcels(final), ...proxyParcels()], signal.deadline, final);
      return { sent: res.sent, dropped: res.dropped + dropped, pending: res.pending };
    },
    drain(deadline) {
      return app.drain(deadline);
    },
    async close() {
      await app.close();
      await client.close();
    },
  };
}
