export { buildTraceAgent, tracerInfo, INFO_ENDPOINTS, MAX_TRACE_BODY, MAX_STATS_BODY, MAX_PROXY_BODY, MAX_PENDING_BYTES } from './agent.js';
export type { TraceAgent, TraceAgentOptions, TraceAgentCounters } from './agent.js';
export { decodeV04, decodeV05, unpack } from './decode.js';
export { encodeTracerPayload, agentPayload, MAX_BATCH_BYTES } from './encode.js';
export { TraceAgentError } from './errors.js';
export type { TraceAgentErrorCode } from './errors.js';
export {
  normalizeTag, normalizeName, normalizeService, normalizeMetricName, normalizeSpan, normalizeTrace, truncateUtf8, rootOf,
  markTopLevel, makeChunk, DEFAULT_SERVICE_NAME, DEFAULT_SPAN_NAME,
} from './normalize.js';
export type { DropReason } from './normalize.js';
export { obfuscateSpan, obfuscateSql, obfuscateRedis, quantizeRedis, obfuscateUrl, obfuscateMemcached, obfuscateJson, isCardNumber, parseReplaceRules } from './obfuscate/index.js';
export type { ObfuscationOptions, ReplaceRule } from './obfuscate/index.js';
export { TraceProcessor, parseFilters, passesFilters, isOwnTraffic, PLACEHOLDER_RESOURCE } from './process.js';
export type { ProcessorOptions, TagFilter, ProcessCounters } from './process.js';
export { PROXY_ROUTES } from './proxy.js';
export { StatsConcentrator, DDSketch, isEligible } from './stats.js';
export { decodeClientStats, statsPayloadBody } from './stats-payload.js';
export type { ClientStatsPayload } from './stats-payload.js';
export { PRIORITY_NONE } from './span.js';
export type { Span, Chunk, SpanLink, TracerInfo, TracerPayload } from './span.js';
