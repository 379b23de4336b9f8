// Body decoding for each intake endpoint: decompression, then the payload format, validated
// the way Datadog's intake would reject it (and a little stricter: the fake exists to catch bugs).

import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { decompress as fzstdDecompress } from 'fzstd';
import msgpack from 'msgpack-lite';
import int64 from 'int64-buffer';
import { IntakeError, describe, schemaError } from './errors.js';
import { decodeMessage } from './protobuf.js';
import { AgentPayloadSchema, SketchPayloadSchema } from './schemas.js';
import type { AgentPayload, SketchPayload, StatsObject, StatsValue } from './types.js';

type ZstdSync = (buf: Buffer, opts?: { maxOutputLength?: number }) => Buffer;
// node:zlib has zstd from Node 22.15 / 23.8; older Nodes use the pure-JS decoder.
const nativeZstd = (zlib as unknown as { zstdDecompressSync?: ZstdSync }).zstdDecompressSync;

export function decompress(body: Buffer, encoding: string, maxBytes: number): Buffer {
  const opts = { maxOutputLength: maxBytes };
  try {
    switch (encoding) {
      case 'identity':
      case '':
        return body;
      case 'gzip':
      case 'x-gzip':
        return zlib.gunzipSync(body, opts);
      case 'deflate':
        return zlib.inflateSync(body, opts);
      case 'zstd': {
        if (nativeZstd) return nativeZstd(body, opts);
        const out = fzstdDecompress(body);
        if (out.length > maxBytes) throw new RangeError('zstd output over the size limit');
        return Buffer.from(out.buffer, out.byteOffset, out.length);
      }
      default:
        throw new IntakeError('FI_ERR_ENCODING', `unsupported Content-Encoding: ${encoding}`);
    }
  } catch (err) {
    if (err instanceof IntakeError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new IntakeError('FI_ERR_TOO_LARGE', `decompressed body exceeds ${maxBytes} bytes`);
    }
    throw new IntakeError('FI_ERR_ENCODING', `cannot decode ${encoding} body: ${e.message}`);
  }
}

export function decodeTraces(body: Buffer): AgentPayload {
  return decodeMessage(AgentPayloadSchema, body) as unknown as AgentPayload;
}

export function decodeSketches(body: Buffer): SketchPayload {
  return decodeMessage(SketchPayloadSchema, body) as unknown as SketchPayload;
}

// ---- stats: msgpack StatsPayload with the Go field names msgp gives the agent's structs ----

type StatsField = 'str' | 'uint' | 'int' | 'bool' | 'bin' | readonly ['str'] | readonly [StatsShape];
interface StatsShape {
  readonly name: string;
  readonly fields: Readonly<Record<string, StatsField>>;
}

const GroupedStatsShape: StatsShape = {
  name: 'ClientGroupedStats',
  fields: {
    Service: 'str',
    Name: 'str',
    Resource: 'str',
    HTTPStatusCode: 'uint',
    Type: 'str',
    DBType: 'str',
    Hits: 'uint',
    Errors: 'uint',
    Duration: 'uint',
    OkSummary: 'bin',
    ErrorSummary: 'bin',
    Synthetics: 'bool',
    TopLevelHits: 'uint',
    SpanKind: 'str',
    PeerTags: ['str'],
    IsTraceRoot: 'int',
    GRPCStatusCode: 'str',
    HTTPMethod: 'str',
    HTTPEndpoint: 'str',
  },
};

const BucketShape: StatsShape = {
  name: 'ClientStatsBucket',
  fields: { Start: 'uint', Duration: 'uint', Stats: [GroupedStatsShape], AgentTimeShift: 'int' },
};

const ClientStatsShape: StatsShape = {
  name: 'ClientStatsPayload',
  fields: {
    Hostname: 'str',
    Env: 'str',
    Version: 'str',
    Stats: [BucketShape],
    Lang: 'str',
    TracerVersion: 'str',
    RuntimeID: 'str',
    Sequence: 'uint',
    AgentAggregation: 'str',
    Service: 'str',
    ContainerID: 'str',
    Tags: ['str'],
    GitCommitSha: 'str',
    ImageTag: 'str',
    ProcessTags: 'str',
    ProcessTagsHash: 'uint',
  },
};

