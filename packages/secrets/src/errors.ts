// Coded errors of the API key resolution (KMS, Secrets Manager, SSM). Codes are stable; callers match on them.
import { codedError } from '@dd-lambda/protocol';
export type SecretsErrorCode =
  /** AWS answered with an error (its code and message follow, e.g. ResourceNotFoundException). */
  | 'SEC_ERR_AWS'
  /** AWS could not be reached or did not answer in time. */
  | 'SEC_ERR_NETWORK'
  /** No AWS credentials in the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the container URI). */
  | 'SEC_ERR_CREDENTIALS'
  /** The source answered, but with no usable key (empty, or a JSON secret without dd_api_key/apiKey). */
  | 'SEC_ERR_EMPTY'
  /** The variable's value cannot be used as given (not an ARN where one is needed, bad base64). */
  | 'SEC_ERR_CONFIG'
  /** Logged (not thrown): the intake refused the key, which is resolved again. */
  | 'SEC_ERR_REJECTED';

export class SecretsError extends codedError<SecretsErrorCode>('SecretsError') {
  /** AWS's error type, when AWS answered. */
  readonly awsCode: string | undefined;
  /** Worth trying again (network, throttling, 5xx). */
  readonly retryable: boolean;
  constructor(code: SecretsErrorCode, message: string, options: { awsCode?: string; retryable?: boolean; cause?: unknown } = {}) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.awsCode = options.awsCode;
    this.retryable = options.retryable ?? false;
  }
}
