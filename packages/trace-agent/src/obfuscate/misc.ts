// The smaller obfuscators: URLs, memcached commands, JSON query bodies, card numbers.

/**
 * `http.url` of web/http spans: credentials always removed; with the flags, the query string
 * becomes a bare `?` and every path segment holding a digit becomes `?`.
 */
export function obfuscateUrl(url: string, removeQuery: boolean, removeDigits: boolean): string {
  if (url === '') return url;
  const strict = removeQuery || removeDigits;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(url.split('#')[0] ?? '')) return strict ? '?' : stripUserinfo(url);
  const hashAt = url.indexOf('#');
  const fragment = hashAt < 0 ? '' : url.slice(hashAt);
  const beforeFrag = hashAt < 0 ? url : url.slice(0, hashAt);
  const qAt = beforeFrag.indexOf('?');
  let head = qAt < 0 ? beforeFrag : beforeFrag.slice(0, qAt);
  const query = qAt < 0 ? '' : beforeFrag.slice(qAt);
  head = stripUserinfo(head);
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:)?(\/\/[^/]*)?(.*)$/s.exec(head);
  if (m === null) return strict ? '?' : url;
  const scheme = (m[1] ?? '').toLowerCase();
  const authority = m[2] ?? '';
  let path = m[3] ?? '';
  if (removeDigits)
    path = path
      .split('/')
      .map((seg) => (/[0-9]/.test(safeDecode(seg)) ? '?' : seg))
      .join('/');
  return scheme + authority + path + (removeQuery ? (qAt < 0 ? '' : '?') : query) + fragment;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function stripUserinfo(url: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:)?\/\/([^/?#]*)/.exec(url);
  if (m === null) return url;
  const authority = m[2] ?? '';
  const at = authority.lastIndexOf('@');
  if (at < 0) return url;
  const start = (m[1] ?? '').length + 2;
  return url.slice(0, start) + authority.slice(at + 1) + url.slice(start + authority.length);
}

/** Keeps the command line of a memcached command, drops the stored value after it. */
export function obfuscateMemcached(cmd: string): string {
  const end = cmd.indexOf('\r\n');
  return (end < 0 ? cmd : cmd.slice(0, end)).trim();
}

function blank(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(blank);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = blank(x);
    return out;
  }
  return '?';
}

/**
 * MongoDB / Elasticsearch / OpenSearch query bodies: keys kept, every value `?`. A body that is
 * not JSON (tracers truncate long ones) is replaced by `?` rather than kept.
 */
export function obfuscateJson(body: string): string {
  try {
    return JSON.stringify(blank(JSON.parse(body)));
  } catch {
    return '?';
  }
}

/** 12 to 19 digits (spaces and dashes allowed between them) passing the Luhn check. */
export function isCardNumber(v: string): boolean {
  const digits = v.replace(/[ -]/g, '');
  if (!/^\d{12,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
