export { createLogger } from './pino.js';
export type { LoggerOptions } from './pino.js';
export { createBootLogger } from './boot.js';
export type { BootLoggerOptions } from './boot.js';
export { LEVEL_VALUES, SECRET_KEYS } from './types.js';
export type { Level, LogFn, Logger } from './types.js';
