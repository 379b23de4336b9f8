// Error types the emulated Lambda APIs answer with, as `{errorType, errorMessage}` bodies.
// The strings are AWS's (RIE and the Lambda developer guide); tests match on them.

export const ErrorType = {
  InvalidExtensionName: 'Extension.InvalidExtensionName',
  RegistrationClosed: 'Extension.RegistrationClosed',
  InvalidExtensionState: 'Extension.InvalidExtensionState',
  InvalidEventType: 'Extension.InvalidEventType',
  TooManyExtensions: 'Extension.TooManyExtensions',
  MissingExtensionIdentifier: 'Extension.MissingExtensionIdentifier',
  InvalidExtensionIdentifier: 'Extension.InvalidExtensionIdentifier',
  UnknownExtensionIdentifier: 'Extension.UnknownExtensionIdentifier',
  MissingFunctionErrorType: 'Extension.MissingHeader',
  InvalidRequestFormat: 'InvalidRequestFormat',
  ValidationError: 'ValidationError',
  SubscriptionClosed: 'Telemetry.SubscriptionClosed',
  LogsNotSupported: 'Logs.NotSupported',
  InvalidRequestID: 'InvalidRequestID',
  InvalidStateTransition: 'InvalidStateTransition',
  RequestEntityTooLarge: 'RequestEntityTooLarge',
  NotFound: 'NotFound',
} as const;
export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];

/** Errors of the emulator's own API (misuse by the caller), with stable codes. */
export type EmulatorErrorCode = 'EMU_ERR_NOT_STARTED' | 'EMU_ERR_CLOSED';

export class EmulatorError extends Error {
  readonly code: EmulatorErrorCode;
  constructor(code: EmulatorErrorCode, message: string) {
    super(message);
    this.name = 'EmulatorError';
    this.code = code;
  }
}
