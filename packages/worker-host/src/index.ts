export { UnitHost, MAX_WAITING_MESSAGES } from './host.js';
export type { HostIO } from './host.js';
export { PortDuplex } from './port-duplex.js';
export { WorkerHostError } from './errors.js';
export type { WorkerHostErrorCode } from './errors.js';
export type { PipelineUnit, UnitContext, UnitFactory, FlushSignal, FlushResult } from './unit.js';
