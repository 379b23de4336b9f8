// Coded errors of the supervisor.
import { codedError } from '@dd-lambda/protocol';
export type SupervisorErrorCode =
  | 'SV_ERR_BIND'
  | 'SV_ERR_UNITS_MANIFEST'
  | 'SV_ERR_WORKER_EXIT'
  | 'SV_ERR_FLUSH_TIMEOUT'
  /** Logged (not thrown): the kernel dropped DogStatsD datagrams since the last flush. */
  | 'SV_ERR_UDP_DROPS'
  /** Logged (not thrown), once: a DogStatsD datagram over DD_DOGSTATSD_BUFFER_SIZE was cut at its last whole line. */
  | 'SV_ERR_DATAGRAM_TRUNCATED'
  /** Logged (not thrown): no API key and no source to fetch one from; the secrets package's code for it. */
  | 'SEC_ERR_CONFIG'
  /** Mini agent: a listener stopped accepting unexpectedly; the process exits non-zero. */
  | 'SV_ERR_LISTENER_LOST';

export class SupervisorError extends codedError<SupervisorErrorCode>('SupervisorError') {}
