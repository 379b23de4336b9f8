// Value lookup and forgiving parsers. A value that does not parse is reported in `warnings` (by
// name, never by value: it could be a secret) and the default is used, as Datadog's agent does.
import type { LogLevel } from './types.js';

export type Env = Readonly<Record<string, string | undefined>>;

export class Source {
  readonly warnings: string[] = [];
  /** Every `<key>` looked up, so the variables nobody read can be named (see unsupportedVariables). */
  readonly read = new Set<string>();
  readonly #env: Env;
  readonly #yaml: ReadonlyMap<string, string>;

  constructor(env: Env, yaml: ReadonlyMap<string, string> = new Map()) {
    this.#env = env;
    this.#yaml = yaml;
  }

  /** `DD_<key>`, then `DATADOG_<key>`, then datadog.yaml; empty strings count as unset. */
  raw(key: string): string | undefined {
    this.read.add(key);
    for (const v of [this.#env[`DD_${key}`], this.#env[`DATADOG_${key}`], this.#yaml.get(key)]) {
      if (v !== undefined && v.trim() !== '') return v.trim();
    }
    return undefined;
  }

  /** A variable read under its exact name (AWS_*, LAMBDA_TASK_ROOT). */
  plain(name: string): string | undefined {
    const v = this.#env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  warn(key: string, expected: string): void {
    this.warnings.push(`DD_${key}: expected ${expected}; using the default`);
  }

  str(key: string): string | undefined {
    return this.raw(key);
  }

  bool(key: string, def: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined) return def;
    const b = parseBool(v);
    if (b === undefined) this.warn(key, 'true or false');
    return b ?? def;
  }

  optBool(key: string): boolean | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    const b = parseBool(v);
    if (b === undefined) this.warn(key, 'true or false');
    return b;
  }

  int(key: string, def: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
    return this.optInt(key, min, max) ?? def;
  }

  optInt(key: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = this.raw(key);
    if (v === undefined) return undefined;
    const n = /^[+-]?\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.warn(key, `an integer in ${min}..${max}`);
      return undefined;
    }
    return n;
  }

  num(key: string, def: number, min = 0): number {
    const v = this.raw(key);
    if (v === undefined) return def;
    const n = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v) ? Number(v) : NaN;
    if (!Number.isFinite(n) || n < min) {
      this.warn(key, `a number >= ${min}`);
      return def;
    }
    return n;
  }

  /** Comma-separated (or space-separated, as the agent accepts for tags) list. */
  list(key: string, def: string[] = [], separators: RegExp = /,/): string[] {
    const v = this.raw(key);
    if (v === undefined) return def;
    return v
      .split(separators)
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  json<T>(key: string, def: T, check: (v: unknown) => v is T): T {
    const v = this.raw(key);
    if (v === undefined) return def;
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      this.warn(key, 'JSON');
      return def;
    }
    if (!check(parsed)) {
      this.warn(key, 'JSON of the documented shape');
      return def;
    }
    return parsed;
  }

  /** `a:b,c:d` pairs (DD_SERVICE_MAPPING). */
  pairs(key: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const item of this.list(key)) {
      const i = item.indexOf(':');
      if (i <= 0 || i === item.length - 1) {
        this.warn(key, 'key:value pairs');
        continue;
      }
      out[item.slice(0, i).trim()] = item.slice(i + 1).trim();
    }
    return out;
  }

  logLevel(key: string, def: LogLevel): LogLevel {
    const v = this.raw(key);
    if (v === undefined) return def;
    const level = LOG_LEVELS[v.toLowerCase()];
    if (level === undefined) this.warn(key, 'trace, debug, info, warn, error, critical or off');
    return level ?? def;
  }
}

const LOG_LEVELS: Record<string, LogLevel> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
  fatal: 'fatal',
  off: 'silent',
  silent: 'silent',
};

export function parseBool(v: string): boolean | undefined {
  switch (v.trim().toLowerCase()) {
    case 'true':
    case '1':
    case 'yes':
    case 'y':
    case 'on':
      return true;
    case 'false':
    case '0':
    case 'no':
    case 'n':
    case 'off':
      return false;
    default:
      return undefined;
  }
}

export const isArray = (v: unknown): v is unknown[] => Array.isArray(v);

/** `{"https://url": ["key1", "key2"]}` (DD_ADDITIONAL_ENDPOINTS, DD_APM_ADDITIONAL_ENDPOINTS). */
export const isEndpointMap = (v: unknown): v is Record<string, string[]> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((keys) => Array.isArray(keys) && keys.every((k) => typeof k === 'string'));
