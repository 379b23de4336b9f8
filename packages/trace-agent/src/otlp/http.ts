// OTLP/HTTP (opentelemetry-proto docs/specification.md "OTLP/HTTP"): POST /v1/traces in protobuf or
// JSON, optionally gzip-compressed, answered in the request's encoding. A body that does not decode is
// a 400 (the exporter must not retry it); a full trace buffer is a 429 (it may); as bottlecap serves it
// (DataDog/datadog-lambda-extension, bottlecap/src/otlp/agent.rs), only on 127.0.0.1.
import { gunzipSync } from 'node:zlib';
import { RawBodyApp, header } from '@dd-lambda/worker-host/http';
import type { RawReply, RawRequest } from '@dd-lambda/worker-host/http';
import { TraceAgentError } from '../errors.js';
import { decodeOtlpJson } from './decode-json.js';
import { decodeOtlpProto, encodeRpcStatus } from './decode-proto.js';
import type { OtlpResourceSpans } from './model.js';

export const MAX_OTLP_BODY = 50 * 1024 * 1024;
const PROTO = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

/** Takes decoded OTLP spans; false when they could not be held (buffer full: retryable). */
export type OtlpSink = (request: OtlpResourceSpans[]) => boolean;

export interface OtlpCounters {
  otlpRequests: number;
  otlpBadRequests: number;
  otlpSpans: number;
}

/** The body, uncompressed (gzip only, as the OpenTelemetry exporters send it), bounded by `limit`. */
export function inflate(body: Buffer, encoding: string, limit: number): Buffer {
  const e = encoding.trim().toLowerCase();
  if (e === '' || e === 'identity') return body;
  if (e !== 'gzip') throw new TraceAgentError('TA_ERR_OTLP_DECODE', `unsupported content encoding "${encoding}" (gzip or none)`);
  try {
    return gunzipSync(body, { maxOutputLength: limit });
  } catch (err) {
    throw new TraceAgentError('TA_ERR_OTLP_DECODE', `the gzip body does not inflate within ${limit} bytes (${(err as Error).message})`);
  }
}

function reply(json: boolean, status: number, message: string): RawReply {
  // OTLP/HTTP errors carry a google.rpc.Status in the request's encoding; 400 maps to INVALID_ARGUMENT (3), 429/503 to UNAVAILABLE (14).
  const code = status === 400 || status === 415 ? 3 : 14;
  return json ? { status, type: JSON_TYPE, body: JSON.stringify({ code, message }) } : { status, type: PROTO, body: encodeRpcStatus(code, message) };
}

export function buildOtlpHttpApp(sink: OtlpSink, counters: OtlpCounters, onBadRequest: (err: Error) => void): RawBodyApp {
  const app = new RawBodyApp({
    onError: (err, req) => {
      counters.otlpBadRequests++;
      const json = header(req, 'content-type').toLowerCase().startsWith(JSON_TYPE);
      const status = err instanceof TraceAgentError ? 400 : ((err as { status?: number }).status ?? 500);
      onBadRequest(err);
      return reply(json, status, err.message);
    },
  });
  app.route(['POST'], '/v1/traces', { bodyLimit: MAX_OTLP_BODY }, (req: RawRequest) => {
    counters.otlpRequests++;
    const type = header(req, 'content-type').split(';')[0]?.trim().toLowerCase() ?? '';
    const json = type === JSON_TYPE;
    if (!json && type !== PROTO) {
      counters.otlpBadRequests++;
      return { status: 415, type: 'text/plain; charset=utf-8', body: `unsupported content type "${type}" (${PROTO} or ${JSON_TYPE})` };
    }
    const body = inflate(req.body ?? Buffer.alloc(0), header(req, 'content-encoding'), MAX_OTLP_BODY);
    const request = json ? decodeOtlpJson(body) : decodeOtlpProto(body);
    if (!sink(request)) return reply(json, 429, 'trace buffer full; retry later');
    // An empty ExportTraceServiceResponse: no partial_success.
    return json ? { type: JSON_TYPE, body: '{}' } : { type: PROTO, body: Buffer.alloc(0) };
  });
  return app;
}
