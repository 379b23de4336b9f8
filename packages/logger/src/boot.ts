// A pino-compatible JSON line writer for every thread. Loading pino costs ~16 ms on the main thread,
// which it cannot spend before its first /next, and ~10 ms of a worker's start-up CPU plus the modules
// it pulls (assert, module, worker_threads); the extension logs little, so this writes the same shape
// (level number, time, pid, hostname, bindings, msg) with one synchronous write per line.
import { writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { LEVEL_VALUES, SECRET_KEYS } from './types.js';
import type { Level, LogFn, Logger } from './types.js';

export interface BootLoggerOptions {
  level: Level;
  bindings?: Record<string, unknown>;
  /** Where lines go; stdout by default. */
  write?: (line: string) => void;
}

function redact(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack, code: (value as { code?: unknown }).code };
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    let copy: Record<string, unknown> | undefined;
    for (const k of Object.keys(value)) {
      if (SECRET_KEYS.has(k.toLowerCase())) {
        copy ??= { ...(value as Record<string, unknown>) };
        copy[k] = '[redacted]';
      }
    }
    return copy ?? value;
  }
  return value;
}

const stdoutWrite = (line: string): void => {
  try {
    writeSync(1, line);
  } catch {
    // stdout closed: nothing useful left to do with a log line.
  }
};

export function createBootLogger(options: BootLoggerOptions): Logger {
  const threshold = LEVEL_VALUES[options.level];
  const write = options.write ?? stdoutWrite;
  const base = { pid: process.pid, hostname: hostname(), ...options.bindings };

  const make = (bindings: Record<string, unknown>): Logger => {
    const at = (level: Exclude<Level, 'silent'>): LogFn => {
      const value = LEVEL_VALUES[level];
      return ((a: string | Record<string, unknown>, msg?: string): void => {
        if (value < threshold) return;
        const fields = typeof a === 'string' ? undefined : a;
        const text = typeof a === 'string' ? a : msg;
        const record = { level: value, time: Date.now(), ...bindings, ...fields, msg: text };
        write(`${JSON.stringify(record, redact)}\n`);
      }) as LogFn;
    };
    return {
      trace: at('trace'),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      fatal: at('fatal'),
      child: (more) => make({ ...bindings, ...more }),
      isLevelEnabled: (level) => LEVEL_VALUES[level] >= threshold,
    };
  };
  return make(base);
}
