// AWS Signature Version 4 (AWS4-HMAC-SHA256) on node:crypto, as the AWS General Reference's "Create a
// signed AWS API request" describes it: canonical request, string to sign, derived key, signature. The
// AWS SDK's signer (@smithy/signature-v4 and its credential providers) is megabytes of code on the
// cold-start path for three JSON calls; this is ~100 lines (the README has the figures).
import { createHash, createHmac } from 'node:crypto';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

export interface SignInput {
  method: string;
  host: string;
  /** The path as sent, unencoded (`/` for JSON 1.1 calls). */
  path: string;
  query?: Record<string, string>;
  /** Headers to sign besides host and x-amz-date (and x-amz-security-token, added from the credentials). */
  headers: Record<string, string>;
  body: string | Buffer;
  region: string;
  service: string;
  credentials: Credentials;
  date: Date;
}

export interface Signed {
  /** Every header to send: the input's, host, x-amz-date, the token when there is one, and authorization. */
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding: everything but unreserved characters, as SigV4 requires (encodeURIComponent leaves !'()* alone). */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `20150830T123600Z` */
export function amzDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

export function signingKey(secret: string, day: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
}

export function signV4(input: SignInput): Signed {
  const stamp = amzDate(input.date);
  const day = stamp.slice(0, 8);
  const headers: Record<string, string> = { ...input.headers, host: input.host, 'x-amz-date': stamp };
  if (input.credentials.sessionToken !== undefined && input.credentials.sessionToken !== '') headers['x-amz-security-token'] = input.credentials.sessionToken;
  // Header names lower-cased and sorted; values trimmed with inner runs of spaces folded to one.
  const canon = new Map<string, string>();
  for (const [k, v] of Object.entries(headers)) canon.set(k.toLowerCase(), v.trim().replace(/\s+/g, ' '));
  const names = [...canon.keys()].sort();
  const signedHeaders = names.join(';');
  const canonicalHeaders = names.map((n) => `${n}:${canon.get(n) ?? ''}\n`).join('');
  const canonicalUri = input.path.split('/').map(uriEncode).join('/') || '/';
  const query = Object.entries(input.query ?? {})
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  const canonicalQuery = query.map(([k, v]) => `${k}=${v}`).join('&');
  const canonicalRequest = [input.method.toUpperCase(), canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, sha256(input.body)].join('\n');
  const scope = `${day}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', stamp, scope, sha256(canonicalRequest)].join('\n');
  const signature = createHmac('sha256', signingKey(input.credentials.secretAccessKey, day, input.region, input.service))
    .update(stringToSign, 'utf8')
    .digest('hex');
  headers['authorization'] = `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { headers, canonicalRequest, stringToSign };
}
