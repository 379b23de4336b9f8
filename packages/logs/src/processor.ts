// Telemetry API events → intake logs (DataDog/datadog-lambda-extension, bottlecap/src/logs/lambda/processor.rs). Function and extension records become log
// lines; platform events become the lines Lambda itself writes (INIT_START, START, END, REPORT). The
// request id is the current invocation's between platform.start and runtimeDone; lines seen before a
// START are held and given the next START's id.
import { parseDurableExecutionArn } from './durable.js';
import { applyRules } from './rules.js';
import type { Rule } from './rules.js';

/** One log as the intake takes it (`DD-PROTOCOL: agent-json`). */
/** The `lambda` attribute of a log; the durable_function.* keys only for durable functions. */
export interface LambdaAttributes {
  arn: string;
  request_id: string | null;
  'durable_function.execution_id'?: string;
  'durable_function.execution_name'?: string;
  'durable_function.first_invocation'?: boolean;
  'durable_function.execution_status'?: string;
}

export interface IntakeLog {
  message: { message: string; lambda: LambdaAttributes; timestamp: number; status: string };
  hostname: string;
  service: string;
  ddtags: string;
  ddsource: 'lambda';
}

export interface TelemetryEvent {
  time?: unknown;
  type?: unknown;
  record?: unknown;
}

export interface ProcessorOptions {
  functionArn: string;
  service: string;
  /** Function tags as `k:v` pairs. */
  tags: readonly string[];
  rules: readonly Rule[];
  /** Lambda Managed Instances: requests overlap, so lines are never held for a START. */
  managed: boolean;
}

export interface ProcessorCounters {
  records: number;
  /** Records dropped by an exclude/include rule. */
  excluded: number;
  /** Events that were not a telemetry event object (skipped). */
  malformed: number;
  /** Our own extension's informational lines, not shipped back (they would feed every flush). */
  ownLines: number;
}

/** Strings the runtimes print when a function runs out of memory (bottlecap's list). */
export const OOM_STRINGS: readonly string[] = [
  'fatal error: runtime: out of memory',
  'java.lang.OutOfMemoryError',
  'JavaScript heap out of memory',
  'Runtime exited with error: signal: killed',
  'MemoryError',
  'failed to allocate memory (NoMemoryError)',
  'OutOfMemoryException',
];

const LEVELS: Readonly<Record<string, string>> = {
  FATAL: 'critical',
  CRITICAL: 'critical',
  ERR: 'error',
  ERROR: 'error',
  WARN: 'warn',
  WARNING: 'warn',
  INFO: 'info',
  INFORMATION: 'info',
  DEBUG: 'debug',
  TRACE: 'trace',
};

/** pino's numeric levels (our own lines, and Node functions logging with pino). */
const PINO_LEVELS: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'critical' };

/** Maps a level word (any case) or a pino level number to an intake status; undefined when it is not one. */
export function statusOf(level: unknown): string | undefined {
  if (typeof level === 'number') return PINO_LEVELS[level];
  return typeof level === 'string' ? LEVELS[level.toUpperCase()] : undefined;
}

const two = (ms: number): string => ms.toFixed(2);

/** pino's own fields, not repeated after the message. */
const PINO_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

/**
 * Our own warn/error pino line as Datadog's extension prints its lines (`DD_EXTENSION | WARN | msg
 * key=value`, DataDog/datadog-lambda-extension bottlecap/src/logger.rs), so they read and search the
 * same in Datadog; stdout keeps pino's JSON.
 */
function ownLine(status: string, parsed: Record<string, unknown>): string {
  const level = status === 'critical' ? 'ERROR' : status.toUpperCase();
  let out = `DD_EXTENSION | ${level} | ${typeof parsed['msg'] === 'string' ? parsed['msg'] : ''}`;
  for (const [k, v] of Object.entries(parsed)) {
    if (PINO_FIELDS.has(k) || v === undefined) continue;
    out += ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
  }
  return out;
}

