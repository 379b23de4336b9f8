// Flattened views of what the intake recorded, for tests: every span with its chunk and payload,
// every series point, every sketch's points.
import type { AgentPayload, Series, Sketch, Span, TraceChunk, TracerPayload } from './types.js';

export interface SpanRecord {
  span: Span;
  chunk: TraceChunk;
  tracerPayload: TracerPayload;
  payload: AgentPayload;
}

export type MetricKind = 'unspecified' | 'count' | 'rate' | 'gauge';
const seriesKinds: readonly MetricKind[] = ['unspecified', 'count', 'rate', 'gauge'];

export interface MetricPoint {
  metric: string;
  kind: MetricKind;
  tags: string[];
  timestamp: number;
  value: number;
  series: Series;
}

export interface SketchPoint {
  metric: string;
  tags: string[];
  host: string;
  timestamp: number;
  count: number;
  min: number;
  max: number;
  sum: number;
  avg: number;
  /** DDSketch bins: key k[i] holds n[i] values. */
  k: number[];
  n: number[];
}

export function spanRecords(traces: readonly AgentPayload[]): SpanRecord[] {
  const out: SpanRecord[] = [];
  for (const payload of traces) {
    for (const tracerPayload of payload.tracerPayloads) {
      for (const chunk of tracerPayload.chunks) {
        for (const span of chunk.spans) out.push({ span, chunk, tracerPayload, payload });
      }
    }
  }
  return out;
}

export function metricPoints(series: readonly Series[], metric?: string): MetricPoint[] {
  return series
    .filter((s) => metric === undefined || s.metric === metric)
    .flatMap((s) =>
      s.points.map((p) => ({
        metric: s.metric,
        kind: seriesKinds[s.type] ?? 'unspecified',
        tags: s.tags,
        timestamp: p.timestamp,
        value: p.value,
        series: s,
      })),
    );
}

export function sketchPoints(sketches: readonly Sketch[], metric?: string): SketchPoint[] {
  return sketches
    .filter((s) => metric === undefined || s.metric === metric)
    .flatMap((s) =>
      s.dogsketches.map((d) => ({
        metric: s.metric,
        tags: s.tags,
        host: s.host,
        timestamp: Number(d.ts),
        count: Number(d.cnt),
        min: d.min,
        max: d.max,
        sum: d.sum,
        avg: d.avg,
        k: d.k,
        n: d.n,
      })),
    );
}
