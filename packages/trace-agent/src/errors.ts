// Stable codes for everything the trace agent reports; receivers and tests match on `code`.
import { codedError } from '@dd-lambda/protocol';
export type TraceAgentErrorCode =
  /** The body is not a msgpack payload of the endpoint's version (bad bytes, truncation, wrong shape). */
  | 'TA_ERR_DECODE'
  /** The body is over the endpoint's limit. */
  | 'TA_ERR_TOO_LARGE'
  /** DD_APM_REPLACE_TAGS or a DD_APM_FILTER_TAGS_REGEX_* entry does not parse. */
  | 'TA_ERR_CONFIG'
  /** A payload was dropped at flush (intake refused it, or the buffer cap was reached). */
  | 'TA_ERR_DROPPED'
  /** An OTLP request body that does not decode (protobuf or JSON), or an unsupported content type or encoding. */
  | 'TA_ERR_OTLP_DECODE'
  /** The receiver could not listen or drain. */
  | 'TA_ERR_LISTEN';

export class TraceAgentError extends codedError<TraceAgentErrorCode>('TraceAgentError') {}
