// Wire formats to the metrics intake: v2 series JSON and the sketches protobuf, cut into batches
// the intake accepts (DataDog/serverless-components, the dogstatsd crate's flusher: ≤ 1000 series / 5 MiB, ≤ 1000 sketches / 62 MiB).
import { BinaryWriter, WireType as PbWire } from '@bufbuild/protobuf/wire';
import { cutBatches } from '@dd-lambda/intake-client';
import { originOf } from './origin.js';
import type { Origin } from './origin.js';
import type { Context, Resource } from './aggregator.js';
import { BUCKET_S } from './aggregator.js';
import type { DsdEvent, DsdServiceCheck } from './parse.js';

/** MetricIntakeType of the v2 series API (0 unspecified, 1 count, 2 rate, 3 gauge). */
export const SERIES_TYPE = { count: 1, rate: 2, gauge: 3 } as const;

export const SERIES_MAX_ITEMS = 1000;
export const SERIES_MAX_BYTES = 5 * 1024 * 1024;
export const SKETCH_MAX_ITEMS = 1000;
export const SKETCH_MAX_BYTES = 62 * 1024 * 1024;

export interface Batch {
  body: Buffer;
  /** Points in it, for the flush report. */
  points: number;
}

interface SeriesJson {
  metric: string;
  type: number;
  points: { timestamp: number; value: number }[];
  tags: string[];
  interval?: number;
  resources?: Resource[];
  metadata?: { origin: Origin };
}

function seriesOf(ctx: Context): SeriesJson | undefined {
  let type: number;
  let value: number;
  switch (ctx.kind) {
    case 'count':
      type = SERIES_TYPE.count;
      value = ctx.value;
      break;
    case 'gauge':
      type = SERIES_TYPE.gauge;
      value = ctx.value;
      break;
    case 'set':
      // The agent reports a set as a gauge of its distinct members.
      type = SERIES_TYPE.gauge;
      value = ctx.members?.size ?? 0;
      break;
    case 'distribution':
      return undefined;
  }
  const s: SeriesJson = { metric: ctx.name, type, points: [{ timestamp: ctx.bucket, value }], tags: ctx.tags };
  if (type === SERIES_TYPE.count) s.interval = BUCKET_S;
  if (ctx.resources.length > 0) s.resources = ctx.resources;
  const origin = originOf(ctx.name, ctx.tags);
  if (origin !== undefined) s.metadata = { origin };
  return s;
}

/** `{"series":[…]}` bodies for every count, gauge and set context. */
export function seriesBatches(contexts: readonly Context[], maxItems = SERIES_MAX_ITEMS, maxBytes = SERIES_MAX_BYTES): Batch[] {
  const head = '{"series":[';
  const tail = ']}';
  const parts: string[] = [];
  for (const ctx of contexts) {
    const s = seriesOf(ctx);
    if (s) parts.push(JSON.stringify(s));
  }
  const batches = cutBatches(parts, (json) => Buffer.byteLength(json) + 1, { maxItems, maxBytes, overheadBytes: head.length + tail.length });
  return batches.map((b) => ({ body: Buffer.from(head + b.join(',') + tail), points: b.length }));
}

function encodeSketch(w: BinaryWriter, ctx: Context): void {
  const sk = ctx.sketch;
  if (!sk) return;
  const bins = sk.bins();
  w.tag(1, PbWire.LengthDelimited).fork();
  w.tag(1, PbWire.LengthDelimited).string(ctx.name);
  // host (2) stays empty: Lambda metrics carry no host.
  for (const t of ctx.tags) w.tag(4, PbWire.LengthDelimited).string(t);
  w.tag(7, PbWire.LengthDelimited).fork();
  w.tag(1, PbWire.Varint).int64(ctx.bucket);
  w.tag(2, PbWire.Varint).int64(sk.cnt);
  w.tag(3, PbWire.Bit64).double(sk.min);
  w.tag(4, PbWire.Bit64).double(sk.max);
  w.tag(5, PbWire.Bit64).double(sk.avg);
  w.tag(6, PbWire.Bit64).double(sk.sum);
  if (bins.k.length > 0) {
    w.tag(7, PbWire.LengthDelimited).fork();
    for (const k of bins.k) w.sint32(k);
    w.join();
    w.tag(8, PbWire.LengthDelimited).fork();
    for (const n of bins.n) w.uint32(n);
    w.join();
  }
  w.join();
  const origin = originOf(ctx.name, ctx.tags);
  if (origin !== undefined) {
    // Sketch.metadata (8) → Metadata.origin (1) → Origin fields 4, 5, 6.
    w.tag(8, PbWire.LengthDelimited).fork();
    w.tag(1, PbWire.LengthDelimited).fork();
    w.tag(4, PbWire.Varint).uint32(origin.origin_product);
    w.tag(5, PbWire.Varint).uint32(origin.origin_category);
    w.tag(6, PbWire.Varint).uint32(origin.origin_service);
    w.join();
    w.join();
  }
  w.join();
}

/** SketchPayload bodies for every distribution context. */
export function sketchBatches(contexts: readonly Context[], maxItems = SKETCH_MAX_ITEMS, maxBytes = SKETCH_MAX_BYTES): Batch[] {
  const encoded: { bytes: Uint8Array; points: number }[] = [];
  for (const ctx of contexts) {
    if (ctx.kind !== 'distribution' || !ctx.sketch) continue;
    // Each sketch is encoded as a complete `sketches` field, so batches are plain concatenations.
    const w = new BinaryWriter();
    encodeSketch(w, ctx);
    encoded.push({ bytes: w.finish(), points: ctx.sketch.cnt });
  }
  const batches = cutBatches(encoded, (e) => e.bytes.length, { maxItems, maxBytes });
  return batches.map((b) => ({ body: Buffer.concat(b.map((e) => e.bytes)), points: b.reduce((n, e) => n + e.points, 0) }));
}

/** The events API's limits, in characters. */
export const EVENT_TITLE_MAX = 100;
export const EVENT_TEXT_MAX = 4000;

/** Body of `POST /api/v1/events` (one event per request, as the public API takes them). */
export function eventBody(ev: DsdEvent, tags: string[]): Buffer {
  const body: Record<string, unknown> = {
    title: ev.title.slice(0, EVENT_TITLE_MAX),
    text: ev.text.slice(0, EVENT_TEXT_MAX),
    priority: ev.priority,
    alert_type: ev.alertType,
    tags,
  };
  if (ev.timestamp !== undefined) body['date_happened'] = ev.timestamp;
  if (ev.host !== undefined) body['host'] = ev.host;
  if (ev.aggregationKey !== undefined) body['aggregation_key'] = ev.aggregationKey;
  if (ev.sourceType !== undefined) body['source_type_name'] = ev.sourceType;
  return Buffer.from(JSON.stringify(body));
}

/** Body of `POST /api/v1/check_run`: an array of checks. */
export function checkRunBody(checks: readonly { check: DsdServiceCheck; tags: string[] }[], defaultHost: string, nowS: number): Buffer {
  return Buffer.from(
    JSON.stringify(
      checks.map(({ check, tags }) => {
        const o: Record<string, unknown> = {
          check: check.name,
          host_name: check.host ?? defaultHost,
          status: check.status,
          timestamp: check.timestamp ?? nowS,
          tags,
        };
        if (check.message !== undefined) o['message'] = check.message;
        return o;
      }),
    ),
  );
}
