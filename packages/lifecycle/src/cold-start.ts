// The cold-start span (aws.lambda.cold_start, or aws.lambda.snapstart_restore): its timing comes from
// initStart/restoreStart and their report, and it joins a trace: the one the tracer's aws.lambda.load
// names, else the first invocation's extension-made aws.lambda span
// (DataDog/datadog-lambda-extension, bottlecap/src/lifecycle/invocation/processor.rs).
import type { SpanData, TracerSpanMessage } from '@dd-lambda/protocol';
import type { SpanIds } from './context.js';
import { span } from './spans.js';

export class ColdStartSpan {
  name = 'aws.lambda.cold_start';
  startMs: number | undefined;
  durationMs: number | undefined;
  /** The tracer's aws.lambda.load: the span the cold start hangs under. */
  link: TracerSpanMessage | undefined;
  /** The first invocation's aws.lambda span (its context is gone by the time the timing is known). */
  firstSpan: SpanIds | undefined;
  #sent = false;

  /** The span once timing and a trace are known (once), else undefined. */
  take(o: { service: string; resource: string; newId: () => bigint }): SpanData | undefined {
    if (this.#sent || this.startMs === undefined || this.durationMs === undefined) return undefined;
    let ids: { traceId: bigint; spanId: bigint; parentId: bigint; tid: string | undefined };
    if (this.link !== undefined) {
      ids = { traceId: this.link.traceId, spanId: this.link.spanId, parentId: this.link.parentId, tid: undefined };
    } else {
      const first = this.firstSpan;
      if (first === undefined) return undefined;
      ids = { traceId: first.traceId, spanId: o.newId(), parentId: first.spanId, tid: first.traceIdHigh };
    }
    this.#sent = true;
    const s = span({
      name: this.name,
      service: o.service,
      resource: o.resource,
      type: 'serverless',
      traceId: ids.traceId,
      spanId: ids.spanId,
      parentId: ids.parentId,
      startMs: this.startMs,
      durationMs: this.durationMs,
    });
    if (ids.tid !== undefined) s.meta['_dd.p.tid'] = ids.tid;
    return s;
  }
}
