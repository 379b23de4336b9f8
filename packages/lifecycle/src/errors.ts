// The lifecycle unit's codes, all logged beside what they skip.
export type LifecycleErrorCode =
  /** DD_TRACE_PROPAGATION_STYLE(_EXTRACT) names a style we do not know (ignored). */
  | 'LC_ERR_CONFIG'
  /** A start- or end-invocation body over 6 MiB (read as {}). */
  | 'LC_ERR_BODY_TOO_LARGE';
