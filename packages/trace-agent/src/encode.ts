// AgentPayload protobuf for POST /api/v0.2/traces, field numbers from the agent's schema
// (pkg/proto/datadog/trace: agent_payload, tracer_payload, span). Each TracerPayload is encoded
// once, when its request is processed; a flush only concatenates them under an AgentPayload
// header, so batches are cut by exact byte counts.
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import type { Chunk, Span, TracerPayload } from './span.js';

/** The intake's per-request ceiling (bottlecap cuts at the same number). */
export const MAX_BATCH_BYTES = 12_000_000;
/** AgentPayload.targetTPS / errorTPS as the serverless agent reports them. */
const TARGET_TPS = 60;
const ERROR_TPS = 60;

function str(w: BinaryWriter, field: number, v: string): void {
  if (v !== '') w.tag(field, WireType.LengthDelimited).string(v);
}

function strMap(w: BinaryWriter, field: number, m: Readonly<Record<string, string>>): void {
  for (const k in m) {
    w.tag(field, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string(k);
    w.tag(2, WireType.LengthDelimited).string(m[k] as string);
    w.join();
  }
}

function span(w: BinaryWriter, s: Span): void {
  str(w, 1, s.service);
  str(w, 2, s.name);
  str(w, 3, s.resource);
  if (s.traceId !== 0n) w.tag(4, WireType.Varint).uint64(s.traceId);
  if (s.spanId !== 0n) w.tag(5, WireType.Varint).uint64(s.spanId);
  if (s.parentId !== 0n) w.tag(6, WireType.Varint).uint64(s.parentId);
  if (s.start !== 0n) w.tag(7, WireType.Varint).int64(s.start);
  if (s.duration !== 0n) w.tag(8, WireType.Varint).int64(s.duration);
  if (s.error !== 0) w.tag(9, WireType.Varint).int32(s.error);
  strMap(w, 10, s.meta);
  for (const k in s.metrics) {
    w.tag(11, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string(k);
    w.tag(2, WireType.Bit64).double(s.metrics[k] as number);
    w.join();
  }
  str(w, 12, s.type);
  if (s.metaStruct !== undefined) {
    for (const k in s.metaStruct) {
      w.tag(13, WireType.LengthDelimited).fork();
      w.tag(1, WireType.LengthDelimited).string(k);
      w.tag(2, WireType.LengthDelimited).bytes(s.metaStruct[k] as Uint8Array);
      w.join();
    }
  }
  for (const l of s.spanLinks ?? []) {
    w.tag(14, WireType.LengthDelimited).fork();
    if (l.traceId !== 0n) w.tag(1, WireType.Varint).uint64(l.traceId);
    if (l.traceIdHigh !== 0n) w.tag(2, WireType.Varint).uint64(l.traceIdHigh);
    if (l.spanId !== 0n) w.tag(3, WireType.Varint).uint64(l.spanId);
    strMap(w, 4, l.attributes);
    str(w, 5, l.tracestate);
    if (l.flags !== 0) w.tag(6, WireType.Varint).uint32(l.flags);
    w.join();
  }
}

function chunk(w: BinaryWriter, c: Chunk): void {
  if (c.priority !== 0) w.tag(1, WireType.Varint).int32(c.priority);
  str(w, 2, c.origin);
  for (const s of c.spans) {
    w.tag(3, WireType.LengthDelimited).fork();
    span(w, s);
    w.join();
  }
  if (c.droppedTrace) w.tag(5, WireType.Varint).bool(true);
}

/** The bytes of one TracerPayload message (without its field tag). */
export function encodeTracerPayload(p: TracerPayload): Uint8Array {
  const w = new BinaryWriter();
  str(w, 1, p.info.containerId);
  str(w, 2, p.info.lang);
  str(w, 3, p.info.langVersion);
  str(w, 4, p.info.tracerVersion);
  str(w, 5, p.runtimeId);
  for (const c of p.chunks) {
    w.tag(6, WireType.LengthDelimited).fork();
    chunk(w, c);
    w.join();
  }
  strMap(w, 7, p.tags);
  str(w, 8, p.env);
  str(w, 9, p.hostname);
  str(w, 10, p.appVersion);
  return w.finish();
}

/** AgentPayload header bytes (every field but tracerPayloads). */
function header(): Uint8Array {
  const w = new BinaryWriter();
  w.tag(8, WireType.Bit64).double(TARGET_TPS);
  w.tag(9, WireType.Bit64).double(ERROR_TPS);
  return w.finish();
}

const HEADER = header();

/** Bytes an encoded TracerPayload adds to an AgentPayload: tag, length varint, body. */
export function framedSize(bytes: number): number {
  let n = 1;
  for (let v = bytes; v >= 0x80; v >>>= 7) n++;
  return 1 + n + bytes;
}

/** Frames pre-encoded TracerPayloads under one AgentPayload. */
export function agentPayload(parts: readonly Uint8Array[]): Buffer {
  const w = new BinaryWriter();
  w.raw(HEADER);
  for (const p of parts) w.tag(5, WireType.LengthDelimited).bytes(p);
  return Buffer.from(w.finish());
}
