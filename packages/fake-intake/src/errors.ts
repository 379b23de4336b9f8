// Coded errors of the fake intake. Codes are stable: tests and users match on them.

export type IntakeErrorCode =
  | 'FI_ERR_PROTOBUF'
  | 'FI_ERR_MSGPACK'
  | 'FI_ERR_JSON'
  | 'FI_ERR_SCHEMA'
  | 'FI_ERR_ENCODING'
  | 'FI_ERR_CONTENT_TYPE'
  | 'FI_ERR_TOO_LARGE';

export class IntakeError extends Error {
  readonly code: IntakeErrorCode;
  constructor(code: IntakeErrorCode, message: string) {
    super(message);
    this.name = 'IntakeError';
    this.code = code;
  }
}
