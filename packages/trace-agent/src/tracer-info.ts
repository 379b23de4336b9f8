// What a tracer's request says about the tracer (its Datadog-Meta-* and Datadog-Client-* headers), the
// key its payloads are batched under, and the headers a batch carries to the intake.
import { header } from '@dd-lambda/worker-host/http';
import type { RawRequest } from '@dd-lambda/worker-host/http';
import type { TracerInfo } from './span.js';

/** Go's isHeaderTrue: empty, 0, f, false (any case) are false; anything else is true. */
export function headerTrue(v: string): boolean {
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
export function outboundHeaders(info: TracerInfo, droppedTraces: number, droppedSpans: number): Record<string, string> {
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

export function infoKey(i: TracerInfo): string {
  return [i.lang, i.langVersion, i.langInterpreter, i.langVendor, i.tracerVersion, i.containerId, i.clientComputedStats, i.clientComputedTopLevel].join('\u0000');
}

export const MSGPACK_TYPES = new Set(['', 'application/msgpack', 'application/x-msgpack', 'application/octet-stream']);

export function mediaType(req: RawRequest): string {
  return header(req, 'content-type').split(';')[0]?.trim().toLowerCase() ?? '';
}
