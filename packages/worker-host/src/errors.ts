// Coded errors raised by the worker host.
import { codedError } from '@dd-lambda/protocol';
export type WorkerHostErrorCode =
  | 'WH_ERR_UNIT_LOAD'
  | 'WH_ERR_UNIT_CALL'
  | 'WH_ERR_FLUSH_DEADLINE'
  | 'WH_ERR_PROTOCOL'
  /** A request body over its route's limit, answered 413. */
  | 'WH_ERR_BODY_TOO_LARGE'
  /** Logged (not thrown): a unit message its target does not take, per the protocol's unit table. */
  | 'WH_ERR_MESSAGE';

export class WorkerHostError extends codedError<WorkerHostErrorCode>('WorkerHostError') {}
