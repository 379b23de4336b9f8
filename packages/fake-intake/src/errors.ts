// Coded errors of the fake intake. Codes are stable: tests and users match on them.

export type IntakeErrorCode =
  | 'FI_ERR_PROTOBUF'
  | 'FI_ERR_MSGPACK'
  | 'FI_ERR_JSON'
  | 'FI_ERR_SCHEMA'
  | 'FI_ERR_ENCODING'
  | 'FI_ERR_CONTENT_TYPE'
  | 'FI_ERR_TOO_LARGE'
  /** The route does not take this method (405). */
  | 'FI_ERR_METHOD'
  /** DD-API-KEY missing or not the accepted one (403). */
  | 'FI_ERR_API_KEY';

export class IntakeError extends Error {
  readonly code: IntakeErrorCode;
  constructor(code: IntakeErrorCode, message: string) {
    super(message);
    this.name = 'IntakeError';
    this.code = code;
  }
}

/** A body that decodes but breaks the payload's schema at `path`. */
export function schemaError(path: string, message: string): IntakeError {
  return new IntakeError('FI_ERR_SCHEMA', `${path}: ${message}`);
}

/** A value's JSON-ish kind, for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (Buffer.isBuffer(v)) return 'binary';
  return typeof v;
}