function timeOf(e: TelemetryEvent): number {
  const t = typeof e.time === 'string' ? Date.parse(e.time) : Number.NaN;
  return Number.isFinite(t) ? t : Date.now();
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

interface Draft {
  message: string;
  requestId: string | null;
  timestamp: number;
  status: string;
  extraTags: string;
  /** From the durable execution SDK's `executionArn`. */
  durable?: { id: string; name: string } | undefined;
}

export class LogProcessor {
  readonly #o: ProcessorOptions;
  readonly #baseTags: string;
  readonly counters: ProcessorCounters = { records: 0, excluded: 0, malformed: 0, ownLines: 0 };
  #current: string | null = null;
  #orphans: Draft[] = [];
  /** Whether the function is durable (platform.initStart's runtime version); undefined until it is seen. */
  durable: boolean | undefined;
  /** runtimeDone durations by request id, for REPORT's Runtime Duration (dropped once reported). */
  readonly #runtimeMs = new Map<string, number>();
  /**
   * Request ids whose log lines showed an out-of-memory string. The platform's own signals (errorType,
   * memory used = memory size) are read by the lifecycle unit, which dedupes all of them per request.
   */
  readonly oom = new Set<string>();

  constructor(o: ProcessorOptions) {
    this.#o = o;
    this.#baseTags = o.tags.join(',');
  }

  get currentRequestId(): string | null {
    return this.#current;
  }

  /** Processes one batch in order; returns the logs ready to ship (orphans stay held). */
  process(events: readonly unknown[]): IntakeLog[] {
    const out: IntakeLog[] = [];
    for (const raw of events) {
      const e = obj(raw) as TelemetryEvent;
      if (typeof e.type !== 'string') {
        this.counters.malformed++;
        continue;
      }
      this.counters.records++;
      let draft: Draft | undefined;
      try {
        draft = this.#draft(e);
      } catch {
        // A record nested too deep to serialise (RangeError) is dropped alone, counted; the batch goes on.
        this.counters.malformed++;
        continue;
      }
      if (draft === undefined) continue;
      if (e.type === 'platform.start' && draft.requestId !== null) {
        // Lines held before this START belong to it.
        for (const o of this.#orphans) this.#emit(out, { ...o, requestId: draft.requestId });
        this.#orphans = [];
      }
      // Function lines without an invocation wait for the next one; extension lines never have one.
      if (draft.requestId === null && !this.#o.managed && e.type === 'function') this.#orphans.push(draft);
      else this.#emit(out, draft);
    }
    return out;
  }

  /** SHUTDOWN: what is still held goes out without a request id. */
  takeOrphans(): IntakeLog[] {
    const out: IntakeLog[] = [];
    for (const d of this.#orphans) this.#emit(out, d);
    this.#orphans = [];
    return out;
  }

  /** Applies the processing rules; an excluded line is counted and not emitted. */
  #emit(out: IntakeLog[], d: Draft): void {
    const masked = applyRules(d.message, this.#o.rules);
    if (masked === undefined) {
      this.counters.excluded++;
      return;
    }
    const lambda: LambdaAttributes = { arn: this.#o.functionArn, request_id: d.requestId };
    if (d.durable !== undefined) {
      lambda['durable_function.execution_id'] = d.durable.id;
      lambda['durable_function.execution_name'] = d.durable.name;
    }
    out.push({
      message: { message: masked, lambda, timestamp: d.timestamp, status: d.status },
      hostname: this.#o.functionArn,
      service: this.#o.service,
      ddtags: d.extraTags === '' ? this.#baseTags : this.#baseTags === '' ? d.extraTags : `${this.#baseTags},${d.extraTags}`,
      ddsource: 'lambda',
    });
  }

  #draft(e: TelemetryEvent): Draft | undefined {
    const ts = timeOf(e);
    const r = obj(e.record);
    const line = (message: string, status = 'info', requestId: string | null = this.#current): Draft => ({ message, requestId, timestamp: ts, status, extraTags: '' });
    switch (e.type) {
      case 'function':
      case 'extension':
        return this.#logRecord(e.type, e.record, ts);
      case 'platform.initStart': {
        const v = typeof r['runtimeVersion'] === 'string' ? r['runtimeVersion'] : undefined;
        const arn = typeof r['runtimeVersionArn'] === 'string' ? r['runtimeVersionArn'] : undefined;
        this.durable = v?.includes('DurableFunction') === true;
        let msg = 'INIT_START';
        if (v !== undefined) msg += ` Runtime Version: ${v}`;
        if (arn !== undefined) msg += ` Runtime Version ARN: ${arn}`;
        return line(msg, 'info', null);
      }
      case 'platform.start': {
        const id = typeof r['requestId'] === 'string' ? r['requestId'] : null;
        this.#current = id;
        const version = typeof r['version'] === 'string' ? r['version'] : '$LATEST';
        return line(`START RequestId: ${id ?? ''} Version: ${version}`, 'info', id);
      }
      case 'platform.runtimeDone': {
        const id = typeof r['requestId'] === 'string' ? r['requestId'] : this.#current;
        const ms = num(obj(r['metrics'])['durationMs']);
        if (id !== null && ms !== undefined) this.#runtimeMs.set(id, ms);
        if (id === this.#current) this.#current = null;
        const status = r['status'];
        let msg = `END RequestId: ${id ?? ''}`;
        let level = 'info';
        if (status === 'timeout') {
          msg += ` Task timed out after ${((ms ?? 0) / 1000).toFixed(2)} seconds`;
          level = 'error';
        } else if (status === 'error' || status === 'failure') {
          msg += ` Task failed: "${typeof r['errorType'] === 'string' ? r['errorType'] : status}"`;
          level = 'error';
        }
        return line(msg, level, id);
      }
      case 'platform.report': {
        const id = typeof r['requestId'] === 'string' ? r['requestId'] : null;
        const m = obj(r['metrics']);
        const duration = num(m['durationMs']);
        if (duration === undefined) return undefined;
        let msg = `REPORT RequestId: ${id ?? ''} Duration: ${two(duration)} ms`;
        const runtime = id === null ? undefined : this.#runtimeMs.get(id);
        if (id !== null) this.#runtimeMs.delete(id);
        if (runtime !== undefined) msg += ` Runtime Duration: ${two(runtime)} ms Post Runtime Duration: ${two(Math.max(0, duration - runtime))} ms`;
        const billed = num(m['billedDurationMs']);
        const size = num(m['memorySizeMB']);
        const used = num(m['maxMemoryUsedMB']);
        const init = num(m['initDurationMs']);
        const restore = num(m['restoreDurationMs']);
        if (billed !== undefined) msg += ` Billed Duration: ${billed} ms`;
        if (size !== undefined) msg += ` Memory Size: ${size} MB`;
        if (used !== undefined) msg += ` Max Memory Used: ${used} MB`;
        if (init !== undefined) msg += ` Init Duration: ${two(init)} ms`;
        if (restore !== undefined) msg += ` Restore Duration: ${two(restore)} ms`;
        const status = r['status'];
        if (this.#o.managed && id === this.#current) this.#current = null;
        return line(msg, status === 'success' || status === undefined ? 'info' : 'error', id);
      }
      default:
        // Other platform events (initRuntimeDone, extension, telemetrySubscription, logsDropped...) are not log lines.
        return undefined;
    }
  }

  #logRecord(type: 'function' | 'extension', record: unknown, ts: number): Draft | undefined {
    let requestId: string | null = type === 'function' ? this.#current : null;
    let status = 'info';
    let extraTags = '';
    let message: string;
    let parsed: Record<string, unknown> | undefined;
    let durable: Draft['durable'];
    /** The runtime's text prefix in front of a JSON message (`time\tid\tINFO\t{...}`), kept as printed. */
    let prefix = '';
    if (typeof record === 'string') {
      message = record.endsWith('\n') ? record.slice(0, -1) : record;
      // Runtime text formats: Node `time\trequestId\tLEVEL\tmsg`, Python `[LEVEL]\ttime\trequestId\tmsg`.
      const tab = /^\S+\t\S+\t([A-Z]+)\t/.exec(message) ?? /^\[([A-Z]+)\]\t\S+\t\S+\t/.exec(message);
      status = statusOf(tab?.[1]) ?? 'info';
      const rest = tab === null ? message.trimStart() : message.slice(tab[0].length);
      if (rest.startsWith('{') && rest.endsWith('}')) {
        try {
          const v: unknown = JSON.parse(rest);
          if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
            parsed = v as Record<string, unknown>;
            prefix = tab === null ? '' : tab[0];
          }
        } catch {
          // a text line that only looks like JSON
        }
      }
    } else if (record !== null && typeof record === 'object' && !Array.isArray(record)) {
      parsed = { ...(record as Record<string, unknown>) };
      message = '';
    } else {
      return undefined;
    }
    if (parsed !== undefined) {
      if (type === 'extension' && typeof parsed['component'] === 'string' && typeof parsed['level'] === 'number') {
        // Our own pino lines below warn: shipping them would make every flush log what the next ships.
        if (parsed['level'] < 40) {
          this.counters.ownLines++;
          return undefined;
        }
        const own = statusOf(parsed['level']) ?? 'warn';
        return { message: ownLine(own, parsed), requestId: null, timestamp: ts, status: own, extraTags: '' };
      }
      const own = parsed['requestId'] ?? parsed['AWSRequestId'];
      if (typeof own === 'string' && own !== '') requestId = own;
      if (type === 'function' && typeof parsed['executionArn'] === 'string') durable = parseDurableExecutionArn(parsed['executionArn']);
      status = statusOf(parsed['level']) ?? statusOf(parsed['status']) ?? status;
      const inner = obj(parsed['message']);
      const tags = parsed['ddtags'] ?? inner['ddtags'];
      if (typeof tags === 'string') {
        extraTags = tags;
        if ('ddtags' in parsed) delete parsed['ddtags'];
        else delete inner['ddtags'];
      }
      message = prefix + JSON.stringify(parsed);
    }
    for (const s of OOM_STRINGS) {
      if (message.includes(s)) {
        status = 'error';
        if (requestId !== null) this.oom.add(requestId);
        break;
      }
    }
    return { message, requestId, timestamp: ts, status, extraTags, durable };
  }
}
