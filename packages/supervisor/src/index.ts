export { runExtension } from './supervisor.js';
export type { RunOptions } from './supervisor.js';
export type { WorkerSetOptions } from './workers.js';
export type { IngressOptions } from './ingress.js';
export { SupervisorError } from './errors.js';
export type { SupervisorErrorCode } from './errors.js';
export { Pipelines, readUnits, DRAIN_MAX_MS } from './pipelines.js';
export type { PipelinesOptions } from './pipelines.js';
