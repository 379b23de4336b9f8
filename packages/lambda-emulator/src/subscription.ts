// A Telemetry API subscription request, checked as Lambda checks it: schema version, types,
// buffering limits and a destination on the sandbox host.
import { ErrorType } from './errors.js';
import type { TelemetryType } from './telemetry.js';

export const SCHEMA_VERSIONS = ['2022-07-01', '2022-12-13', '2025-01-29'] as const;
export type SchemaVersion = (typeof SCHEMA_VERSIONS)[number];

export const BUFFERING_LIMITS = {
  maxItems: { min: 1000, max: 10_000, default: 10_000 },
  maxBytes: { min: 262_144, max: 1_048_576, default: 262_144 },
  timeoutMs: { min: 25, max: 30_000, default: 1000 },
} as const;

export interface SubscriptionRequest {
  schemaVersion: SchemaVersion;
  types: TelemetryType[];
  buffering: { maxItems: number; maxBytes: number; timeoutMs: number };
  host: string;
  port: number;
  path: string;
}

export type Validation = { ok: true; value: SubscriptionRequest } | { ok: false; errorType: string; message: string };

const SANDBOX_HOSTS = new Set(['sandbox', 'sandbox.localdomain']);

/** Validates a subscription body as the Telemetry API does; `managed` allows 2025-01-29 only. */
export function validateSubscription(body: unknown, managed: boolean): Validation {
  const bad = (message: string): Validation => ({ ok: false, errorType: ErrorType.ValidationError, message });
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return bad('request body must be a JSON object');
  const b = body as Record<string, unknown>;
  const sv = b.schemaVersion;
  if (typeof sv !== 'string' || !(SCHEMA_VERSIONS as readonly string[]).includes(sv)) {
    return bad(`schemaVersion must be one of ${SCHEMA_VERSIONS.join(', ')}`);
  }
  if (managed && sv !== '2025-01-29') return bad('Lambda Managed Instances accept schemaVersion 2025-01-29 only');
  if (!Array.isArray(b.types) || b.types.length === 0) return bad('types should not be empty');
  for (const t of b.types) {
    if (t !== 'platform' && t !== 'function' && t !== 'extension') return bad(`unknown telemetry type ${JSON.stringify(t)}`);
  }
  const buffering = { maxItems: 0, maxBytes: 0, timeoutMs: 0 };
  const bin = b.buffering ?? {};
  if (bin === null || typeof bin !== 'object') return bad('buffering must be an object');
  for (const key of ['maxItems', 'maxBytes', 'timeoutMs'] as const) {
    const lim = BUFFERING_LIMITS[key];
    const v = (bin as Record<string, unknown>)[key] ?? lim.default;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lim.min || v > lim.max) {
      return bad(`buffering.${key} must be an integer from ${lim.min} to ${lim.max}`);
    }
    buffering[key] = v;
  }
  const d = b.destination as Record<string, unknown> | undefined;
  if (!d || typeof d !== 'object') return bad('destination is required');
  if (d.protocol !== 'HTTP') return bad('destination.protocol must be HTTP');
  if (typeof d.URI !== 'string') return bad('destination.URI is required');
  let url: URL;
  try {
    url = new URL(d.URI);
  } catch {
    return bad(`destination.URI is not a URL: ${d.URI}`);
  }
  if (url.protocol !== 'http:') return bad('destination.URI must use http');
  if (!SANDBOX_HOSTS.has(url.hostname)) return bad('destination.URI host must be sandbox.localdomain (or sandbox)');
  if (url.port === '') return bad('URI port is not provided');
  return {
    ok: true,
    value: {
      schemaVersion: sv as SchemaVersion,
      types: [...new Set(b.types as TelemetryType[])],
      buffering,
      host: url.hostname,
      port: Number(url.port),
      path: url.pathname + url.search,
    },
  };
}
