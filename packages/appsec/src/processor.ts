// One WAF context per invocation: the request's addresses when the event arrives, the response's when
// the result does, then the verdict for the trace agent (DataDog/datadog-lambda-extension,
// bottlecap/src/appsec/processor/mod.rs and context.rs): the tags for the invocation's aws.lambda span.
import type { AppSecMessage } from '@dd-lambda/protocol';
import type { Logger } from '@dd-lambda/logger';
import { requestFacts, responseAddresses } from './addresses.js';
import type { RequestFacts } from './addresses.js';
import type { Waf, WafContext, WafResult } from './waf.js';
import type { AppSecErrorCode } from './errors.js';
import { ApiSecuritySampler, encodeSchema, isSchemaAttribute } from './api-security.js';

/** Invocations tracked at once (managed instances run several); the oldest is finalised first. */
export const MAX_CONTEXTS = 16;

/** Request headers copied to the span when there is an event (the tracers' list, lower-cased). */
export const COLLECTED_REQUEST_HEADERS = [
  'x-forwarded-for',
  'x-real-ip',
  'true-client-ip',
  'x-client-ip',
  'x-forwarded',
  'forwarded-for',
  'x-cluster-client-ip',
  'fastly-client-ip',
  'cf-connecting-ip',
  'cf-connecting-ipv6',
  'forwarded',
  'via',
  'content-length',
  'content-type',
  'content-encoding',
  'content-language',
  'host',
  'user-agent',
  'accept',
  'accept-encoding',
  'accept-language',
  'referer',
];
export const COLLECTED_RESPONSE_HEADERS = ['content-length', 'content-type', 'content-encoding', 'content-language'];

interface Session {
  facts: RequestFacts;
  ctx: WafContext;
  events: object[];
  durationNs: number;
  timeouts: number;
  keep: boolean;
  attributes: Record<string, unknown>;
}

export interface AppSecCounters {
  requests: number;
  events: number;
  timeouts: number;
  skipped: number;
  errors: number;
}

export class AppSecProcessor {
  readonly counters: AppSecCounters = { requests: 0, events: 0, timeouts: 0, skipped: 0, errors: 0 };
  readonly #sessions = new Map<string, Session>();
  readonly #waf: () => Waf | undefined;
  readonly #timeoutUs: number;
  readonly #emit: (msg: AppSecMessage) => void;
  readonly #log: Logger;

  readonly #sampler: ApiSecuritySampler;

  constructor(o: { waf: () => Waf | undefined; timeoutUs: number; emit: (msg: AppSecMessage) => void; logger: Logger; apiSecurity?: { enabled: boolean; delayS: number } }) {
    this.#sampler = new ApiSecuritySampler(o.apiSecurity ?? { enabled: false, delayS: 30 });
    this.#waf = o.waf;
    this.#timeoutUs = o.timeoutUs;
    this.#emit = o.emit;
    this.#log = o.logger;
  }

