// What the processor knows about one invocation, shared by the processor (which fills it in) and
// invocation-span.ts (which turns a finished one into spans).
import type { TracerSpanMessage } from '@dd-lambda/protocol';
import type { SpanContext } from './propagation.js';
import type { Trigger } from './triggers.js';

export interface RuntimeDone {
  status: string;
  errorType: string | undefined;
  durationMs: number | undefined;
  producedBytes: number | undefined;
  atMs: number;
}

export interface TracerState {
  startedAt: number;
  extracted: SpanContext | undefined;
  trigger: Trigger | undefined;
  request: unknown;
}

export interface EndState {
  at: number;
  headers: Record<string, string>;
  response: unknown;
}

export interface Context {
  requestId: string;
  seq: number;
  coldStart: boolean;
  proactive: boolean;
  invokeMs: number | undefined;
  startMs: number | undefined;
  runtime: RuntimeDone | undefined;
  tracer: TracerState | undefined;
  end: EndState | undefined;
  placeholder: TracerSpanMessage | undefined;
  errored: boolean;
  oom: boolean;
  spanSent: boolean;
  /** platform.report was read: with the span made (or no tracer), the context is forgotten. */
  reported: boolean;
  /** The aws.lambda span once made (the cold-start span hangs under the first one). */
  spanIds: SpanIds | undefined;
}

export type SpanIds = { traceId: bigint; spanId: bigint; traceIdHigh: string | undefined };
