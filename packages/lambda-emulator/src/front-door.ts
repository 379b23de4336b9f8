// The HTTP front door: turns a plain HTTP request into the event a Lambda trigger would send
// (API Gateway REST v1, HTTP API v2, ALB, Function URL) and the function's result back into an
// HTTP response, so a user can curl the emulated function. Shapes follow AWS's sample events.

import http from 'node:http';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { LambdaEmulator } from './emulator.js';
import type { InvokeResponse } from './types.js';

export type EventSource = 'apigw-v1' | 'apigw-v2' | 'alb' | 'function-url';

export interface HttpRequestLike {
  method: string;
  /** Path with query string, e.g. `/users/7?x=1`. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  sourceIp?: string;
}

export interface HttpResponseLike {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|.*\+json|.*\+xml)/i;

function isText(headers: HttpRequestLike['headers']): boolean {
  const ct = headers['content-type'];
  const v = Array.isArray(ct) ? ct[0] : ct;
  return v === undefined || TEXT_TYPES.test(v);
}

function single(headers: HttpRequestLike['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

function multi(headers: HttpRequestLike['headers']): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v : [v];
  return out;
}

function queries(search: URLSearchParams): { single: Record<string, string> | null; multi: Record<string, string[]> | null } {
  const s: Record<string, string> = {};
  const m: Record<string, string[]> = {};
  for (const [k, v] of search) {
    s[k] = v;
    (m[k] ??= []).push(v);
  }
  const any = Object.keys(s).length > 0;
  return { single: any ? s : null, multi: any ? m : null };
}

/** Builds the trigger event for `req`. */
export function toEvent(source: EventSource, req: HttpRequestLike, ctx: { accountId: string; region: string; functionName: string }): Record<string, unknown> {
  const url = new URL(req.url, 'http://localhost');
  const text = isText(req.headers);
  const body = req.body.length === 0 ? null : text ? req.body.toString('utf8') : req.body.toString('base64');
  const isBase64Encoded = req.body.length > 0 && !text;
  const q = queries(url.searchParams);
  const now = new Date();
  const sourceIp = req.sourceIp ?? '127.0.0.1';
  const ua = single(req.headers)['user-agent'] ?? '';
  const requestId = randomUUID();
  switch (source) {
    case 'apigw-v1':
      return {
        resource: '/{proxy+}',
        path: url.pathname,
        httpMethod: req.method,
        headers: single(req.headers),
        multiValueHeaders: multi(req.headers),
        queryStringParameters: q.single,
        multiValueQueryStringParameters: q.multi,
        pathParameters: { proxy: url.pathname.replace(/^\//, '') },
        stageVariables: null,
        requestContext: {
          accountId: ctx.accountId,
          apiId: 'emulator',
          resourceId: 'proxy',
          resourcePath: '/{proxy+}',
          stage: 'prod',
          path: `/prod${url.pathname}`,
          httpMethod: req.method,
          protocol: 'HTTP/1.1',
          requestId,
          extendedRequestId: requestId,
          requestTime: now.toUTCString(),
          requestTimeEpoch: now.getTime(),
          domainName: `emulator.execute-api.${ctx.region}.amazonaws.com`,
          identity: { sourceIp, userAgent: ua },
        },
        body,
        isBase64Encoded,
      };
    case 'apigw-v2':
    case 'function-url': {
      const h = single(req.headers);
      const cookies = h.cookie
        ?.split(';')
        .map((c) => c.trim())
        .filter(Boolean);
      delete h.cookie;
      const fnUrl = source === 'function-url';
      const apiId = fnUrl ? 'emulatorurlid' : 'emulator';
      return {
        version: '2.0',
        routeKey: fnUrl ? '$default' : `${req.method} ${url.pathname}`,
        rawPath: url.pathname,
        rawQueryString: url.search.replace(/^\?/, ''),
        ...(cookies?.length ? { cookies } : {}),
        headers: h,
        ...(q.single ? { queryStringParameters: q.single } : {}),
        requestContext: {
          accountId: fnUrl ? 'anonymous' : ctx.accountId,
          apiId,
          domainName: fnUrl ? `${apiId}.lambda-url.${ctx.region}.on.aws` : `${apiId}.execute-api.${ctx.region}.amazonaws.com`,
          domainPrefix: apiId,
          http: { method: req.method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp, userAgent: ua },
          requestId,
          routeKey: fnUrl ? '$default' : `${req.method} ${url.pathname}`,
          stage: '$default',
          time: now.toUTCString(),
          timeEpoch: now.getTime(),
        },
        ...(body !== null ? { body } : {}),
        isBase64Encoded,
      };
    }
    case 'alb':
      return {
        requestContext: { elb: { targetGroupArn: `arn:aws:elasticloadbalancing:${ctx.region}:${ctx.accountId}:targetgroup/${ctx.functionName}/0123456789abcdef` } },
        httpMethod: req.method,
        path: url.pathname,
        queryStringParameters: q.single ?? {},
        headers: single(req.headers),
        body: body ?? '',
        isBase64Encoded,
      };
  }
}

const badGateway = (message: string): HttpResponseLike => ({
  status: 502,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify({ message })),
});

/** Turns the function's result into the HTTP response the trigger would send. */
export function fromResult(source: EventSource, r: InvokeResponse): HttpResponseLike {
  if (r.error) return badGateway('Internal Server Error');
  let value: unknown;
  try {
    value = JSON.parse(r.payload.toString('utf8'));
  } catch {
    return badGateway('Internal Server Error');
  }
  const proxyShaped = value !== null && typeof value === 'object' && !Array.isArray(value) && 'statusCode' in value;
  if (!proxyShaped) {
    // HTTP APIs and Function URLs infer a 200 JSON response; REST proxy and ALB need statusCode.
    if (source === 'apigw-v2' || source === 'function-url') {
      return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)) };
    }
    return badGateway('Internal server error');
  }
  const v = value as {
    statusCode: unknown;
    headers?: Record<string, unknown>;
    multiValueHeaders?: Record<string, unknown[]>;
    cookies?: string[];
    body?: unknown;
    isBase64Encoded?: boolean;
  };
  const status = Number(v.statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599) return badGateway('Internal server error');
  const headers: Record<string, string | string[]> = {};
  for (const [k, x] of Object.entries(v.headers ?? {})) headers[k.toLowerCase()] = String(x);
  for (const [k, xs] of Object.entries(v.multiValueHeaders ?? {})) headers[k.toLowerCase()] = xs.map(String);
  if (v.cookies?.length) headers['set-cookie'] = v.cookies;
  const rawBody = v.body === undefined || v.body === null ? '' : typeof v.body === 'string' ? v.body : JSON.stringify(v.body);
  return { status, headers, body: v.isBase64Encoded ? Buffer.from(rawBody, 'base64') : Buffer.from(rawBody) };
}

