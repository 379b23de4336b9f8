export { ExtensionClient, parseNextEvent } from './client.js';
export type { NextEvent, Registration, TelemetrySubscription, ExtensionClientOptions } from './client.js';
export { ExtensionApiError } from './errors.js';
export type { ExtensionApiErrorCode } from './errors.js';
