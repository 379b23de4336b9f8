import type { ObfuscationOptions } from '../src/obfuscate/index.js';
import type { Span } from '../src/span.js';

let nextId = 1n;

/** A span with agent-valid defaults; `over` wins. */
export function span(over: Partial<Span> = {}): Span {
  const id = nextId++;
  return {
    service: 'svc',
    name: 'op.name',
    resource: 'GET /',
    traceId: 42n,
    spanId: id,
    parentId: 0n,
    start: 1_700_000_000_000_000_000n,
    duration: 5_000_000n,
    error: 0,
    meta: {},
    metrics: {},
    type: '',
    metaStruct: undefined,
    spanLinks: undefined,
    ...over,
  };
}

/** The obfuscation settings of an unconfigured extension (the DD_APM_OBFUSCATION_* defaults). */
export const OBFUSCATION_DEFAULTS: ObfuscationOptions = {
  httpRemoveQueryString: false,
  httpRemovePathsWithDigits: false,
  redis: false,
  redisRemoveAllArgs: false,
  memcached: false,
  mongodb: true,
  elasticsearch: true,
  opensearch: true,
  creditCards: true,
  replace: [],
};
