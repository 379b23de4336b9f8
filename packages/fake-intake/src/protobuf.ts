// A strict, schema-driven protobuf reader. The fake intake must catch what a lenient decoder
// would forgive: a field number we did not define, a wire type that does not match the schema,
// a truncated varint or length, invalid UTF-8 in a string. Each of those is a DecodeError.

import { IntakeError } from './errors.js';

export type ScalarType = 'string' | 'bytes' | 'bool' | 'int32' | 'uint32' | 'sint32' | 'int64' | 'uint64' | 'double' | 'enum';

export interface MessageSchema {
  readonly name: string;
  readonly fields: readonly FieldSchema[];
  /** Field numbers the .proto marks `reserved`: seeing one is an error like an unknown field. */
  readonly reserved?: readonly number[];
}

export type FieldSchema =
  | { readonly no: number; readonly name: string; readonly type: ScalarType; readonly repeated?: boolean }
  | { readonly no: number; readonly name: string; readonly message: MessageSchema; readonly repeated?: boolean }
  | { readonly no: number; readonly name: string; readonly map: readonly [ScalarType, ScalarType] };

export type Decoded = { [key: string]: unknown };

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function wireTypeOf(type: ScalarType): number {
  switch (type) {
    case 'string':
    case 'bytes':
      return WIRE_LEN;
    case 'double':
      return WIRE_I64;
    default:
      return WIRE_VARINT;
  }
}

function fail(path: string, message: string): never {
  throw new IntakeError('FI_ERR_PROTOBUF', `protobuf ${path}: ${message}`);
}

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(path: string): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) fail(path, 'truncated varint');
      const b = this.buf[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result & 0xffffffffffffffffn;
      shift += 7n;
    }
    return fail(path, 'varint longer than 10 bytes');
  }

  length(path: string): number {
    const len = this.varint(path);
    if (len > BigInt(this.end - this.pos)) fail(path, `length ${len} runs past the end of the message`);
    return Number(len);
  }

  double(path: string): number {
    if (this.end - this.pos < 8) fail(path, 'truncated double');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }
}

function scalarFromVarint(type: ScalarType, raw: bigint, path: string): unknown {
  switch (type) {
    case 'bool':
      if (raw > 1n) fail(path, `bool with value ${raw}`);
      return raw === 1n;
    case 'int32':
    case 'enum':
      return Number(BigInt.asIntN(32, raw));
    case 'uint32':
      if (raw > 0xffffffffn) fail(path, `uint32 out of range: ${raw}`);
      return Number(raw);
    case 'sint32': {
      const n = Number(raw & 0xffffffffn);
      return (n >>> 1) ^ -(n & 1);
    }
    case 'int64':
      return BigInt.asIntN(64, raw);
    case 'uint64':
      return raw;
    default:
      return fail(path, `type ${type} cannot be a varint`);
  }
}

function readScalar(r: Reader, type: ScalarType, wire: number, path: string): unknown {
  const expected = wireTypeOf(type);
  if (wire !== expected) fail(path, `wire type ${wire} where ${type} needs ${expected}`);
  if (type === 'double') return r.double(path);
  if (expected === WIRE_LEN) {
    const len = r.length(path);
    const bytes = r.buf.subarray(r.pos, r.pos + len);
    r.pos += len;
    if (type === 'bytes') return Uint8Array.from(bytes);
    try {
      return utf8.decode(bytes);
    } catch {
      return fail(path, 'string is not valid UTF-8');
    }
  }
  return scalarFromVarint(type, r.varint(path), path);
}

function defaultOf(field: FieldSchema): unknown {
  if ('map' in field) return {};
  if (field.repeated) return [];
  if ('message' in field) return undefined;
  switch (field.type) {
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    case 'bool':
      return false;
    case 'int64':
    case 'uint64':
      return 0n;
    default:
      return 0;
  }
}