export interface FrontDoorOptions {
  emulator: LambdaEmulator;
  source: EventSource;
  accountId?: string;
  region?: string;
  functionName?: string;
}

export interface FrontDoor {
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

/** An HTTP server in front of the emulated function. */
export function buildFrontDoor(opts: FrontDoorOptions): FrontDoor {
  const ctx = { accountId: opts.accountId ?? '123456789012', region: opts.region ?? 'us-east-1', functionName: opts.functionName ?? 'test_function' };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const event = toEvent(
        opts.source,
        {
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          headers: req.headers,
          body: Buffer.concat(chunks),
          ...(req.socket.remoteAddress ? { sourceIp: req.socket.remoteAddress } : {}),
        },
        ctx,
      );
      let answered = false;
      const answer = (r: InvokeResponse): void => {
        if (answered) return;
        answered = true;
        const out = fromResult(opts.source, r);
        res.writeHead(out.status, { ...out.headers, 'content-length': out.body.length });
        res.end(out.body);
      };
      opts.emulator
        .invoke(event, { onResponse: answer })
        .then(answer, (err: Error) => answer({ requestId: '', payload: Buffer.alloc(0), error: { errorType: 'Emulator', errorMessage: err.message } }));
    });
  });
  return {
    async listen(port = 0, host = '127.0.0.1') {
      server.listen(port, host);
      await once(server, 'listening');
      return `http://${host}:${(server.address() as AddressInfo).port}`;
    },
    async close() {
      if (!server.listening) return;
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
