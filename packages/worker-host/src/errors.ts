// Coded errors raised by the worker host.
export type WorkerHostErrorCode =
  | 'WH_ERR_UNIT_LOAD'
  | 'WH_ERR_UNIT_CALL'
  | 'WH_ERR_FLUSH_DEADLINE'
  | 'WH_ERR_PROTOCOL'
  /** Logged (not thrown): a unit message its target does not take, per the protocol's unit table. */
  | 'WH_ERR_MESSAGE';

export class WorkerHostError extends Error {
  readonly code: WorkerHostErrorCode;

  constructor(code: WorkerHostErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'WorkerHostError';
    this.code = code;
  }
}