function skipUnknown(r: Reader, wire: number, path: string): void {
  switch (wire) {
    case WIRE_VARINT:
      r.varint(path);
      return;
    case WIRE_I64:
      if (r.end - r.pos < 8) fail(path, 'truncated fixed64');
      r.pos += 8;
      return;
    case WIRE_LEN: {
      // Read the length before touching pos: `r.pos += r.length()` would add to the old pos.
      const len = r.length(path);
      r.pos += len;
      return;
    }
    case WIRE_I32:
      if (r.end - r.pos < 4) fail(path, 'truncated fixed32');
      r.pos += 4;
      return;
    default:
      fail(path, `invalid wire type ${wire}`);
  }
}

function readMessage(schema: MessageSchema, r: Reader, path: string, strict: boolean): Decoded {
  const out: Decoded = {};
  for (const f of schema.fields) out[f.name] = defaultOf(f);
  const byNo = fieldIndex(schema);
  while (r.pos < r.end) {
    const tag = r.varint(path);
    const no = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (no === 0) fail(path, 'field number 0');
    const field = byNo.get(no);
    if (!field) {
      const what = schema.reserved?.includes(no) ? 'reserved' : 'unknown';
      if (strict) fail(path, `${what} field number ${no} (wire type ${wire})`);
      skipUnknown(r, wire, path);
      continue;
    }
    const fpath = `${path}.${field.name}`;
    if ('map' in field) {
      if (wire !== WIRE_LEN) fail(fpath, `map entry with wire type ${wire}`);
      const len = r.length(fpath);
      const entry = new Reader(r.buf, r.pos, r.pos + len);
      r.pos += len;
      const [kt, vt] = field.map;
      let key: unknown = defaultOf({ no: 1, name: 'key', type: kt });
      let value: unknown = defaultOf({ no: 2, name: 'value', type: vt });
      while (entry.pos < entry.end) {
        const etag = entry.varint(fpath);
        const eno = Number(etag >> 3n);
        const ewire = Number(etag & 7n);
        if (eno === 1) key = readScalar(entry, kt, ewire, `${fpath}{key}`);
        else if (eno === 2) value = readScalar(entry, vt, ewire, `${fpath}{value}`);
        else fail(fpath, `map entry field number ${eno}`);
      }
      (out[field.name] as Record<string, unknown>)[String(key)] = value;
    } else if ('message' in field) {
      if (wire !== WIRE_LEN) fail(fpath, `message with wire type ${wire}`);
      const len = r.length(fpath);
      const sub = readMessage(field.message, new Reader(r.buf, r.pos, r.pos + len), fpath, strict);
      r.pos += len;
      if (field.repeated) (out[field.name] as unknown[]).push(sub);
      else out[field.name] = sub;
    } else if (field.repeated && wire === WIRE_LEN && field.type !== 'string' && field.type !== 'bytes') {
      // Packed encoding, the proto3 default for repeated numeric fields.
      const len = r.length(fpath);
      const packed = new Reader(r.buf, r.pos, r.pos + len);
      r.pos += len;
      const list = out[field.name] as unknown[];
      const elemWire = wireTypeOf(field.type);
      while (packed.pos < packed.end) list.push(readScalar(packed, field.type, elemWire, fpath));
    } else {
      const v = readScalar(r, field.type, wire, fpath);
      if (field.repeated) (out[field.name] as unknown[]).push(v);
      else out[field.name] = v;
    }
  }
  return out;
}

const indexes = new WeakMap<MessageSchema, Map<number, FieldSchema>>();
function fieldIndex(schema: MessageSchema): Map<number, FieldSchema> {
  let idx = indexes.get(schema);
  if (!idx) {
    idx = new Map(schema.fields.map((f) => [f.no, f]));
    indexes.set(schema, idx);
  }
  return idx;
}

/**
 * Decodes `buf` as `schema`. With `strict` (the default), unknown and reserved field numbers are
 * errors too: the intake is there to catch encoders that drift from the published schema.
 */
export function decodeMessage(schema: MessageSchema, buf: Uint8Array, strict = true): Decoded {
  return readMessage(schema, new Reader(buf, 0, buf.length), schema.name, strict);
}
