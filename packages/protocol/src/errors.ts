// The one coded-error factory every product package builds its error class from: a stable `code`
// callers and tests match on, the package's name for the class, and `cause` kept. Each package lists
// its codes (thrown and log-only) in a single union in its own errors.ts.

/** Codes of the protocol itself: an error that crossed threads without a code of its own. */
export type ProtocolErrorCode = 'DDL_ERR_UNKNOWN';

export interface CodedError<C extends string> extends Error {
  readonly code: C;
}

/** A class of coded errors named `name`, whose codes are `C`; extend it to add fields. */
export function codedError<C extends string>(name: string): new (code: C, message: string, options?: ErrorOptions) => CodedError<C> {
  return class extends Error implements CodedError<C> {
    readonly code: C;
    constructor(code: C, message: string, options?: ErrorOptions) {
      super(message, options);
      this.name = name;
      this.code = code;
    }
  };
}
