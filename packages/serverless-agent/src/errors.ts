// The mini agent's codes. It throws none of its own; these are the supervisor's codes it logs.
export type MiniAgentErrorCode =
  /** No API key: nothing is sent. */
  | 'SEC_ERR_CONFIG'
  /** A listener stopped accepting unexpectedly: drained, flushed, exit 1. */
  | 'SV_ERR_LISTENER_LOST';
