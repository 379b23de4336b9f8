// Per-span obfuscation, by span type, then DD_APM_REPLACE_TAGS. Which parts are on by default
// follows the extension we mirror; the README lists each switch.
import type { Config } from '@dd-lambda/config';
import { TraceAgentError } from '../errors.js';
import type { Span } from '../span.js';
import { isCardNumber, obfuscateJson, obfuscateMemcached, obfuscateUrl } from './misc.js';
import { obfuscateRedis, quantizeRedis } from './redis.js';
import { obfuscateSql } from './sql.js';

export { obfuscateSql } from './sql.js';
export { obfuscateRedis, quantizeRedis } from './redis.js';
export { isCardNumber, obfuscateJson, obfuscateMemcached, obfuscateUrl } from './misc.js';

export interface ReplaceRule {
  /** A tag key, `resource.name` for the resource, or `*` for every tag and the resource. */
  name: string;
  re: RegExp;
  repl: string;
}

/** The config's DD_APM_OBFUSCATION_* switches, the two HTTP flags, and the parsed replace rules. */
export type ObfuscationOptions = Config['apmObfuscation'] & {
  httpRemoveQueryString: boolean;
  httpRemovePathsWithDigits: boolean;
  replace: readonly ReplaceRule[];
};

/** Span types whose query body tag is a JSON document, and the switch that turns its obfuscation on. */
const JSON_BODIES: Readonly<Record<string, { tag: string; on: 'mongodb' | 'elasticsearch' | 'opensearch' }>> = {
  mongodb: { tag: 'mongodb.query', on: 'mongodb' },
  elasticsearch: { tag: 'elasticsearch.body', on: 'elasticsearch' },
  opensearch: { tag: 'opensearch.body', on: 'opensearch' },
};

/**
 * DD_APM_REPLACE_TAGS entries `{name, pattern, repl}`. Go's `${1}` group syntax is accepted. A rule
 * that does not parse throws TA_ERR_CONFIG naming it; the caller logs and skips it.
 */
export function parseReplaceRules(raw: readonly unknown[]): { rules: ReplaceRule[]; errors: TraceAgentError[] } {
  const rules: ReplaceRule[] = [];
  const errors: TraceAgentError[] = [];
  raw.forEach((r, i) => {
    const o = r as { name?: unknown; pattern?: unknown; repl?: unknown } | null;
    if (o === null || typeof o !== 'object' || typeof o.name !== 'string' || o.name === '' || typeof o.pattern !== 'string') {
      errors.push(new TraceAgentError('TA_ERR_CONFIG', `DD_APM_REPLACE_TAGS[${i}] needs a "name" and a "pattern" string`));
      return;
    }
    try {
      const repl = typeof o.repl === 'string' ? o.repl.replace(/\$\{(\d+)\}/g, '$$$1') : '';
      rules.push({ name: o.name, re: new RegExp(o.pattern, 'g'), repl });
    } catch (err) {
      errors.push(new TraceAgentError('TA_ERR_CONFIG', `DD_APM_REPLACE_TAGS[${i}] pattern does not compile: ${(err as Error).message}`));
    }
  });
  return { rules, errors };
}

function applyReplace(span: Span, rules: readonly ReplaceRule[]): void {
  for (const rule of rules) {
    if (rule.name === '*') {
      span.resource = span.resource.replace(rule.re, rule.repl);
      for (const k of Object.keys(span.meta)) if (k !== '_dd.origin') span.meta[k] = (span.meta[k] as string).replace(rule.re, rule.repl);
    } else if (rule.name === 'resource.name') {
      span.resource = span.resource.replace(rule.re, rule.repl);
    } else {
      const v = span.meta[rule.name];
      if (v !== undefined) span.meta[rule.name] = v.replace(rule.re, rule.repl);
    }
  }
}

export function obfuscateSpan(span: Span, o: ObfuscationOptions): void {
  const meta = span.meta;
  const card = meta['card.number'];
  if (o.creditCards && card !== undefined && isCardNumber(card)) meta['card.number'] = '?';
  switch (span.type) {
    case 'web':
    case 'http': {
      const url = meta['http.url'];
      if (url !== undefined) meta['http.url'] = obfuscateUrl(url, o.httpRemoveQueryString, o.httpRemovePathsWithDigits);
      break;
    }
    case 'sql':
    case 'cassandra':
      if (span.resource !== '') {
        span.resource = obfuscateSql(span.resource);
        meta['sql.query'] = span.resource;
      }
      break;
    case 'redis':
    case 'valkey': {
      span.resource = quantizeRedis(span.resource);
      const key = `${span.type}.raw_command`;
      const raw = meta[key];
      if (o.redis && raw !== undefined) meta[key] = obfuscateRedis(raw, o.redisRemoveAllArgs);
      break;
    }
    case 'memcached': {
      const cmd = meta['memcached.command'];
      if (o.memcached && cmd !== undefined) meta['memcached.command'] = obfuscateMemcached(cmd);
      break;
    }
    case 'mongodb':
    case 'elasticsearch':
    case 'opensearch': {
      const { tag, on } = JSON_BODIES[span.type] as { tag: string; on: 'mongodb' | 'elasticsearch' | 'opensearch' };
      const body = meta[tag];
      if (o[on] && body !== undefined) meta[tag] = obfuscateJson(body);
      break;
    }
    default:
      break;
  }
  if (o.replace.length > 0) applyReplace(span, o.replace);
}
