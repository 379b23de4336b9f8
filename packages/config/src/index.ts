export { loadConfig, normalizeUrl } from './load.js';
export { parseBool } from './source.js';
export type { LoadOptions } from './load.js';
export { parseFlushStrategy } from './flush-strategy.js';
export type { ParsedFlushStrategy } from './flush-strategy.js';
export { workerBudget, MB_PER_VCPU, MAX_WORKERS } from './workers.js';
export { functionTags, functionArn, partitionOf, EXTENSION_VERSION } from './tags.js';
export { flattenYaml, yamlKey } from './yaml.js';
export { processEnv, workerEnv } from './process-env.js';
export { readAwsAccess } from './aws-access.js';
export type { AwsAccess } from './aws-access.js';
export type {
  Config, AwsConfig, Ports, LogLevel, FlushStrategy, InitializationType, LoadedConfig, WorkerBudgetSource,
} from './types.js';
