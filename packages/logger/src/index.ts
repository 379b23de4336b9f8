export { createBootLogger, createBootLogger as createLogger } from './boot.js';
export type { BootLoggerOptions, BootLoggerOptions as LoggerOptions } from './boot.js';
export { LEVEL_VALUES, SECRET_KEYS } from './types.js';
export type { Level, LogFn, Logger } from './types.js';
