// ExportTraceServiceRequest in protobuf (opentelemetry-proto,
// opentelemetry/proto/collector/trace/v1/trace_service.proto). A reader for exactly these messages:
// loading a general protobuf runtime on the trace worker cost more than the whole receiver (the
// README has the figures). Unknown fields are skipped, as protobuf requires; a truncated or
// malformed message throws TA_ERR_OTLP_DECODE.
import { TraceAgentError } from '../errors.js';
import { emptySpan } from './model.js';
import type { AnyValue, KeyValue, OtlpEvent, OtlpLink, OtlpResourceSpans, OtlpScopeSpans, OtlpSpan } from './model.js';

const utf8 = new TextDecoder();

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw bad('truncated varint');
      const b = this.buf[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
    throw bad('varint longer than 10 bytes');
  }

  /** A varint that fits a JS number (tags, lengths, enums, counts). */
  small(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw bad('truncated varint');
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    // Beyond 2^53: read the rest as a bigint and clamp (only enums and counts use this path).
    this.pos -= 8;
    const big = this.varint();
    return big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
  }

  fixed64(): bigint {
    if (this.pos + 8 > this.end) throw bad('truncated fixed64');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getBigUint64(0, true);
    this.pos += 8;
    return v;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw bad('truncated double');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) throw bad('truncated fixed32');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getUint32(0, true);
    this.pos += 4;
    return v;
  }

  /** A length-delimited field's sub-reader; advances past it. */
  sub(): Reader {
    const len = this.small();
    if (this.pos + len > this.end) throw bad('length-delimited field runs past its message');
    const r = new Reader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }

  bytes(): Uint8Array {
    const r = this.sub();
    return this.buf.subarray(r.pos, r.end);
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.sub();
    else if (wire === 5) this.pos += 4;
    else throw bad(`unsupported wire type ${wire}`);
    if (this.pos > this.end) throw bad('truncated field');
  }

  /** Calls `field(number, wire)` for each field; the callback reads it or returns false to skip it. */
  each(field: (no: number, wire: number) => boolean): void {
    while (!this.done) {
      const tag = this.small();
      const no = Math.floor(tag / 8);
      const wire = tag & 7;
      if (no === 0) throw bad('field number 0');
      if (!field(no, wire)) this.skip(wire);
    }
  }
}

function bad(why: string): TraceAgentError {
  return new TraceAgentError('TA_ERR_OTLP_DECODE', `OTLP protobuf: ${why}`);
}

function anyValue(r: Reader): AnyValue {
  let v: AnyValue;
  r.each((no, wire) => {
    if (no === 1 && wire === 2) v = r.string();
    else if (no === 2 && wire === 0) v = r.varint() !== 0n;
    else if (no === 3 && wire === 0) v = BigInt.asIntN(64, r.varint());
    else if (no === 4 && wire === 1) v = r.double();
    else if (no === 5 && wire === 2) {
      const arr: AnyValue[] = [];
      const list = r.sub();
      list.each((n, w) => {
        if (n !== 1 || w !== 2) return false;
        arr.push(anyValue(list.sub()));
        return true;
      });
      v = arr;
    } else if (no === 6 && wire === 2) v = { kvlist: keyValues(r.sub(), 1) };
    else if (no === 7 && wire === 2) v = r.bytes();
    else return false;
    return true;
  });
  return v;
}

/** The repeated KeyValue at field `no` of the message `r` reads. */
function keyValues(r: Reader, no: number): KeyValue[] {
  const out: KeyValue[] = [];
  r.each((n, w) => {
    if (n !== no || w !== 2) return false;
    out.push(keyValue(r.sub()));
    return true;
  });
  return out;
}

function keyValue(r: Reader): KeyValue {
  const kv: KeyValue = { key: '', value: undefined };
  r.each((no, wire) => {
    if (no === 1 && wire === 2) kv.key = r.string();
    else if (no === 2 && wire === 2) kv.value = anyValue(r.sub());
    else return false;
    return true;
  });
  return kv;
}

function event(r: Reader): OtlpEvent {
  const e: OtlpEvent = { timeUnixNano: 0n, name: '', attributes: [], droppedAttributesCount: 0 };
  r.each((no, wire) => {
    if (no === 1 && wire === 1) e.timeUnixNano = r.fixed64();
    else if (no === 2 && wire === 2) e.name = r.string();
    else if (no === 3 && wire === 2) e.attributes.push(keyValue(r.sub()));
    else if (no === 4 && wire === 0) e.droppedAttributesCount = r.small();
    else return false;
    return true;
  });
  return e;
}

