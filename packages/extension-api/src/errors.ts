// Coded errors of the Lambda API client. Codes are stable; callers match on them.
export type ExtensionApiErrorCode =
  | 'EXT_ERR_REGISTER'
  | 'EXT_ERR_NEXT'
  | 'EXT_ERR_BAD_EVENT'
  | 'EXT_ERR_SUBSCRIBE'
  | 'EXT_ERR_INIT_ERROR'
  | 'EXT_ERR_NO_RUNTIME_API';

export class ExtensionApiError extends Error {
  readonly code: ExtensionApiErrorCode;
  readonly status: number | undefined;

  constructor(code: ExtensionApiErrorCode, message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ExtensionApiError';
    this.code = code;
    this.status = status;
  }
}
