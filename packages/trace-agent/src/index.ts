export { buildTraceAgent } from './agent.js';
export type { TraceAgentOptions } from './agent.js';
export { decodeV04, decodeV05, unpack } from './decode.js';
export { encodeTracerPayload, agentPayload } from './encode.js';
export { TraceAgentError } from './errors.js';
export type { TraceAgentErrorCode } from './errors.js';
export type { ObfuscationOptions } from './obfuscate/index.js';
export { TraceProcessor } from './process.js';
export type { ProcessorOptions } from './process.js';
