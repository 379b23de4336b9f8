// pino for the worker threads: JSON to stdout (fd 1, synchronous writes so a line is never torn
// and nothing is lost when a worker exits), bound with {component, thread}, secrets censored.
import { hostname } from 'node:os';
import pino from 'pino';
import type { Level, Logger } from './types.js';

export interface LoggerOptions {
  level: Level;
  bindings?: Record<string, unknown>;
  /** Tests pass a stream; stdout by default. */
  destination?: pino.DestinationStream;
}

const REDACT = ['apiKey', 'api_key', '*.apiKey', '*.api_key', 'config.apiKey', 'headers["dd-api-key"]', '*.headers["dd-api-key"]', 'headers.authorization'];

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ fd: 1, sync: true });
  const logger = pino({ level: options.level, redact: { paths: REDACT, censor: '[redacted]' }, base: { pid: process.pid, hostname: hostname(), ...options.bindings } }, destination);
  return logger as unknown as Logger;
}
