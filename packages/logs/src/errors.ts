// The logs unit's codes. It throws none of its own: every code is logged beside a counted drop or a
// skipped setting, and users match on them in their logs.
export type LogsErrorCode =
  /** An entry of DD_LOGS_CONFIG_ADDITIONAL_ENDPOINTS lacks Host, api_key or a numeric Port (skipped). */
  | 'LOGS_ERR_ENDPOINT'
  /** A DD_LOGS_CONFIG_PROCESSING_RULES rule does not parse (skipped). */
  | 'LOGS_ERR_RULE'
  /** A telemetry batch is not a JSON array (skipped and counted). */
  | 'LOGS_ERR_BATCH'
  /** The log buffer passed its cap: the oldest logs were dropped and counted. */
  | 'LOGS_ERR_DROPPED'
  /** The intake refused the API key (403): logs wait for another key. */
  | 'LOGS_ERR_FORBIDDEN';
