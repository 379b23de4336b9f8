// The logging surface every package codes against: the subset of pino's API we use, so the main
// thread's light writer and pino are interchangeable.
export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface LogFn {
  (msg: string): void;
  (fields: Record<string, unknown>, msg?: string): void;
}

export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
  isLevelEnabled(level: Exclude<Level, 'silent'>): boolean;
}

/** pino's numeric levels; the light writer emits the same numbers. */
export const LEVEL_VALUES: Readonly<Record<Level, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
};

/** Field names whose values never reach a log line (the API key under any of its spellings). */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['apikey', 'api_key', 'dd-api-key', 'dd_api_key', 'kmsapikey', 'authorization']);
