export { buildLifecycle } from './lifecycle.js';
export type { Lifecycle, LifecycleOptions } from './lifecycle.js';
export { InvocationProcessor } from './processor.js';
export type { ProcessorOptions } from './processor-options.js';
export { buildLifecycleListener } from './listener.js';
export type { TriggerOptions } from './triggers.js';
export { ProcSampler, SAMPLE_INTERVAL_MS, PROCESS_SAMPLE_EVERY } from './proc.js';
export type { ProcOptions } from './proc.js';
