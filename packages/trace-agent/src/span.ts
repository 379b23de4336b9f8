// The span model every stage works on: the agent's pb.Span with 64-bit fields as bigint, so ids
// and nanosecond timestamps survive exactly from msgpack to protobuf.
import type { SpanData } from '@dd-lambda/protocol';

export interface SpanLink {
  traceId: bigint;
  traceIdHigh: bigint;
  spanId: bigint;
  attributes: Record<string, string>;
  tracestate: string;
  flags: number;
}

/** The cross-thread span (ids, times in ns, meta, metrics) plus what only tracers send. */
export interface Span extends SpanData {
  /** msgpack-encoded values, passed through byte for byte (AppSec `_dd.stack`, request bodies). */
  metaStruct: Record<string, Uint8Array> | undefined;
  spanLinks: SpanLink[] | undefined;
}

/** A trace chunk as the intake takes it. Priority -128 means "not set". */
export interface Chunk {
  priority: number;
  origin: string;
  spans: Span[];
  droppedTrace: boolean;
}

export const PRIORITY_NONE = -128;

/** What the tracer said about itself in its request headers; kept per payload. */
export interface TracerInfo {
  lang: string;
  langVersion: string;
  langInterpreter: string;
  langVendor: string;
  tracerVersion: string;
  containerId: string;
  clientComputedTopLevel: boolean;
  clientComputedStats: boolean;
  droppedP0Traces: number;
  droppedP0Spans: number;
}

/** One tracer request after processing: the intake's TracerPayload. */
export interface TracerPayload {
  info: TracerInfo;
  runtimeId: string;
  env: string;
  appVersion: string;
  hostname: string;
  chunks: Chunk[];
  tags: Record<string, string>;
}
