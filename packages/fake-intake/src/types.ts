// Shapes of what the intake decodes. 64-bit integers stay bigint: trace and span ids and
// nanosecond timestamps do not fit in a double, and the intake must not round them.

export interface SpanLink {
  traceID: bigint;
  traceID_high: bigint;
  spanID: bigint;
  attributes: Record<string, string>;
  tracestate: string;
  flags: number;
}

export interface Span {
  service: string;
  name: string;
  resource: string;
  traceID: bigint;
  spanID: bigint;
  parentID: bigint;
  start: bigint;
  duration: bigint;
  error: number;
  meta: Record<string, string>;
  metrics: Record<string, number>;
  type: string;
  meta_struct: Record<string, Uint8Array>;
  spanLinks: SpanLink[];
}

export interface TraceChunk {
  priority: number;
  origin: string;
  spans: Span[];
  tags: Record<string, string>;
  droppedTrace: boolean;
}

export interface TracerPayload {
  containerID: string;
  languageName: string;
  languageVersion: string;
  tracerVersion: string;
  runtimeID: string;
  chunks: TraceChunk[];
  tags: Record<string, string>;
  env: string;
  hostname: string;
  appVersion: string;
  APMMode: string;
}

export interface AgentPayload {
  hostName: string;
  env: string;
  tracerPayloads: TracerPayload[];
  tags: Record<string, string>;
  agentVersion: string;
  targetTPS: number;
  errorTPS: number;
  rareSamplerEnabled: boolean;
  APMMode: string;
}

export interface Dogsketch {
  ts: bigint;
  cnt: bigint;
  min: number;
  max: number;
  avg: number;
  sum: number;
  k: number[];
  n: number[];
}

export interface Sketch {
  metric: string;
  host: string;
  tags: string[];
  distributions: unknown[];
  dogsketches: Dogsketch[];
  /** Origin metadata, when the sender set it. */
  metadata?: { origin?: MetricOrigin };
}

/** Where a metric comes from, as Datadog classifies it (product, category, service ids). */
export interface MetricOrigin {
  origin_product: number;
  origin_category: number;
  origin_service: number;
}

export interface SketchPayload {
  sketches: Sketch[];
  metadata: Record<string, unknown> | undefined;
}

/** One series of the v2 series API (`POST /api/v2/series`). */
export interface Series {
  metric: string;
  /** 0 unspecified, 1 count, 2 rate, 3 gauge (the v2 API's MetricIntakeType). */
  type: number;
  points: { timestamp: number; value: number }[];
  tags: string[];
  resources: { name: string; type: string }[];
  unit?: string;
  interval?: number;
  source_type_name?: string;
  metadata?: Record<string, unknown>;
}

export interface SeriesPayload {
  series: Series[];
}

/** One log of the logs intake (`POST /api/v2/logs`). Other keys are free-form attributes. */
export interface LogEntry {
  message: string;
  ddsource?: string;
  ddtags?: string;
  hostname?: string;
  service?: string;
  status?: string;
  timestamp?: number | string;
  [attribute: string]: unknown;
}

/** One event of the v1 events API (`POST /api/v1/events`). */
export interface EventPayload {
  title: string;
  text: string;
  date_happened?: number;
  host?: string;
  aggregation_key?: string;
  priority?: 'normal' | 'low';
  source_type_name?: string;
  alert_type?: 'error' | 'warning' | 'info' | 'success';
  tags?: string[];
}

/** One service check of the v1 check run API (`POST /api/v1/check_run`). */
export interface CheckRun {
  check: string;
  host_name: string;
  status: 0 | 1 | 2 | 3;
  timestamp?: number;
  message?: string;
  tags: string[];
}

export type StatsValue = string | bigint | boolean | Uint8Array | null | StatsValue[] | StatsObject;
export interface StatsObject {
  [key: string]: StatsValue;
}

export type PayloadKind = 'traces' | 'stats' | 'series' | 'sketches' | 'logs' | 'events' | 'check_run' | 'proxy' | 'validate' | 'unknown';

export interface RecordedRequest {
  seq: number;
  /** Unix epoch ms when the body was fully received. */
  receivedAt: number;
  method: string;
  path: string;
  kind: PayloadKind;
  headers: Record<string, string>;
  /** Content-Encoding as sent ('identity' when absent). */
  encoding: string;
  /** Body size on the wire and after decompression. */
  wireBytes: number;
  bodyBytes: number;
  status: number;
  /** True when the intake answered 2xx and decoded the payload. */
  accepted: boolean;
  /** Set when a fault rule answered instead of the intake. */
  fault?: string;
  error?: { code: string; message: string };
  decoded?: unknown;
  /** The decompressed body, for proxy routes and for debugging rejects. */
  body?: Buffer;
}
