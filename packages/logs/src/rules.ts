// DD_LOGS_CONFIG_PROCESSING_RULES: `exclude_at_match`, `include_at_match`, `mask_sequences`, applied in
// order to the message text. Regexes are compiled once; a rule that does not parse is reported once
// (by the caller) and skipped.

export interface Rule {
  type: 'exclude_at_match' | 'include_at_match' | 'mask_sequences';
  name: string;
  re: RegExp;
  placeholder: string;
}

const TYPES = new Set(['exclude_at_match', 'include_at_match', 'mask_sequences']);

export function compileRules(raw: readonly unknown[]): { rules: Rule[]; errors: string[] } {
  const rules: Rule[] = [];
  const errors: string[] = [];
  raw.forEach((r, i) => {
    const o = r as { type?: unknown; name?: unknown; pattern?: unknown; replace_placeholder?: unknown } | null;
    const label = `DD_LOGS_CONFIG_PROCESSING_RULES[${i}]${typeof o?.name === 'string' ? ` (${o.name})` : ''}`;
    if (o === null || typeof o !== 'object' || typeof o.type !== 'string' || !TYPES.has(o.type)) {
      errors.push(`${label}: type must be exclude_at_match, include_at_match or mask_sequences`);
      return;
    }
    if (typeof o.pattern !== 'string' || o.pattern === '') {
      errors.push(`${label}: needs a non-empty "pattern"`);
      return;
    }
    if (o.type === 'mask_sequences' && typeof o.replace_placeholder !== 'string') {
      errors.push(`${label}: mask_sequences needs a "replace_placeholder"`);
      return;
    }
    try {
      rules.push({
        type: o.type as Rule['type'],
        name: typeof o.name === 'string' ? o.name : `rule ${i}`,
        re: new RegExp(o.pattern, o.type === 'mask_sequences' ? 'g' : ''),
        placeholder: typeof o.replace_placeholder === 'string' ? o.replace_placeholder : '',
      });
    } catch (err) {
      errors.push(`${label}: pattern does not compile: ${(err as Error).message}`);
    }
  });
  return { rules, errors };
}

/** The message after the rules, or undefined when a rule drops it. */
export function applyRules(message: string, rules: readonly Rule[]): string | undefined {
  let m = message;
  for (const r of rules) {
    switch (r.type) {
      case 'exclude_at_match':
        if (r.re.test(m)) return undefined;
        break;
      case 'include_at_match':
        if (!r.re.test(m)) return undefined;
        break;
      case 'mask_sequences':
        m = m.replace(r.re, r.placeholder);
        break;
    }
  }
  return m;
}
