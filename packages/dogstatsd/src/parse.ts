// The DogStatsD line protocol (datagram shell v1.0–1.3), parsed with indexOf over one string per
// datagram: no regex, no split per line, and tags kept as one raw string until the aggregator's
// cache turns them into a sorted list (splitting tags dominates the cost: bench/dogstatsd.mjs).
//
//   metric         name:value[:value...]|type[|@rate][|#tags][|T<unix s>][|c:<container>][|e:..][|card:..]
//   event          _e{<title len>,<text len>}:title|text[|d:ts][|h:host][|k:key][|p:prio][|s:src][|t:alert][|#tags]
//   service check  _sc|name|status[|d:ts][|h:host][|#tags][|m:message]
// Fields after the type come in any order (hot-shots puts T before #). Unknown fields are ignored,
// as the agent does, so newer clients keep working.

/** Metric types as sent; `h` and `ms` are aggregated as distributions. */
export type WireType = 'c' | 'g' | 's' | 'd' | 'h' | 'ms';

export type MalformedReason = 'no_value' | 'empty_name' | 'bad_type' | 'bad_value' | 'bad_sample_rate' | 'bad_timestamp' | 'bad_event' | 'bad_service_check';

export interface DsdEvent {
  title: string;
  text: string;
  timestamp: number | undefined;
  host: string | undefined;
  aggregationKey: string | undefined;
  priority: 'normal' | 'low';
  sourceType: string | undefined;
  alertType: 'error' | 'warning' | 'info' | 'success';
  tags: string;
}

export interface DsdServiceCheck {
  name: string;
  status: 0 | 1 | 2 | 3;
  timestamp: number | undefined;
  host: string | undefined;
  message: string | undefined;
  tags: string;
}

/** Where parsed lines go; the aggregator implements it, tests record it. */
export interface DsdSink {
  /**
   * One metric line. `values` is the raw value field (packed values still joined by `:`), `tags`
   * the raw tag field ('' when absent), `timestamp` unix seconds or 0 when absent.
   */
  metric(name: string, type: WireType, values: string, rate: number, tags: string, timestamp: number): void;
  event(event: DsdEvent): void;
  serviceCheck(check: DsdServiceCheck): void;
  malformed(reason: MalformedReason, line: string): void;
  /** Called once before the lines of a datagram, so per-datagram work (the clock) is not per line. */
  batch?(): void;
}

/** A positive whole number of unix seconds, or undefined. */
function unixSeconds(raw: string): number | undefined {
  const ts = Number(raw);
  return Number.isInteger(ts) && ts > 0 ? ts : undefined;
}

const TYPES: ReadonlySet<string> = new Set(['c', 'g', 's', 'd', 'h', 'ms']);

/** Parse every line of one datagram (or of a `/dogstatsd/v2/proxy` body). */
export function parseDatagram(text: string, sink: DsdSink): void {
  sink.batch?.();
  let start = 0;
  const end = text.length;
  while (start < end) {
    let nl = text.indexOf('\n', start);
    if (nl === -1) nl = end;
    let stop = nl;
    if (stop > start && text.charCodeAt(stop - 1) === 13) stop--; // tolerate \r\n
    if (stop > start) parseLine(text.slice(start, stop), sink);
    start = nl + 1;
  }
}

export function parseLine(line: string, sink: DsdSink): void {
  if (line.startsWith('_e{')) return parseEvent(line, sink);
  if (line.startsWith('_sc|')) return parseServiceCheck(line, sink);

  const colon = line.indexOf(':');
  const pipe = line.indexOf('|', colon + 1);
  if (colon === -1 || pipe === -1) return sink.malformed('no_value', line);
  if (colon === 0) return sink.malformed('empty_name', line);
  if (pipe === colon + 1) return sink.malformed('bad_value', line);
  let next = line.indexOf('|', pipe + 1);
  const type = line.slice(pipe + 1, next === -1 ? line.length : next);
  if (!TYPES.has(type)) return sink.malformed('bad_type', line);

  let rate = 1;
  let tags = '';
  let timestamp = 0;
  while (next !== -1) {
    const from = next + 1;
    next = line.indexOf('|', from);
    const to = next === -1 ? line.length : next;
    if (to === from) continue;
    switch (line.charCodeAt(from)) {
      case 64: {
        // '@'
        rate = Number(line.slice(from + 1, to));
        if (!(rate > 0 && rate <= 1)) return sink.malformed('bad_sample_rate', line);
        break;
      }
      case 35: // '#'
        tags = line.slice(from + 1, to);
        break;
      case 84: {
        // 'T'
        const ts = unixSeconds(line.slice(from + 1, to));
        if (ts === undefined) return sink.malformed('bad_timestamp', line);
        timestamp = ts;
        break;
      }
      default:
        break; // c: container id, e: external env, card: cardinality: origin detection, unused in Lambda
    }
  }
  sink.metric(line.slice(0, colon), type as WireType, line.slice(colon + 1, pipe), rate, tags, timestamp);
}

