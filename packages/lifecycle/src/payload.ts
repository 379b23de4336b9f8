// DD_CAPTURE_LAMBDA_PAYLOAD (DataDog/datadog-lambda-extension, bottlecap/src/lifecycle/invocation/processor.rs): the request and response JSON flattened into span
// meta, `function.request.a.b` = value, with secrets redacted and the depth bounded.

export const MAX_STRING = 4096;
const REDACTED_SUFFIXES = ['password', 'passwd', 'pwd', 'secret', 'token', 'authorization', 'x-authorization', 'api_key'];

function redacted(key: string): boolean {
  const k = key.toLowerCase();
  return REDACTED_SUFFIXES.some((s) => k.endsWith(s));
}

function clip(s: string): string {
  return s.length > MAX_STRING ? s.slice(0, MAX_STRING) : s;
}

/** Strings holding JSON (SQS bodies, SNS messages) are read as the JSON they carry. */
function reparse(v: string): unknown {
  const t = v.trimStart();
  if (!(t.startsWith('{') || t.startsWith('['))) return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

/** Adds `prefix.*` entries for `value` to `meta`; below `maxDepth` the rest is one JSON string. */
export function flattenPayload(meta: Record<string, string>, prefix: string, value: unknown, maxDepth: number, depth = 0): void {
  const v = typeof value === 'string' ? reparse(value) : value;
  if (v === null || v === undefined) {
    meta[prefix] = String(v);
    return;
  }
  if (typeof v !== 'object') {
    meta[prefix] = clip(String(v));
    return;
  }
  const entries: [string, unknown][] = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
  if (depth >= maxDepth || entries.length === 0) {
    meta[prefix] = clip(JSON.stringify(v));
    return;
  }
  for (const [k, x] of entries) {
    const key = `${prefix}.${k}`;
    if (redacted(k)) meta[key] = 'redacted';
    else flattenPayload(meta, key, x, maxDepth, depth + 1);
  }
}
