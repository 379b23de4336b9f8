export { buildIntakeClient, bypassesProxy } from './client.js';
export type { IntakeClient, IntakeClientOptions, IntakeRequest, IntakeOutcome, ClientConfig } from './client.js';
export { compress, hasZstd } from './compress.js';
export type { Encoding, Compressed } from './compress.js';
export { IntakeClientError } from './errors.js';
export type { IntakeClientErrorCode } from './errors.js';
export { Outbox } from './outbox.js';
export type { Parcel, OutboxOptions, ShipResult } from './outbox.js';
