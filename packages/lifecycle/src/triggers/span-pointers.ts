// Span pointers for S3 and DynamoDB stream triggers (DataDog/datadog-lambda-extension,
// bottlecap/src/traces/span_pointers.rs; the hashing rules are DataDog/dd-span-pointer-rules). A
// pointer names the S3 object or DynamoDB item that caused this invocation by a hash that the
// tracer of the writing service computes too, so Datadog links the two traces without any header.
import { createHash } from 'node:crypto';
import { obj, str, type Obj } from './common.js';

export interface SpanPointer {
  hash: string;
  kind: 'aws.s3.object' | 'aws.dynamodb.item';
}

/** The first 32 hex characters of the SHA-256 of the parts joined by `|`. */
export function pointerHash(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 32);
}

/** Bucket, key and ETag (without the quotes the SDK sometimes keeps); none when one is missing. */
export function s3Pointer(bucket: string | undefined, key: string | undefined, eTag: string | undefined): SpanPointer[] | undefined {
  const tag = eTag?.replace(/^"+|"+$/g, '');
  if (bucket === undefined || bucket === '' || key === undefined || key === '' || tag === undefined || tag === '') return undefined;
  return [{ hash: pointerHash([bucket, key, tag]), kind: 'aws.s3.object' }];
}

/** A key attribute's value as the rules hash it: S and N as written, B decoded from base64. */
function keyValue(attr: unknown): string | undefined {
  const a = obj(attr);
  const s = str(a['S']) ?? str(a['N']);
  if (s !== undefined) return s;
  const b = str(a['B']);
  if (b === undefined) return undefined;
  const bytes = Buffer.from(b, 'base64');
  const text = new TextDecoder('utf-8', { fatal: true });
  try {
    return text.decode(bytes);
  } catch {
    return undefined;
  }
}

/** The table and its one or two primary key attributes (sorted by name when two). */
export function dynamodbPointer(table: string | undefined, keys: Obj): SpanPointer[] | undefined {
  if (table === undefined) return undefined;
  const names = Object.keys(keys);
  if (names.length === 0) return undefined;
  const picked = names.length === 1 ? names : names.sort().slice(0, 2);
  const parts = [table];
  for (const k of picked) {
    const v = keyValue(keys[k]);
    if (v === undefined) return undefined;
    parts.push(k, v);
  }
  if (picked.length === 1) parts.push('', '');
  return [{ hash: pointerHash(parts), kind: 'aws.dynamodb.item' }];
}

/** The `_dd.span_links` value: the existing links (if they parse) followed by one per pointer, direction "u" (upstream). */
export function withPointerLinks(existing: string | undefined, pointers: readonly SpanPointer[]): string {
  let links: unknown[] = [];
  if (existing !== undefined) {
    try {
      const v: unknown = JSON.parse(existing);
      if (Array.isArray(v)) links = v;
    } catch {
      // unreadable links are replaced, as bottlecap does
    }
  }
  for (const p of pointers) {
    links.push({
      trace_id: 0,
      span_id: 0,
      trace_id_high: 0,
      tracestate: '',
      flags: 0,
      attributes: { 'link.kind': 'span-pointer', 'ptr.dir': 'u', 'ptr.hash': p.hash, 'ptr.kind': p.kind },
    });
  }
  return JSON.stringify(links);
}
