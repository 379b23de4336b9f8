// API Security: the WAF extracts request and response schemas (`_dd.appsec.s.*`) for an endpoint at
// most once per DD_API_SECURITY_SAMPLE_DELAY, keyed by (method, route, status), as the tracers sample it
// (DataDog/dd-trace-js, packages/dd-trace/src/appsec/api_security/sampler.js); schemas travel as
// base64 gzip JSON (packages/dd-trace/src/appsec/reporter.js).
import { gzipSync } from 'node:zlib';

/** Endpoints remembered at most (the tracers' bound). */
export const MAX_ENDPOINTS = 4096;

export class ApiSecuritySampler {
  readonly #enabled: boolean;
  readonly #delayMs: number;
  readonly #now: () => number;
  readonly #seen = new Map<string, number>();

  constructor(o: { enabled: boolean; delayS: number; now?: () => number }) {
    this.#enabled = o.enabled;
    this.#delayMs = o.delayS * 1000;
    this.#now = o.now ?? Date.now;
  }

  /** Whether this request's schemas are extracted; a sampled endpoint is then skipped for the delay. */
  sample(method: string | undefined, route: string | undefined, status: string): boolean {
    if (!this.#enabled || method === undefined || route === undefined || route === '') return false;
    if (this.#delayMs === 0) return true;
    const key = `${method} ${route} ${status}`;
    const now = this.#now();
    const last = this.#seen.get(key);
    if (last !== undefined && now - last < this.#delayMs) return false;
    this.#seen.delete(key);
    this.#seen.set(key, now);
    if (this.#seen.size > MAX_ENDPOINTS) this.#seen.delete(this.#seen.keys().next().value as string);
    return true;
  }
}

export function isSchemaAttribute(key: string): boolean {
  return key.startsWith('_dd.appsec.s.');
}

/** A schema attribute's span value: its JSON, gzipped, base64. */
export function encodeSchema(value: unknown): string {
  return gzipSync(JSON.stringify(value)).toString('base64');
}
