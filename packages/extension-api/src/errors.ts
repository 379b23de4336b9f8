// Coded errors of the Lambda API client. Codes are stable; callers match on them.
import { codedError } from '@dd-lambda/protocol';
export type ExtensionApiErrorCode = 'EXT_ERR_REGISTER' | 'EXT_ERR_NEXT' | 'EXT_ERR_BAD_EVENT' | 'EXT_ERR_SUBSCRIBE' | 'EXT_ERR_INIT_ERROR' | 'EXT_ERR_NO_RUNTIME_API';

export class ExtensionApiError extends codedError<ExtensionApiErrorCode>('ExtensionApiError') {
  /** The HTTP status the Lambda API answered with, when it answered. */
  readonly status: number | undefined;

  constructor(code: ExtensionApiErrorCode, message: string, status?: number, options?: ErrorOptions) {
    super(code, message, options);
    this.status = status;
  }
}
