import { codedError } from '@dd-lambda/protocol';
export type IntakeClientErrorCode =
  /** No API key could be resolved, so nothing is sent. */
  | 'IC_ERR_NO_API_KEY'
  /** The intake refused the payload with a 4xx other than 408/429: sending it again cannot help. */
  | 'IC_ERR_REJECTED'
  /** 5xx, 408, 429 or a network error on every attempt. */
  | 'IC_ERR_UNAVAILABLE'
  /** The flush deadline passed before an attempt could finish. */
  | 'IC_ERR_DEADLINE'
  | 'IC_ERR_TLS_CERT_FILE'
  /** Internal (never surfaces): the intake did not negotiate HTTP/2, so the post goes over HTTP/1.1. */
  | 'IC_ERR_H2_UNSUPPORTED';

export class IntakeClientError extends codedError<IntakeClientErrorCode>('IntakeClientError') {}
