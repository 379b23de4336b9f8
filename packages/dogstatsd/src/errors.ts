// The DogStatsD unit's codes, all logged beside what they skip or count.
export type DogStatsDErrorCode =
  /** DD_STATSD_METRIC_NAMESPACE is not a valid metric name prefix (ignored). */
  | 'DSD_ERR_NAMESPACE'
  /** Input dropped before aggregation (bad lines, context cap), counted since the last flush. */
  | 'DSD_ERR_DROPPED_INPUT';
