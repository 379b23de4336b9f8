// The parcels a flush hands to the Outbox: tracer payloads batched per tracer into AgentPayloads, the
// stats payloads, and the buffered APM proxy requests. Pure: the agent owns the buffers.
import { EXTENSION_VERSION } from '@dd-lambda/config';
import type { Parcel } from '@dd-lambda/intake-client';
import { MAX_BATCH_BYTES, agentPayload, framedSize } from './encode.js';
import type { TracerInfo } from './span.js';
import { statsPayloadBody } from './stats-payload.js';
import type { ClientStatsPayload } from './stats-payload.js';
import { infoKey, outboundHeaders } from './tracer-info.js';
import { cutBatches, mirrorsAt } from '@dd-lambda/intake-client';
import type { MirrorBase } from '@dd-lambda/intake-client';

/** One tracer request, processed and encoded, waiting for the flush. */
export interface Pending {
  info: TracerInfo;
  bytes: Uint8Array;
  spans: number;
}

export interface ProxyPending {
  what: string;
  url: string;
  body: Buffer;
  contentType: string;
  headers: Record<string, string>;
}

export interface ParcelTargets {
  /** The trace intake's base URL. */
  apmUrl: string;
  /** zstd level of trace payloads. */
  level: number;
  env: string;
  /** DD_APM_ADDITIONAL_ENDPOINTS: base URLs and keys that get a copy of every trace payload. */
  mirrors: readonly MirrorBase[];
}

/** Tracer payloads grouped by tracer (each batch carries its tracer's headers) and cut at the intake's size. */
export function traceParcels(pending: readonly Pending[], t: ParcelTargets): Parcel[] {
  const groups = new Map<string, Pending[]>();
  for (const p of pending) {
    const k = infoKey(p.info);
    const g = groups.get(k);
    if (g) g.push(p);
    else groups.set(k, [p]);
  }
  const out: Parcel[] = [];
  for (const group of groups.values()) {
    // 32 bytes: the AgentPayload header.
    for (const batch of cutBatches(group, (p) => framedSize(p.bytes.length), { maxBytes: MAX_BATCH_BYTES, overheadBytes: 32 })) {
      const first = batch[0] as Pending;
      const droppedTraces = batch.reduce((n, p) => n + p.info.droppedP0Traces, 0);
      const droppedSpans = batch.reduce((n, p) => n + p.info.droppedP0Spans, 0);
      out.push({
        what: 'traces',
        count: batch.reduce((n, p) => n + p.spans, 0),
        request: {
          url: `${t.apmUrl}/api/v0.2/traces`,
          body: agentPayload(batch.map((p) => p.bytes)),
          contentType: 'application/x-protobuf',
          encoding: 'zstd',
          level: t.level,
          headers: outboundHeaders(first.info, droppedTraces, droppedSpans),
        },
        mirrors: mirrorsAt(t.mirrors, '/api/v0.2/traces'),
      });
    }
  }
  return out;
}

/** Stats payloads: the tracers' own (client-computed), then ours when the extension computes them. */
export function statsParcels(tracerStats: readonly ClientStatsPayload[], own: ClientStatsPayload | undefined, t: ParcelTargets): Parcel[] {
  const out: Parcel[] = [];
  const statsRequest = (stats: readonly ClientStatsPayload[], clientComputed: boolean): Parcel => ({
    what: 'stats',
    count: stats.reduce((n, s) => n + s.Stats.reduce((m, b) => m + b.Stats.length, 0), 0),
    request: {
      url: `${t.apmUrl}/api/v0.2/stats`,
      body: statsPayloadBody([...stats], clientComputed, t.env, EXTENSION_VERSION),
      contentType: 'application/msgpack',
      encoding: 'gzip',
      level: 6,
      accept: (s) => s === 202,
    },
  });
  if (tracerStats.length > 0) out.push(statsRequest(tracerStats, true));
  if (own !== undefined) out.push(statsRequest([own], false));
  return out;
}

/** Buffered APM proxy requests (profiles, debugger, ...), forwarded as they came. */
export function proxyParcels(proxies: readonly ProxyPending[]): Parcel[] {
  return proxies.map((p): Parcel => ({
    what: p.what,
    count: 1,
    request: { url: p.url, body: p.body, contentType: p.contentType, encoding: 'identity', level: 0, headers: p.headers },
  }));
}
