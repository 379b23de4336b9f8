// DD_SERVERLESS_FLUSH_STRATEGY, parsed as Datadog's extension does: `end`, `end,<ms>`,
// `periodically,<ms>`, `continuously,<ms>`; anything else (including `default` or a bad number)
// is the adaptive default.
import type { FlushStrategy } from './types.js';

export interface ParsedFlushStrategy {
  strategy: FlushStrategy;
  /** Set when a non-empty value was not understood (so the caller can warn). */
  invalid: boolean;
}

export function parseFlushStrategy(value: string | undefined): ParsedFlushStrategy {
  const v = value?.trim().toLowerCase() ?? '';
  if (v === '' || v === 'default') return { strategy: { kind: 'default' }, invalid: false };
  if (v === 'end') return { strategy: { kind: 'end' }, invalid: false };
  const comma = v.indexOf(',');
  if (comma > 0) {
    const name = v.slice(0, comma).trim();
    const ms = v.slice(comma + 1).trim();
    const intervalMs = /^\d+$/.test(ms) ? Number(ms) : NaN;
    if (Number.isSafeInteger(intervalMs) && intervalMs > 0) {
      if (name === 'end') return { strategy: { kind: 'end-periodically', intervalMs }, invalid: false };
      if (name === 'periodically') return { strategy: { kind: 'periodically', intervalMs }, invalid: false };
      if (name === 'continuously') return { strategy: { kind: 'continuously', intervalMs }, invalid: false };
    }
  }
  return { strategy: { kind: 'default' }, invalid: true };
}
