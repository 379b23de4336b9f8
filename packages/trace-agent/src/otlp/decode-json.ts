// ExportTraceServiceRequest in OTLP/JSON (opentelemetry-proto, docs/specification.md "JSON Protobuf
// Encoding"): lowerCamelCase names, trace and span ids as hex, 64-bit integers as strings or numbers,
// enums as integers, bytes as base64. The same shape as the protobuf reader's.
import { TraceAgentError } from '../errors.js';
import { emptySpan } from './model.js';
import type { AnyValue, KeyValue, OtlpEvent, OtlpLink, OtlpResourceSpans, OtlpSpan } from './model.js';

type Obj = Record<string, unknown>;

function bad(why: string): TraceAgentError {
  return new TraceAgentError('TA_ERR_OTLP_DECODE', `OTLP JSON: ${why}`);
}

const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** A 64-bit integer written as a string or a number. */
function int64(v: unknown, what: string): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) return BigInt(v);
  throw bad(`${what} is not an integer`);
}

function hexId(v: unknown, bytes: number, what: string): Uint8Array {
  if (v === undefined || v === null || v === '') return new Uint8Array(0);
  if (typeof v !== 'string' || v.length !== bytes * 2 || !/^[0-9a-fA-F]+$/.test(v)) throw bad(`${what} is not ${bytes * 2} hex digits`);
  return Buffer.from(v, 'hex');
}

function anyValue(v: unknown): AnyValue {
  const o = obj(v);
  if ('stringValue' in o) return str(o['stringValue']);
  if ('boolValue' in o) return o['boolValue'] === true;
  if ('intValue' in o) return int64(o['intValue'], 'intValue');
  if ('doubleValue' in o) {
    const d = o['doubleValue'];
    // protojson writes NaN and the infinities as strings.
    return typeof d === 'number' ? d : Number(d);
  }
  if ('arrayValue' in o) return arr(obj(o['arrayValue'])['values']).map(anyValue);
  if ('kvlistValue' in o) return { kvlist: keyValues(obj(o['kvlistValue'])['values']) };
  if ('bytesValue' in o) return Buffer.from(str(o['bytesValue']), 'base64');
  return undefined;
}

function keyValues(v: unknown): KeyValue[] {
  return arr(v).map((kv) => ({ key: str(obj(kv)['key']), value: anyValue(obj(kv)['value']) }));
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function event(v: unknown): OtlpEvent {
  const e = obj(v);
  return {
    timeUnixNano: int64(e['timeUnixNano'], 'timeUnixNano'),
    name: str(e['name']),
    attributes: keyValues(e['attributes']),
    droppedAttributesCount: count(e['droppedAttributesCount']),
  };
}

function link(v: unknown): OtlpLink {
  const l = obj(v);
  return {
    traceId: hexId(l['traceId'], 16, 'link traceId'),
    spanId: hexId(l['spanId'], 8, 'link spanId'),
    traceState: str(l['traceState']),
    attributes: keyValues(l['attributes']),
    droppedAttributesCount: count(l['droppedAttributesCount']),
    flags: count(l['flags']),
  };
}

function span(v: unknown): OtlpSpan {
  const o = obj(v);
  const s = emptySpan();
  s.traceId = hexId(o['traceId'], 16, 'traceId');
  s.spanId = hexId(o['spanId'], 8, 'spanId');
  s.parentSpanId = hexId(o['parentSpanId'], 8, 'parentSpanId');
  s.traceState = str(o['traceState']);
  s.name = str(o['name']);
  s.kind = count(o['kind']);
  s.startTimeUnixNano = int64(o['startTimeUnixNano'], 'startTimeUnixNano');
  s.endTimeUnixNano = int64(o['endTimeUnixNano'], 'endTimeUnixNano');
  s.attributes = keyValues(o['attributes']);
  s.events = arr(o['events']).map(event);
  s.links = arr(o['links']).map(link);
  if ('status' in o) {
    const st = obj(o['status']);
    s.status = { code: count(st['code']), message: str(st['message']) };
  }
  return s;
}

export function decodeOtlpJson(body: Buffer): OtlpResourceSpans[] {
  let root: unknown;
  try {
    root = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw bad(`not JSON (${(err as Error).message})`);
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) throw bad('the body is not an object');
  return arr(obj(root)['resourceSpans']).map((rs) => {
    const r = obj(rs);
    return {
      resource: 'resource' in r ? { attributes: keyValues(obj(r['resource'])['attributes']) } : undefined,
      scopeSpans: arr(r['scopeSpans']).map((ss) => {
        const o = obj(ss);
        const scope = obj(o['scope']);
        return {
          scope: 'scope' in o ? { name: str(scope['name']), version: str(scope['version']), attributes: keyValues(scope['attributes']) } : undefined,
          spans: arr(o['spans']).map(span),
        };
      }),
    };
  });
}
