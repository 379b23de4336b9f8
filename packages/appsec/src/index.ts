export { createUnit } from './unit.js';
export { AppSecError } from './errors.js';
export type { AppSecErrorCode } from './errors.js';
export { AppSecProcessor } from './processor.js';
export type { AppSecCounters } from './processor.js';
export { buildWaf, defaultRulesPath } from './waf.js';
export type { Waf } from './waf.js';
export { requestFacts, responseAddresses } from './addresses.js';
