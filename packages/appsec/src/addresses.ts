// WAF addresses from an invocation's event and result, for the HTTP triggers AppSec covers
// (DataDog/datadog-lambda-extension, bottlecap/src/appsec/processor/): API Gateway REST (v1) and
// HTTP (v2) APIs, ALB (single and multi-value headers), Lambda function URLs and WebSocket APIs.
// The event is untrusted JSON: every field is checked, nothing throws.

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export type TriggerKind = 'api-gateway-rest' | 'api-gateway-http' | 'alb' | 'function-url' | 'websocket';

export interface RequestFacts {
  kind: TriggerKind;
  method: string | undefined;
  /** Path with the raw query string. */
  uri: string;
  route: string | undefined;
  clientIp: string | undefined;
  headers: Record<string, string>;
  /** The WAF's addresses for the request. */
  addresses: Record<string, unknown>;
}

/** Lower-cased single-value headers; multi-value ones joined with ", " (as HTTP folds them). */
function headersOf(single: unknown, multi: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(multi))) if (Array.isArray(v)) out[k.toLowerCase()] = v.filter((x) => typeof x === 'string').join(', ');
  for (const [k, v] of Object.entries(obj(single))) if (typeof v === 'string') out[k.toLowerCase()] ??= v;
  return out;
}

function queryOf(single: unknown, multi: unknown, raw: string | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (raw !== undefined && raw !== '') {
    for (const [k, v] of new URLSearchParams(raw)) (out[k] ??= []).push(v);
    return out;
  }
  for (const [k, v] of Object.entries(obj(multi))) if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === 'string');
  for (const [k, v] of Object.entries(obj(single))) if (typeof v === 'string' && out[k] === undefined) out[k] = [v];
  return out;
}

function cookiesOf(header: string | undefined, list: unknown): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const pairs = Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : (header ?? '').split(';');
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) continue;
    (out[p.slice(0, i).trim()] ??= []).push(p.slice(i + 1).trim());
  }
  return out;
}

/** The body by its content type: JSON, form, or text; undefined when absent or unreadable. */
export function parseBody(body: unknown, base64: boolean, contentType: string | undefined): unknown {
  if (typeof body !== 'string' || body === '') return undefined;
  const text = base64 ? Buffer.from(body, 'base64').toString('utf8') : body;
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  if (type === 'application/x-www-form-urlencoded') return queryOf(undefined, undefined, text);
  if (type.startsWith('text/') || type === '') return text;
  return undefined;
}

function withoutCookies(h: Record<string, string>): Record<string, string> {
  const { cookie: _c, ...rest } = h;
  return rest;
}

function clientIp(headers: Record<string, string>, source: string | undefined): string | undefined {
  const forwarded = headers['x-forwarded-for']?.split(',')[0]?.trim();
  return forwarded !== undefined && forwarded !== '' ? forwarded : source;
}

/** The request's facts and WAF addresses, or undefined for events that are not HTTP requests AppSec covers. */
export function requestFacts(event: unknown): RequestFacts | undefined {
  const e = obj(event);
  const rc = obj(e['requestContext']);
  let kind: TriggerKind;
  let method: string | undefined;
  let path: string | undefined;
  let rawQuery: string | undefined;
  let route: string | undefined;
  let source: string | undefined;
  let cookies: unknown;
  if (e['version'] === '2.0' && obj(rc['http'])['method'] !== undefined) {
    const http = obj(rc['http']);
    kind = (str(rc['domainName']) ?? '').includes('lambda-url') ? 'function-url' : 'api-gateway-http';
    method = str(http['method']);
    path = str(e['rawPath']) ?? str(http['path']);
    rawQuery = str(e['rawQueryString']);
    route = kind === 'api-gateway-http' ? str(e['routeKey'])?.split(' ').pop() : undefined;
    source = str(http['sourceIp']);
    cookies = e['cookies'];
  } else if (str(rc['messageDirection']) !== undefined || str(rc['connectionId']) !== undefined) {
    kind = 'websocket';
    route = str(rc['routeKey']);
    source = str(obj(rc['identity'])['sourceIp']);
    path = route;
  } else if (rc['elb'] !== undefined) {
    kind = 'alb';
    method = str(e['httpMethod']);
    path = str(e['path']);
  } else if (str(e['httpMethod']) !== undefined && rc['stage'] !== undefined) {
    kind = 'api-gateway-rest';
    method = str(e['httpMethod']);
    path = str(e['path']);
    route = str(e['resource']);
    source = str(obj(rc['identity'])['sourceIp']);
  } else {
    return undefined;
  }
  const headers = headersOf(e['headers'], e['multiValueHeaders']);
  const query = queryOf(e['queryStringParameters'], e['multiValueQueryStringParameters'], rawQuery);
  const pairs: [string, string][] = Object.entries(query).flatMap(([k, vs]) => vs.map((v): [string, string] => [k, v]));
  const qs = rawQuery ?? new URLSearchParams(pairs).toString();
  const uri = `${path ?? '/'}${qs !== '' ? `?${qs}` : ''}`;
  const ip = clientIp(headers, source);
  const addresses: Record<string, unknown> = {
    'server.request.uri.raw': uri,
    'server.request.headers.no_cookies': withoutCookies(headers),
  };
  if (method !== undefined) addresses['server.request.method'] = method;
  if (ip !== undefined) addresses['http.client_ip'] = ip;
  const c = cookiesOf(headers['cookie'], cookies);
  if (Object.keys(c).length > 0) addresses['server.request.cookies'] = c;
  if (Object.keys(query).length > 0) addresses['server.request.query'] = query;
  const pathParams = obj(e['pathParameters']);
  if (Object.keys(pathParams).length > 0) addresses['server.request.path_params'] = pathParams;
  const body = parseBody(e['body'], e['isBase64Encoded'] === true, headers['content-type']);
  if (body !== undefined) addresses['server.request.body'] = body;
  return { kind, method, uri, route, clientIp: ip, headers, addresses };
}

/**
 * The response's addresses from the function's result: API-Gateway-shaped results (`statusCode`,
 * `headers`, `body`) as such; any other value is a 200 with that value as body (HTTP APIs and function
 * URLs infer it so). WebSocket results are read raw.
 */
export function responseAddresses(kind: TriggerKind, result: unknown): { status: string; headers: Record<string, string>; addresses: Record<string, unknown> } {
  const r = obj(result);
  const shaped = kind !== 'websocket' && typeof r['statusCode'] === 'number';
  const status = shaped ? String(r['statusCode']) : '200';
  const headers = shaped ? headersOf(r['headers'], r['multiValueHeaders']) : {};
  const addresses: Record<string, unknown> = { 'server.response.status': status, 'server.response.headers.no_cookies': withoutCookies(headers) };
  const body = shaped ? parseBody(r['body'], r['isBase64Encoded'] === true, headers['content-type'] ?? 'application/json') : result;
  if (body !== undefined && body !== null) addresses['server.response.body'] = body;
  return { status, headers, addresses };
}
