// Coded errors of the supervisor.
export type SupervisorErrorCode =
  | 'SV_ERR_BIND'
  | 'SV_ERR_UNITS_MANIFEST'
  | 'SV_ERR_WORKER_EXIT'
  | 'SV_ERR_FLUSH_TIMEOUT'
  /** Logged (not thrown): the kernel dropped DogStatsD datagrams since the last flush. */
  | 'SV_ERR_UDP_DROPS';

export class SupervisorError extends Error {
  readonly code: SupervisorErrorCode;

  constructor(code: SupervisorErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SupervisorError';
    this.code = code;
  }
}
