// What the invocation processor is built with and what it counts (processor.ts).
import type { Logger } from '@dd-lambda/logger';
import type { MetricPoints, SpanData } from '@dd-lambda/protocol';
import type { ProcOptions } from './proc.js';
import type { PropagationStyle } from './propagation.js';
import type { TriggerOptions } from './triggers.js';

type Point = MetricPoints['points'][number];

export interface ProcessorOptions {
  functionName: string;
  /** DD_SERVICE (lowercased on spans), else the function name. */
  service: string | undefined;
  awsServiceRepresentation: boolean;
  architecture: 'x86_64' | 'arm64';
  managed: boolean;
  enhancedMetrics: boolean;
  /** /proc metrics: where to read them, or undefined when DD_LAMBDA_PROC_ENHANCED_METRICS is off. */
  proc: ProcOptions | undefined;
  /** `runtime:` for metrics when the function tags have none (custom runtimes). */
  runtimeTag: string | undefined;
  styles: readonly PropagationStyle[];
  extractFirst: boolean;
  /** DD_TRACE_PROPAGATION_HTTP_BAGGAGE_ENABLED: `ot-baggage-*` headers as tags. */
  baggage?: boolean;
  capturePayload: boolean;
  captureMaxDepth: number;
  triggers: TriggerOptions;
  /** Epoch ms when the sandbox started (our process start; initStart refines it). */
  sandboxStartMs: number;
  emitMetrics(points: Point[]): void;
  emitSpans(spans: SpanData[]): void;
  logger: Logger;
  now?: () => number;
  newId?: () => bigint;
}

export interface ProcessorCounters {
  invocations: number;
  spans: number;
  unpairedEnds: number;
  badBodies: number;
  evicted: number;
  /** A second start-invocation for an invocation that had one (the latest wins). */
  duplicateStarts: number;
  /** start-invocation calls for a request id no INVOKE ever named (dropped). */
  unknownRequests: number;
}
