// The trace agent's routes, as bottlecap serves them (DataDog/datadog-lambda-extension,
// bottlecap/src/traces/trace_agent.rs): the tracer endpoints, /info, the DogStatsD proxy and the APM
// proxies. Each request is decoded here and handed to the agent's buffers.
import type { Config } from '@dd-lambda/config';
import type { SendToUnit } from '@dd-lambda/protocol';
import { header } from '@dd-lambda/worker-host/http';
import type { RawBodyApp, RawReply, RawRequest } from '@dd-lambda/worker-host/http';
import { decodeV04, decodeV05 } from './decode.js';
import type { ProxyPending } from './parcels.js';
import { PROXY_ROUTES, forwardedHeaders, proxyUrl } from './proxy.js';
import type { Span, TracerInfo } from './span.js';
import { decodeClientStats } from './stats-payload.js';
import type { ClientStatsPayload } from './stats-payload.js';
import { MSGPACK_TYPES, headerTrue, mediaType, tracerInfo } from './tracer-info.js';
import type { SpanDeduper } from './dedup.js';

const MiB = 1024 * 1024;
/** Request body limits, as Datadog's extension sets them. */
export const MAX_TRACE_BODY = 50 * MiB;
export const MAX_STATS_BODY = 2 * MiB;
export const MAX_PROXY_BODY = 2 * MiB;

const RATE_BY_SERVICE = '{"rate_by_service":{}}';
export const TEXT = 'text/plain; charset=utf-8';

export const INFO_ENDPOINTS: readonly string[] = ['/v0.4/traces', '/v0.5/traces', '/v0.6/stats', '/info', '/dogstatsd/v2/proxy', ...PROXY_ROUTES.map((r) => r.path)];

export interface ReceiverCounters {
  requests: number;
  badRequests: number;
  overflowRequests: number;
  statsPayloads: number;
  proxied: number;
  dogstatsdProxied: number;
}

export interface Receiver {
  app: RawBodyApp;
  config: Readonly<Config>;
  counters: ReceiverCounters;
  /** Processes one request's traces into the pending buffer; false when it was full (dropped, counted). */
  enqueue(traces: Span[][], info: TracerInfo): boolean;
  /** Spans a tracer sent twice ship once. */
  dedup: SpanDeduper;
  addStats(stats: ClientStatsPayload): void;
  /** False when the proxy buffer is full. */
  addProxy(p: ProxyPending): boolean;
  send?: SendToUnit | undefined;
}

export function addRoutes(d: Receiver): void {
  function traces(version: 'v0.4' | 'v0.5') {
    return (req: RawRequest): RawReply => {
      d.counters.requests++;
      const type = mediaType(req);
      if (!MSGPACK_TYPES.has(type)) {
        d.counters.badRequests++;
        return { status: 415, type: TEXT, body: `unsupported Content-Type "${type}" for /${version}/traces: send application/msgpack` };
      }
      const body = req.body;
      // An empty request (a tracer's connectivity probe) is accepted as zero traces.
      if (body === undefined || body.length === 0) return { type: 'application/json', body: RATE_BY_SERVICE };
      const decoded: Span[][] = version === 'v0.4' ? decodeV04(body) : decodeV05(body);
      if (!d.enqueue(d.dedup.filter(decoded), tracerInfo(req)) && headerTrue(header(req, 'datadog-send-real-http-status'))) {
        return { status: 429, type: TEXT, body: 'trace buffer full; payload dropped' };
      }
      return { type: 'application/json', body: RATE_BY_SERVICE };
    };
  }

  for (const version of ['v0.4', 'v0.5'] as const) d.app.route(['PUT', 'POST'], `/${version}/traces`, { bodyLimit: MAX_TRACE_BODY }, traces(version));

  d.app.route(['PUT', 'POST'], '/v0.6/stats', { bodyLimit: MAX_STATS_BODY }, (req) => {
    if (req.body !== undefined && req.body.length > 0) {
      const stats = decodeClientStats(req.body);
      if (stats !== undefined) {
        d.addStats(stats);
        d.counters.statsPayloads++;
      }
    }
    return { status: 202, type: TEXT, body: 'Successfully buffered stats to be aggregated.' };
  });

  const info = JSON.stringify({
    endpoints: INFO_ENDPOINTS,
    client_drop_p0s: false,
    span_meta_structs: true,
    config: { statsd_port: d.config.ports.dogstatsd, receiver_port: d.config.ports.apm },
  });
  d.app.route(['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'PATCH', 'OPTIONS'], '/info', { bodyLimit: MAX_PROXY_BODY }, () => ({ type: 'application/json', body: info }));

  // dd-trace sends its DogStatsD lines here first; they join the DogStatsD pipeline unparsed.
  d.app.route(['POST'], '/dogstatsd/v2/proxy', { bodyLimit: MAX_PROXY_BODY }, (req) => {
    const body = req.body;
    if (body !== undefined && body.length > 0 && d.send !== undefined) {
      const data = new ArrayBuffer(body.length);
      new Uint8Array(data).set(body);
      d.send('dogstatsd', { t: 'DSD_LINES', data }, [data]);
      d.counters.dogstatsdProxied++;
    }
    return { status: 200, body: '' };
  });

  for (const route of PROXY_ROUTES) {
    d.app.route(['POST'], route.path, { bodyLimit: MAX_PROXY_BODY }, (req) => {
      const body = req.body ?? Buffer.alloc(0);
      const accepted = d.addProxy({
        what: `proxy ${route.path}`,
        url: proxyUrl(route, d.config.site, d.config.urls.apmProxy),
        body,
        contentType: header(req, 'content-type') || 'application/octet-stream',
        headers: forwardedHeaders(req.headers, d.config.aws.functionName, d.config.origin),
      });
      if (!accepted) {
        d.counters.overflowRequests++;
        return { status: headerTrue(header(req, 'datadog-send-real-http-status')) ? 429 : 200, type: TEXT, body: `proxy buffer full; ${route.path} request dropped` };
      }
      d.counters.proxied++;
      return { status: 200, type: TEXT, body: `Acknowledged request for ${route.path}` };
    });
  }
}
