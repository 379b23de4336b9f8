// datadog.yaml from LAMBDA_TASK_ROOT, flattened to the same keys as the env vars (minus `DD_`), so one
// lookup serves both sources and the environment wins. The YAML parser is loaded only when the file
// exists: most functions have none, and the parser is not free to load on the cold-start path.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { parse as ParseYaml } from 'yaml';

/** Keys whose value is structured (lists of objects, maps): kept as JSON text, parsed like the env var. */
const JSON_KEYS = new Set([
  'ADDITIONAL_ENDPOINTS',
  'LOGS_CONFIG_PROCESSING_RULES',
  'LOGS_CONFIG_ADDITIONAL_ENDPOINTS',
  'APM_REPLACE_TAGS',
  'APM_ADDITIONAL_ENDPOINTS',
  'OTLP_CONFIG_TRACES_SPAN_NAME_REMAPPINGS',
]);

/** The env name of a YAML path. `apm_config` is irregular in the agent: some keys keep its full prefix. */
export function yamlKey(segments: readonly string[]): string {
  const [head, ...rest] = segments;
  if (head === 'apm_config' && rest.length > 0) {
    const first = rest[0] ?? '';
    if (first.startsWith('apm_')) return rest.join('_').toUpperCase();
    if (first === 'obfuscation' || first === 'compression_level') return segments.join('_').toUpperCase();
    return ['apm', ...rest].join('_').toUpperCase();
  }
  return segments.join('_').toUpperCase();
}

export function flattenYaml(doc: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (value: unknown, segments: string[]): void => {
    const key = yamlKey(segments);
    if (value === null || value === undefined) return;
    if (segments.length > 0 && JSON_KEYS.has(key)) {
      out.set(key, JSON.stringify(value));
      return;
    }
    if (Array.isArray(value)) {
      if (value.every((v) => v === null || typeof v !== 'object')) out.set(key, value.map(String).join(','));
      else out.set(key, JSON.stringify(value));
      return;
    }
    if (typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(v, [...segments, k]);
      return;
    }
    if (segments.length > 0) out.set(key, String(value));
  };
  visit(doc, []);
  return out;
}

export interface YamlResult {
  values: Map<string, string>;
  file: string | undefined;
  error: string | undefined;
}

export function readDatadogYaml(taskRoot: string): YamlResult {
  const file = path.join(taskRoot, 'datadog.yaml');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { values: new Map(), file: undefined, error: undefined };
  }
  try {
    const { parse } = createRequire(import.meta.url)('yaml') as { parse: typeof ParseYaml };
    return { values: flattenYaml(parse(text)), file, error: undefined };
  } catch (err) {
    return { values: new Map(), file, error: `${file}: not valid YAML (${(err as Error).message.split('\n')[0] ?? ''}); ignored` };
  }
}
