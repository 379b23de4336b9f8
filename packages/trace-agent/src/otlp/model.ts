// OTLP traces as both wire encodings decode to (opentelemetry-proto,
// opentelemetry/proto/trace/v1/trace.proto and common/v1/common.proto): one shape, so the mapping to
// Datadog spans is written once. Ids stay bytes, times nanosecond bigints, ints bigints.

/** AnyValue: strings, booleans, int64 (bigint), doubles (number), bytes, arrays and key-value lists. */
export type AnyValue = string | boolean | bigint | number | Uint8Array | AnyValue[] | KeyValueList | undefined;

export interface KeyValueList {
  kvlist: KeyValue[];
}

export interface KeyValue {
  key: string;
  value: AnyValue;
}

export const SPAN_KIND = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
export type SpanKindName = (typeof SPAN_KIND)[number];

/** Status.code: 0 unset, 1 ok, 2 error. */
export const STATUS_ERROR = 2;

export interface OtlpEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface OtlpLink {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
}

export interface OtlpSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState: string;
  parentSpanId: Uint8Array;
  name: string;
  /** 0..5, see SPAN_KIND; anything else reads as unspecified. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: KeyValue[];
  events: OtlpEvent[];
  links: OtlpLink[];
  status: { code: number; message: string } | undefined;
}

export interface OtlpScopeSpans {
  scope: { name: string; version: string; attributes: KeyValue[] } | undefined;
  spans: OtlpSpan[];
}

export interface OtlpResourceSpans {
  resource: { attributes: KeyValue[] } | undefined;
  scopeSpans: OtlpScopeSpans[];
}

export const emptySpan = (): OtlpSpan => ({
  traceId: new Uint8Array(0),
  spanId: new Uint8Array(0),
  traceState: '',
  parentSpanId: new Uint8Array(0),
  name: '',
  kind: 0,
  startTimeUnixNano: 0n,
  endTimeUnixNano: 0n,
  attributes: [],
  events: [],
  links: [],
  status: undefined,
});
