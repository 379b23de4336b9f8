// JSON bodies: series v2, logs, events and check runs, each checked key by key as the intake would.
import { IntakeError, schemaError } from './errors.js';
import type { CheckRun, EventPayload, LogEntry, Series, SeriesPayload } from './types.js';

function parseJson(body: Buffer, what: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new IntakeError('FI_ERR_JSON', `invalid JSON ${what}: ${(err as Error).message}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const seriesKeys = new Set(['metric', 'type', 'points', 'tags', 'resources', 'unit', 'interval', 'source_type_name', 'metadata']);

function checkSeries(s: unknown, path: string): Series {
  if (!isObject(s)) throw schemaError(path, 'expected an object');
  for (const k of Object.keys(s)) if (!seriesKeys.has(k)) throw schemaError(path, `unknown key "${k}"`);
  if (typeof s.metric !== 'string' || s.metric === '') throw schemaError(`${path}.metric`, 'required non-empty string');
  const type = s.type ?? 0;
  if (typeof type !== 'number' || !Number.isInteger(type) || type < 0 || type > 3) {
    throw schemaError(`${path}.type`, `expected 0 (unspecified), 1 (count), 2 (rate) or 3 (gauge), got ${JSON.stringify(s.type)}`);
  }
  if (!Array.isArray(s.points) || s.points.length === 0) throw schemaError(`${path}.points`, 'required non-empty array');
  const points = s.points.map((p, i) => {
    const pp = `${path}.points[${i}]`;
    if (!isObject(p)) throw schemaError(pp, 'expected an object');
    if (typeof p.timestamp !== 'number' || !Number.isInteger(p.timestamp)) throw schemaError(`${pp}.timestamp`, 'expected integer seconds');
    if (typeof p.value !== 'number' || !Number.isFinite(p.value)) throw schemaError(`${pp}.value`, 'expected a finite number');
    return { timestamp: p.timestamp, value: p.value };
  });
  const tags = s.tags ?? [];
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw schemaError(`${path}.tags`, 'expected an array of strings');
  const resources = s.resources ?? [];
  if (!Array.isArray(resources)) throw schemaError(`${path}.resources`, 'expected an array');
  for (const [i, r] of resources.entries()) {
    if (!isObject(r) || typeof r.name !== 'string' || typeof r.type !== 'string') {
      throw schemaError(`${path}.resources[${i}]`, 'expected {name: string, type: string}');
    }
  }
  if (s.interval !== undefined && (typeof s.interval !== 'number' || !Number.isInteger(s.interval))) {
    throw schemaError(`${path}.interval`, 'expected integer seconds');
  }
  for (const k of ['unit', 'source_type_name'] as const) {
    if (s[k] !== undefined && typeof s[k] !== 'string') throw schemaError(`${path}.${k}`, 'expected a string');
  }
  if (s.metadata !== undefined) {
    if (!isObject(s.metadata)) throw schemaError(`${path}.metadata`, 'expected an object');
    for (const k of Object.keys(s.metadata)) if (k !== 'origin') throw schemaError(`${path}.metadata`, `unknown key "${k}"`);
    const o = s.metadata['origin'];
    if (o !== undefined) {
      if (!isObject(o)) throw schemaError(`${path}.metadata.origin`, 'expected an object');
      for (const [k, v] of Object.entries(o)) {
        if (!['origin_product', 'origin_category', 'origin_service'].includes(k)) throw schemaError(`${path}.metadata.origin`, `unknown key "${k}"`);
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw schemaError(`${path}.metadata.origin.${k}`, 'expected a non-negative integer');
      }
    }
  }
  return { ...(s as unknown as Series), type, points, tags: tags as string[], resources: resources as Series['resources'] };
}

export function decodeSeries(body: Buffer): SeriesPayload {
  const v = parseJson(body, 'series payload');
  if (!isObject(v) || !Array.isArray(v.series)) throw schemaError('payload', 'expected {"series": [...]}');
  for (const k of Object.keys(v)) if (k !== 'series') throw schemaError('payload', `unknown key "${k}"`);
  return { series: v.series.map((s, i) => checkSeries(s, `series[${i}]`)) };
}

const logStringKeys = ['ddsource', 'ddtags', 'hostname', 'service', 'status'] as const;

export const MAX_LOGS_PER_PAYLOAD = 1000;
export const MAX_LOG_ENTRY_BYTES = 1024 * 1024;

export function decodeLogs(body: Buffer): LogEntry[] {
  const v = parseJson(body, 'logs payload');
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw schemaError('payload', 'empty array of logs');
  if (list.length > MAX_LOGS_PER_PAYLOAD) {
    throw schemaError('payload', `${list.length} logs in one payload; the intake takes at most ${MAX_LOGS_PER_PAYLOAD}`);
  }
  return list.map((entry: unknown, i) => {
    const p = `logs[${i}]`;
    if (!isObject(entry)) throw schemaError(p, 'expected an object');
    let e: Record<string, unknown> = entry;
    if (Buffer.byteLength(JSON.stringify(e)) > MAX_LOG_ENTRY_BYTES) {
      throw new IntakeError('FI_ERR_TOO_LARGE', `${p}: a single log over ${MAX_LOG_ENTRY_BYTES} bytes`);
    }
    // The Lambda extension's shape nests the message: {message: {message, lambda, timestamp, status}, ...}.
    // It is checked, then flattened so tests read every entry the same way.
    if (isObject(e.message)) {
      const inner = e.message;
      if (typeof inner.message !== 'string') throw schemaError(`${p}.message.message`, 'required string');
      if (inner.lambda !== undefined && !isObject(inner.lambda)) throw schemaError(`${p}.message.lambda`, 'expected an object');
      if (inner.status !== undefined && typeof inner.status !== 'string') throw schemaError(`${p}.message.status`, 'expected a string');
      if (inner.timestamp !== undefined && typeof inner.timestamp !== 'number') throw schemaError(`${p}.message.timestamp`, 'expected a number (ms)');
      const flat: Record<string, unknown> = { ...e, ...inner, nested: true };
      if (inner.status === undefined && e.status !== undefined) flat['status'] = e.status;
      e = flat;
    }
    if (typeof e.message !== 'string') throw schemaError(`${p}.message`, 'required string');
    for (const k of logStringKeys) {
      if (e[k] !== undefined && typeof e[k] !== 'string') throw schemaError(`${p}.${k}`, 'expected a string');
    }
    if (e.timestamp !== undefined && typeof e.timestamp !== 'number' && typeof e.timestamp !== 'string') {
      throw schemaError(`${p}.timestamp`, 'expected a number (ms) or a string');
    }
    return e as LogEntry;
  });
}

const eventKeys = new Set(['title', 'text', 'date_happened', 'host', 'aggregation_key', 'priority', 'source_type_name', 'alert_type', 'tags', 'device_name', 'related_event_id']);
const alertTypes = new Set(['error', 'warning', 'info', 'success', 'user_update', 'recommendation', 'snapshot']);

/** `POST /api/v1/events`: one event object, with the limits the public API documents. */
export function decodeEvent(body: Buffer): EventPayload {
  const e = parseJson(body, 'event');
  if (!isObject(e)) throw schemaError('event', 'expected an object');
  for (const k of Object.keys(e)) if (!eventKeys.has(k)) throw schemaError('event', `unknown key "${k}"`);
  if (typeof e.title !== 'string' || e.title === '') throw schemaError('event.title', 'required non-empty string');
  if (e.title.length > 100) throw schemaError('event.title', `${e.title.length} characters; the API takes at most 100`);
  if (typeof e.text !== 'string') throw schemaError('event.text', 'required string');
  if (e.text.length > 4000) throw schemaError('event.text', `${e.text.length} characters; the API takes at most 4000`);
  if (e.date_happened !== undefined && (typeof e.date_happened !== 'number' || !Number.isInteger(e.date_happened)))
    throw schemaError('event.date_happened', 'expected integer seconds');
  if (e.priority !== undefined && e.priority !== 'normal' && e.priority !== 'low') throw schemaError('event.priority', 'expected normal or low');
  if (e.alert_type !== undefined && (typeof e.alert_type !== 'string' || !alertTypes.has(e.alert_type)))
    throw schemaError('event.alert_type', `unknown alert type ${JSON.stringify(e.alert_type)}`);
  for (const k of ['host', 'aggregation_key', 'source_type_name'] as const) {
    if (e[k] !== undefined && typeof e[k] !== 'string') throw schemaError(`event.${k}`, 'expected a string');
  }
  if (e.tags !== undefined && (!Array.isArray(e.tags) || !e.tags.every((t) => typeof t === 'string'))) throw schemaError('event.tags', 'expected an array of strings');
  return e as unknown as EventPayload;
}

const checkKeys = new Set(['check', 'host_name', 'status', 'timestamp', 'message', 'tags']);

/** `POST /api/v1/check_run`: an array of service check results. */
export function decodeCheckRuns(body: Buffer): CheckRun[] {
  const v = parseJson(body, 'check runs');
  if (!Array.isArray(v) || v.length === 0) throw schemaError('payload', 'expected a non-empty array of check runs');
  return v.map((c, i) => {
    const p = `check_run[${i}]`;
    if (!isObject(c)) throw schemaError(p, 'expected an object');
    for (const k of Object.keys(c)) if (!checkKeys.has(k)) throw schemaError(p, `unknown key "${k}"`);
    if (typeof c.check !== 'string' || c.check === '') throw schemaError(`${p}.check`, 'required non-empty string');
    if (typeof c.host_name !== 'string') throw schemaError(`${p}.host_name`, 'required string');
    if (c.status !== 0 && c.status !== 1 && c.status !== 2 && c.status !== 3) throw schemaError(`${p}.status`, 'expected 0, 1, 2 or 3');
    if (!Array.isArray(c.tags) || !c.tags.every((t) => typeof t === 'string')) throw schemaError(`${p}.tags`, 'required array of strings');
    if (c.timestamp !== undefined && (typeof c.timestamp !== 'number' || !Number.isInteger(c.timestamp))) throw schemaError(`${p}.timestamp`, 'expected integer seconds');
    if (c.message !== undefined && typeof c.message !== 'string') throw schemaError(`${p}.message`, 'expected a string');
    return c as unknown as CheckRun;
  });
}