function link(r: Reader): OtlpLink {
  const l: OtlpLink = { traceId: new Uint8Array(0), spanId: new Uint8Array(0), traceState: '', attributes: [], droppedAttributesCount: 0, flags: 0 };
  r.each((no, wire) => {
    if (no === 1 && wire === 2) l.traceId = r.bytes();
    else if (no === 2 && wire === 2) l.spanId = r.bytes();
    else if (no === 3 && wire === 2) l.traceState = r.string();
    else if (no === 4 && wire === 2) l.attributes.push(keyValue(r.sub()));
    else if (no === 5 && wire === 0) l.droppedAttributesCount = r.small();
    else if (no === 6 && wire === 5) l.flags = r.fixed32();
    else return false;
    return true;
  });
  return l;
}

function span(r: Reader): OtlpSpan {
  const s = emptySpan();
  r.each((no, wire) => {
    if (no === 1 && wire === 2) s.traceId = r.bytes();
    else if (no === 2 && wire === 2) s.spanId = r.bytes();
    else if (no === 3 && wire === 2) s.traceState = r.string();
    else if (no === 4 && wire === 2) s.parentSpanId = r.bytes();
    else if (no === 5 && wire === 2) s.name = r.string();
    else if (no === 6 && wire === 0) s.kind = r.small();
    else if (no === 7 && wire === 1) s.startTimeUnixNano = r.fixed64();
    else if (no === 8 && wire === 1) s.endTimeUnixNano = r.fixed64();
    else if (no === 9 && wire === 2) s.attributes.push(keyValue(r.sub()));
    else if (no === 11 && wire === 2) s.events.push(event(r.sub()));
    else if (no === 13 && wire === 2) s.links.push(link(r.sub()));
    else if (no === 15 && wire === 2) {
      const st = { code: 0, message: '' };
      const sr = r.sub();
      sr.each((n, w) => {
        if (n === 2 && w === 2) st.message = sr.string();
        else if (n === 3 && w === 0) st.code = sr.small();
        else return false;
        return true;
      });
      s.status = st;
    } else return false;
    return true;
  });
  return s;
}

function scopeSpans(r: Reader): OtlpScopeSpans {
  const out: OtlpScopeSpans = { scope: undefined, spans: [] };
  r.each((no, wire) => {
    if (no === 1 && wire === 2) {
      const scope = { name: '', version: '', attributes: [] as KeyValue[] };
      const sr = r.sub();
      sr.each((n, w) => {
        if (n === 1 && w === 2) scope.name = sr.string();
        else if (n === 2 && w === 2) scope.version = sr.string();
        else if (n === 3 && w === 2) scope.attributes.push(keyValue(sr.sub()));
        else return false;
        return true;
      });
      out.scope = scope;
    } else if (no === 2 && wire === 2) out.spans.push(span(r.sub()));
    else return false;
    return true;
  });
  return out;
}

function resourceSpans(r: Reader): OtlpResourceSpans {
  const out: OtlpResourceSpans = { resource: undefined, scopeSpans: [] };
  r.each((no, wire) => {
    if (no === 1 && wire === 2) out.resource = { attributes: keyValues(r.sub(), 1) };
    else if (no === 2 && wire === 2) out.scopeSpans.push(scopeSpans(r.sub()));
    else return false;
    return true;
  });
  return out;
}

/** The request's ResourceSpans. */
export function decodeOtlpProto(buf: Uint8Array): OtlpResourceSpans[] {
  const r = new Reader(buf);
  const out: OtlpResourceSpans[] = [];
  r.each((no, wire) => {
    if (no !== 1 || wire !== 2) return false;
    out.push(resourceSpans(r.sub()));
    return true;
  });
  return out;
}

/** google.rpc.Status { code = 1; message = 2 } as protobuf: OTLP/HTTP's error body. */
export function encodeRpcStatus(code: number, message: string): Buffer {
  const msg = Buffer.from(message);
  const parts: number[] = [0x08, ...varintBytes(code), 0x12, ...varintBytes(msg.length)];
  return Buffer.concat([Buffer.from(parts), msg]);
}

function varintBytes(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}
