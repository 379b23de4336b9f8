export { loadConfig } from './load.js';
export type { LoadOptions } from './load.js';
export { functionTags, functionArn, partitionOf, EXTENSION_VERSION } from './tags.js';
export { processEnv, workerEnv } from './process-env.js';
export { readAwsAccess } from './aws-access.js';
export type { AwsAccess } from './aws-access.js';
export type { Config, FlushStrategy } from './types.js';
export { loadMiniAgentConfig, MINI_AGENT_KEYS } from './mini-agent.js';
export type { MiniAgentConfig, MiniAgentPlatform } from './mini-agent.js';
