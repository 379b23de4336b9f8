import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MetricPoints, PlatformEvent, SpanData } from '@dd-lambda/protocol';
import { createLogger } from '@dd-lambda/logger';
import { InvocationProcessor } from '../src/processor.js';
import type { ProcessorOptions } from '../src/processor-options.js';

export type Point = MetricPoints['points'][number];

const here = path.dirname(fileURLToPath(import.meta.url));
/** Sample events, written from the AWS documentation's examples (with trace context added). */
export const EVENTS = path.resolve(here, '../../test/fixtures/events');
export const event = (name: string): unknown => JSON.parse(readFileSync(path.join(EVENTS, `${name}.json`), 'utf8'));

/** The span of that name; fails the test when there is none. */
export function byName(spans: SpanData[], name: string): SpanData {
  const s = spans.find((x) => x.name === name);
  assert.ok(s, name);
  return s;
}

export const T0 = Date.parse('2026-11-21T10:00:00.000Z');
export const iso = (ms: number): string => new Date(ms).toISOString();
export const ev = (type: string, atMs: number, record: unknown): PlatformEvent => ({ time: iso(atMs), type, record });

export interface Harness {
  p: InvocationProcessor;
  points: Point[];
  spans: SpanData[];
  clock: { now: number };
  /** Sum of values per metric name (without the prefix). */
  sums(): Record<string, number>;
  named(name: string): Point[];
}

export function harness(over: Partial<ProcessorOptions> = {}): Harness {
  const points: Point[] = [];
  const spans: SpanData[] = [];
  const clock = { now: T0 };
  let id = 100n;
  const p = new InvocationProcessor({
    functionName: 'My-Fn',
    service: undefined,
    awsServiceRepresentation: true,
    architecture: 'x86_64',
    managed: false,
    enhancedMetrics: true,
    proc: undefined,
    runtimeTag: undefined,
    styles: ['datadog', 'tracecontext'],
    extractFirst: false,
    capturePayload: false,
    captureMaxDepth: 10,
    triggers: { region: 'us-east-1', partition: 'aws', serviceMapping: {}, awsServiceRepresentation: true, baseService: 'my-fn' },
    sandboxStartMs: T0 - 500,
    emitMetrics: (ps) => points.push(...ps),
    emitSpans: (ss) => spans.push(...ss),
    logger: createLogger({ level: 'silent' }),
    now: () => clock.now,
    newId: () => ++id,
    ...over,
  });
  return {
    p,
    points,
    spans,
    clock,
    sums() {
      const out: Record<string, number> = {};
      for (const pt of points) {
        const n = pt.name.replace('aws.lambda.enhanced.', '');
        out[n] = (out[n] ?? 0) + pt.value;
      }
      return out;
    },
    named: (name) => points.filter((pt) => pt.name === `aws.lambda.enhanced.${name}`),
  };
}

/** One on-demand invocation's platform events: start, runtimeDone, report. */
export function invocationEvents(
  requestId: string,
  startMs: number,
  o: { runtimeMs: number; reportMs: number; status?: string; errorType?: string; billedMs?: number; memMB?: number; usedMB?: number; initMs?: number; bytes?: number },
): { start: PlatformEvent; done: PlatformEvent; report: PlatformEvent } {
  const status = o.status ?? 'success';
  return {
    start: ev('platform.start', startMs, { requestId, version: '$LATEST' }),
    done: ev('platform.runtimeDone', startMs + o.runtimeMs, {
      requestId,
      status,
      ...(o.errorType ? { errorType: o.errorType } : {}),
      metrics: { durationMs: o.runtimeMs, producedBytes: o.bytes ?? 12 },
    }),
    report: ev('platform.report', startMs + o.reportMs, {
      requestId,
      status,
      ...(o.errorType ? { errorType: o.errorType } : {}),
      metrics: {
        durationMs: o.reportMs,
        billedDurationMs: o.billedMs ?? Math.ceil(o.reportMs),
        memorySizeMB: o.memMB ?? 128,
        maxMemoryUsedMB: o.usedMB ?? 60,
        ...(o.initMs ? { initDurationMs: o.initMs } : {}),
      },
    }),
  };
}
