// The intake routes the fake serves: method, content type, size limits, the strict decoder of each
// payload kind and the answer Datadog gives. Paths outside the table are 404, never silently accepted.
import { decodeCheckRuns, decodeEvent, decodeLogs, decodeSeries, decodeSketches, decodeStats, decodeTraces } from './decode.js';
import type { PayloadKind } from './types.js';

export const MiB = 1024 * 1024;

export interface Route {
  kind: PayloadKind;
  methods: readonly string[];
  /** Accepted media types (parameters such as charset are ignored); undefined = any. */
  contentTypes?: readonly string[];
  decode?: (body: Buffer) => unknown;
  /** Limits on the wire and after decompression. */
  maxWireBytes: number;
  maxBodyBytes: number;
  ok: { status: number; body: string };
}

const accepted = { status: 202, body: '{}' };

/** The routes, with the limits Datadog documents for each intake. */
export const ROUTES: Readonly<Record<string, Route>> = {
  '/api/v0.2/traces': {
    kind: 'traces',
    methods: ['POST'],
    contentTypes: ['application/x-protobuf'],
    decode: decodeTraces,
    maxWireBytes: 50 * MiB,
    maxBodyBytes: 50 * MiB,
    ok: accepted,
  },
  '/api/v0.2/stats': {
    kind: 'stats',
    methods: ['POST'],
    contentTypes: ['application/msgpack'],
    decode: decodeStats,
    maxWireBytes: 10 * MiB,
    maxBodyBytes: 50 * MiB,
    ok: accepted,
  },
  '/api/v2/series': {
    kind: 'series',
    methods: ['POST'],
    contentTypes: ['application/json'],
    decode: decodeSeries,
    // v2 series API: 512,000 bytes compressed, 5 MiB decompressed.
    maxWireBytes: 512_000,
    maxBodyBytes: 5 * MiB,
    ok: { status: 202, body: '{"errors":[]}' },
  },
  '/api/beta/sketches': {
    kind: 'sketches',
    methods: ['POST'],
    contentTypes: ['application/x-protobuf'],
    decode: decodeSketches,
    maxWireBytes: 62 * MiB,
    maxBodyBytes: 62 * MiB,
    ok: accepted,
  },
  '/api/v2/logs': {
    kind: 'logs',
    methods: ['POST'],
    contentTypes: ['application/json'],
    decode: decodeLogs,
    // Logs API: 5 MB per uncompressed payload.
    maxWireBytes: 5 * MiB,
    maxBodyBytes: 5 * MiB,
    ok: accepted,
  },
  '/api/v1/events': {
    kind: 'events',
    methods: ['POST'],
    contentTypes: ['application/json'],
    decode: decodeEvent,
    maxWireBytes: 512_000,
    maxBodyBytes: MiB,
    ok: { status: 202, body: '{"status":"ok"}' },
  },
  '/api/v1/check_run': {
    kind: 'check_run',
    methods: ['POST'],
    contentTypes: ['application/json'],
    decode: decodeCheckRuns,
    maxWireBytes: 512_000,
    maxBodyBytes: 5 * MiB,
    ok: { status: 202, body: '{"status":"ok"}' },
  },
  '/api/v1/validate': {
    kind: 'validate',
    methods: ['GET'],
    maxWireBytes: 0,
    maxBodyBytes: 0,
    ok: { status: 200, body: '{"valid":true}' },
  },
};

/** Targets of the trace agent's APM proxy routes: recorded raw, answered 202. */
export const PROXY_PATHS: readonly string[] = [
  '/api/v0.1/pipeline_stats',
  '/api/v2/profile',
  '/api/intake/llm-obs/v1/eval-metric',
  '/api/intake/llm-obs/v2/eval-metric',
  '/api/v2/llmobs',
  '/api/v2/debugger',
  '/api/v2/apmtelemetry',
];

export const proxyRoute: Route = { kind: 'proxy', methods: ['POST'], maxWireBytes: 50 * MiB, maxBodyBytes: 50 * MiB, ok: accepted };