export const StatsPayloadShape: StatsShape = {
  name: 'StatsPayload',
  fields: {
    AgentHostname: 'str',
    AgentEnv: 'str',
    Stats: [ClientStatsShape],
    AgentVersion: 'str',
    ClientComputed: 'bool',
    SplitPayload: 'bool',
  },
};

const { Uint64BE, Int64BE } = int64;
const int64Codec = msgpack.createCodec({ int64: true });
const require = createRequire(import.meta.url);
// msgpack-lite's decode() stops after the first value; the DecodeBuffer tells us where, so
// trailing garbage after a valid payload is caught instead of ignored.
const { DecodeBuffer } = require('msgpack-lite/lib/decode-buffer') as {
  DecodeBuffer: new (opts: { codec: unknown }) => { write(b: Buffer): void; read(): unknown; offset: number };
};

function toBigInt(v: unknown, path: string, signed: boolean): bigint {
  if (typeof v === 'number' && Number.isInteger(v)) {
    if (!signed && v < 0) throw schemaError(path, `negative value ${v} for an unsigned field`);
    return BigInt(v);
  }
  // msgpack-lite's int64 codec yields Int64BE / Uint64BE objects for 64-bit encodings.
  if (Uint64BE.isUint64BE(v) || Int64BE.isInt64BE(v)) {
    const b = BigInt(v.toString(10));
    if (!signed && b < 0n) throw schemaError(path, 'negative value for an unsigned field');
    return b;
  }
  throw schemaError(path, `expected an integer, got ${describe(v)}`);
}

function checkStats(v: unknown, field: StatsField, path: string): StatsValue {
  if (Array.isArray(field)) {
    if (v === null) return [];
    if (!Array.isArray(v)) throw schemaError(path, `expected an array, got ${describe(v)}`);
    const elem = field[0] as 'str' | StatsShape;
    return v.map((x, i) => checkStats(x, elem as StatsField, `${path}[${i}]`));
  }
  if (typeof field === 'object') return checkStatsObject(v, field as unknown as StatsShape, path);
  switch (field) {
    case 'str':
      if (typeof v !== 'string') throw schemaError(path, `expected a string, got ${describe(v)}`);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw schemaError(path, `expected a bool, got ${describe(v)}`);
      return v;
    case 'bin':
      if (v === null) return null;
      if (!Buffer.isBuffer(v)) throw schemaError(path, `expected binary, got ${describe(v)}`);
      return new Uint8Array(v);
    case 'uint':
      return toBigInt(v, path, false);
    case 'int':
      return toBigInt(v, path, true);
  }
  throw schemaError(path, 'bad shape');
}

function checkStatsObject(v: unknown, shape: StatsShape, path: string): StatsObject {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || Buffer.isBuffer(v)) {
    throw schemaError(path, `expected a ${shape.name} map, got ${describe(v)}`);
  }
  const out: StatsObject = {};
  for (const [k, x] of Object.entries(v)) {
    const f = shape.fields[k];
    if (f === undefined) throw schemaError(path, `unknown key "${k}" in ${shape.name}`);
    out[k] = checkStats(x, f, `${path}.${k}`);
  }
  return out;
}

export function decodeStats(body: Buffer): StatsObject {
  let value: unknown;
  try {
    const dec = new DecodeBuffer({ codec: int64Codec });
    dec.write(body);
    value = dec.read();
    if (dec.offset !== body.length) {
      throw new Error(`${body.length - dec.offset} trailing bytes after the payload`);
    }
  } catch (err) {
    throw new IntakeError('FI_ERR_MSGPACK', `invalid msgpack StatsPayload: ${(err as Error).message}`);
  }
  return checkStatsObject(value, StatsPayloadShape, 'StatsPayload');
}

export { decodeSeries, decodeLogs, decodeEvent, decodeCheckRuns, MAX_LOGS_PER_PAYLOAD, MAX_LOG_ENTRY_BYTES } from './decode-json.js';