/** Index in `s` after `bytes` UTF-8 bytes counted from `from`, or -1 if no char boundary lands there. */
function advanceUtf8(s: string, from: number, bytes: number): number {
  let i = from;
  let n = 0;
  while (n < bytes && i < s.length) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      n += 1;
      i += 1;
    } else if (c < 0x800) {
      n += 2;
      i += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i += 2;
    } else {
      n += 3;
      i += 1;
    }
  }
  return n === bytes ? i : -1;
}

/**
 * Find where a length-prefixed field ends. The spec counts UTF-8 bytes; hot-shots counts UTF-16
 * code units (hot-shots and the datadog-lambda libraries differ). Both are tried; the one followed by the expected delimiter wins.
 */
function fieldEnd(s: string, from: number, len: number, delim: (i: number) => boolean): number {
  const units = from + len;
  if (units <= s.length && delim(units)) return units;
  const bytes = advanceUtf8(s, from, len);
  if (bytes !== -1 && delim(bytes)) return bytes;
  return -1;
}

function parseEvent(line: string, sink: DsdSink): void {
  const comma = line.indexOf(',', 3);
  const close = line.indexOf('}', 3);
  if (comma === -1 || close === -1 || comma > close || line.charCodeAt(close + 1) !== 58) return sink.malformed('bad_event', line);
  const titleLen = Number(line.slice(3, comma));
  const textLen = Number(line.slice(comma + 1, close));
  if (!Number.isInteger(titleLen) || !Number.isInteger(textLen) || titleLen <= 0 || textLen < 0) return sink.malformed('bad_event', line);
  const titleFrom = close + 2;
  const titleTo = fieldEnd(line, titleFrom, titleLen, (i) => line.charCodeAt(i) === 124);
  if (titleTo === -1) return sink.malformed('bad_event', line);
  const textFrom = titleTo + 1;
  const textTo = fieldEnd(line, textFrom, textLen, (i) => i === line.length || line.charCodeAt(i) === 124);
  if (textTo === -1) return sink.malformed('bad_event', line);

  const ev: DsdEvent = {
    title: line.slice(titleFrom, titleTo),
    text: line.slice(textFrom, textTo).replaceAll('\\n', '\n'),
    timestamp: undefined,
    host: undefined,
    aggregationKey: undefined,
    priority: 'normal',
    sourceType: undefined,
    alertType: 'info',
    tags: '',
  };
  let next = textTo < line.length ? textTo : -1;
  while (next !== -1) {
    const from = next + 1;
    next = line.indexOf('|', from);
    const field = line.slice(from, next === -1 ? line.length : next);
    if (field.startsWith('#')) ev.tags = field.slice(1);
    else if (field.startsWith('d:')) {
      ev.timestamp = unixSeconds(field.slice(2));
      if (ev.timestamp === undefined) return sink.malformed('bad_event', line);
    } else if (field.startsWith('h:')) ev.host = field.slice(2);
    else if (field.startsWith('k:')) ev.aggregationKey = field.slice(2);
    else if (field.startsWith('s:')) ev.sourceType = field.slice(2);
    else if (field.startsWith('p:')) ev.priority = field.slice(2) === 'low' ? 'low' : 'normal';
    else if (field.startsWith('t:')) {
      const t = field.slice(2);
      ev.alertType = t === 'error' || t === 'warning' || t === 'success' ? t : 'info';
    }
  }
  sink.event(ev);
}

function parseServiceCheck(line: string, sink: DsdSink): void {
  const namePipe = line.indexOf('|', 4);
  if (namePipe === -1 || namePipe === 4) return sink.malformed('bad_service_check', line);
  let next = line.indexOf('|', namePipe + 1);
  const statusField = line.slice(namePipe + 1, next === -1 ? line.length : next);
  if (statusField !== '0' && statusField !== '1' && statusField !== '2' && statusField !== '3') return sink.malformed('bad_service_check', line);
  const sc: DsdServiceCheck = {
    name: line.slice(4, namePipe),
    status: Number(statusField) as 0 | 1 | 2 | 3,
    timestamp: undefined,
    host: undefined,
    message: undefined,
    tags: '',
  };
  while (next !== -1) {
    const from = next + 1;
    if (line.startsWith('m:', from)) {
      // The message is last by spec and may itself contain '|'.
      sc.message = line.slice(from + 2).replaceAll('\\n', '\n');
      break;
    }
    next = line.indexOf('|', from);
    const field = line.slice(from, next === -1 ? line.length : next);
    if (field.startsWith('#')) sc.tags = field.slice(1);
    else if (field.startsWith('d:')) {
      sc.timestamp = unixSeconds(field.slice(2));
      if (sc.timestamp === undefined) return sink.malformed('bad_service_check', line);
    } else if (field.startsWith('h:')) sc.host = field.slice(2);
  }
  sink.serviceCheck(sc);
}