  /** The invocation's event (from /next). */
  event(requestId: string, body: Buffer): void {
    const waf = this.#waf();
    if (waf === undefined) return;
    let facts: RequestFacts | undefined;
    try {
      facts = requestFacts(JSON.parse(body.toString('utf8')));
    } catch {
      facts = undefined;
    }
    if (facts === undefined) {
      this.counters.skipped++;
      return;
    }
    this.counters.requests++;
    if (this.#sessions.size >= MAX_CONTEXTS) this.#finish(this.#sessions.keys().next().value as string);
    const s: Session = { facts, ctx: waf.createContext(), events: [], durationNs: 0, timeouts: 0, keep: false, attributes: {} };
    this.#sessions.set(requestId, s);
    this.#emit({ t: 'APPSEC', requestId, state: 'pending', meta: {}, metrics: {} });
    this.#run(s, facts.addresses);
  }

  /** The function's result (/response, or /error: finalised without response addresses). */
  result(requestId: string, kind: 'response' | 'error', body: Buffer): void {
    const s = this.#sessions.get(requestId);
    if (s === undefined) return;
    if (kind === 'response') {
      let value: unknown;
      try {
        value = JSON.parse(body.toString('utf8'));
      } catch {
        value = body.toString('utf8');
      }
      const r = responseAddresses(s.facts.kind, value);
      // API Security: schemas for this endpoint, sampled (the WAF's extract-schema processors).
      if (this.#sampler.sample(s.facts.method, s.facts.route, r.status)) r.addresses['waf.context.processor'] = { 'extract-schema': true };
      this.#run(s, r.addresses);
      this.#finish(requestId, r.status, r.headers);
    } else {
      this.#finish(requestId);
    }
  }

  #run(s: Session, addresses: Record<string, unknown>): void {
    let r: WafResult;
    try {
      r = s.ctx.run({ persistent: addresses }, this.#timeoutUs);
    } catch (err) {
      this.counters.errors++;
      this.#log.warn({ err, code: 'APPSEC_ERR_RUN' satisfies AppSecErrorCode }, 'a WAF run failed; the invocation ships without its verdict');
      return;
    }
    s.durationNs += r.duration ?? 0;
    if (r.timeout) {
      s.timeouts++;
      this.counters.timeouts++;
    }
    if (r.events !== undefined && r.events.length > 0) s.events.push(...r.events);
    if (r.keep === true) s.keep = true;
    if (r.attributes !== undefined) Object.assign(s.attributes, r.attributes);
  }

  #finish(requestId: string, status?: string, responseHeaders?: Record<string, string>): void {
    const s = this.#sessions.get(requestId);
    if (s === undefined) return;
    this.#sessions.delete(requestId);
    try {
      s.ctx.dispose();
    } catch {
      // already disposed
    }
    const waf = this.#waf();
    const meta: Record<string, string> = {};
    const metrics: Record<string, number> = { '_dd.appsec.enabled': 1, '_dd.appsec.waf.duration': s.durationNs / 1000 };
    if (waf !== undefined) {
      meta['_dd.appsec.event_rules.version'] = waf.rulesVersion;
      meta['_dd.appsec.waf.version'] = waf.version;
    }
    if (s.timeouts > 0) metrics['_dd.appsec.waf.timeouts'] = s.timeouts;
    for (const [k, v] of Object.entries(s.attributes)) {
      if (isSchemaAttribute(k)) meta[k] = encodeSchema(v);
      else if (typeof v === 'string') meta[k] = v;
      else if (typeof v === 'number') metrics[k] = v;
      else meta[k] = JSON.stringify(v);
    }
    const f = s.facts;
    if (f.method !== undefined) meta['http.method'] = f.method;
    meta['http.url'] = f.uri;
    if (f.route !== undefined) meta['http.route'] = f.route;
    if (status !== undefined) meta['http.status_code'] = status;
    if (s.events.length > 0) {
      this.counters.events++;
      meta['appsec.event'] = 'true';
      meta['_dd.appsec.json'] = JSON.stringify({ triggers: s.events });
      meta['_dd.origin'] = 'appsec';
      if (f.clientIp !== undefined) {
        meta['network.client.ip'] = f.clientIp;
        meta['http.client_ip'] = f.clientIp;
      }
      for (const h of COLLECTED_REQUEST_HEADERS) if (f.headers[h] !== undefined) meta[`http.request.headers.${h}`] = f.headers[h];
      for (const h of COLLECTED_RESPONSE_HEADERS) if (responseHeaders?.[h] !== undefined) meta[`http.response.headers.${h}`] = responseHeaders[h];
    }
    // USER_KEEP: the trace is kept whatever the sampler said.
    if (s.keep || s.events.length > 0) metrics['_sampling_priority_v1'] = 2;
    this.#emit({ t: 'APPSEC', requestId, state: 'done', meta, metrics });
  }

  /** SHUTDOWN: every open invocation gets its verdict with what is known. */
  finishAll(): void {
    for (const id of [...this.#sessions.keys()]) this.#finish(id);
  }
}
