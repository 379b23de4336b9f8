// Helpers for the wire: recognising our messages and turning errors into structured-cloneable data.
import { PROTOCOL } from './messages.js';
import type { FromWorker, ToWorker, WireError } from './messages.js';
import type { ProtocolErrorCode } from './errors.js';

// Every tag of each union, exactly: a tag added to (or removed from) the types without these fails to compile.
const TO_WORKER: { [T in ToWorker['t']]: true } = {
  FLUSH: true,
  SHUTDOWN: true,
  CONNECTION: true,
  DATAGRAMS: true,
  TELEMETRY: true,
  PLATFORM: true,
  INVOCATION: true,
  RUNTIME: true,
  PEER: true,
  API_KEY: true,
  BARRIER: true,
};
const FROM_WORKER: { [T in FromWorker['t']]: true } = {
  READY: true,
  ERROR: true,
  FLUSHED: true,
  DRAINED: true,
  FLUSH_REQUEST: true,
  KEY_REJECTED: true,
  BARRIER_DONE: true,
};
const TO_WORKER_TAGS: ReadonlySet<string> = new Set(Object.keys(TO_WORKER));
const FROM_WORKER_TAGS: ReadonlySet<string> = new Set(Object.keys(FROM_WORKER));

/** 'foreign': not ours, ignore it. 'unknown': ours but a tag this build does not know, a bug. */
export type Classified<T> = { kind: 'ok'; msg: T } | { kind: 'foreign' } | { kind: 'unknown'; tag: unknown };

function classify<T>(value: unknown, tags: ReadonlySet<string>): Classified<T> {
  if (typeof value !== 'object' || value === null || (value as { p?: unknown }).p !== PROTOCOL) return { kind: 'foreign' };
  const tag = (value as { t?: unknown }).t;
  return typeof tag === 'string' && tags.has(tag) ? { kind: 'ok', msg: value as T } : { kind: 'unknown', tag };
}

export function classifyToWorker(value: unknown): Classified<ToWorker> {
  return classify<ToWorker>(value, TO_WORKER_TAGS);
}

export function classifyFromWorker(value: unknown): Classified<FromWorker> {
  return classify<FromWorker>(value, FROM_WORKER_TAGS);
}

/** Errors are structured clones across threads; keep only what receivers match on and print. */
export function toWireError(err: unknown, fallbackCode: string = 'DDL_ERR_UNKNOWN' satisfies ProtocolErrorCode): WireError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const out: WireError = { code: typeof code === 'string' ? code : fallbackCode, message: err.message };
    if (err.stack !== undefined) out.stack = err.stack;
    return out;
  }
  return { code: fallbackCode, message: String(err) };
}

/** Copy a Buffer view into an ArrayBuffer of its own, so it can be transferred without detaching a pool. */
export function ownArrayBuffer(view: Uint8Array): ArrayBuffer {
  if (view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer) {
    return view.buffer;
  }
  const copy = new Uint8Array(view.byteLength);
  copy.set(view);
  return copy.buffer;
}
