export { ApiKeyResolver } from './resolver.js';
export type { ResolverOptions } from './resolver.js';
export type { FetchOptions } from './resolve.js';
export { SecretsError } from './errors.js';
export type { SecretsErrorCode } from './errors.js';
