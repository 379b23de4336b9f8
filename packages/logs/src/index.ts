export { buildLogs, MAX_BATCH_ENTRIES, MAX_BATCH_BYTES, MAX_BUFFER_BYTES, MAX_ENTRY_BYTES } from './unit.js';
export type { Logs, LogsOptions, LogsCounters } from './unit.js';
export { LogProcessor, OOM_STRINGS, statusOf } from './processor.js';
export type { IntakeLog, ProcessorOptions, ProcessorCounters, TelemetryEvent } from './processor.js';
export { compileRules, applyRules } from './rules.js';
export type { Rule } from './rules.js';
