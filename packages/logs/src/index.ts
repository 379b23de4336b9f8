export { buildLogs } from './unit.js';
export type { Logs, LogsOptions } from './unit.js';
export type { ProcessorOptions } from './processor.js';
