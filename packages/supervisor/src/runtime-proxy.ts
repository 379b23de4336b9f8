// The runtime-API proxy (DataDog/datadog-lambda-extension, bottlecap/src/proxy/interceptor.rs): with
// /opt/datadog_wrapper as AWS_LAMBDA_EXEC_WRAPPER and AppSec (or DD_EXPERIMENTAL_ENABLE_PROXY) on,
// the runtime talks to this listener instead of Lambda's Runtime API. Every request is forwarded
// byte for byte (hop-by-hop headers dropped) over a keep-alive agent; the invocation event (the
// body of /next) and the function's result (/response, /error) are also handed to `tee` by request
// id, after they were forwarded: the function never waits on what we do with them. The long poll on
// /next has no timeout; a failing upstream answers 502 with Lambda's error shape.
import http from 'node:http';
import type { Logger } from '@dd-lambda/logger';
import { listen } from './listen.js';

/** Bodies teed at most this large (Lambda's payload limit is 6 MiB; the rest is forwarded untouched). */
export const MAX_TEED_BYTES = 6 * 1024 * 1024 + 100;

/** How long an upstream cut waits for the runtime's own close before it counts as a failure. */
const UPSTREAM_CUT_GRACE_MS = 100;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);
const NEXT = /^\/[^/]+\/runtime\/invocation\/next$/;
const RESULT = /^\/[^/]+\/runtime\/invocation\/([^/]+)\/(response|error)$/;

export type TeeKind = 'event' | 'response' | 'error';

export interface RuntimeProxyOptions {
  /** host:port of Lambda's Runtime API. */
  upstream: string;
  port: number;
  logger: Logger;
  /** The event or result of one invocation, after it was forwarded. */
  tee?: (requestId: string, kind: TeeKind, body: Buffer) => void;
}

export interface RuntimeProxyCounters {
  requests: number;
  upstreamErrors: number;
  teed: number;
}

function cleanHeaders(h: http.IncomingHttpHeaders | http.OutgoingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP_BY_HOP.has(k.toLowerCase())) out[k] = v;
  return out;
}

export class RuntimeApiProxy {
  readonly counters: RuntimeProxyCounters = { requests: 0, upstreamErrors: 0, teed: 0 };
  readonly #o: RuntimeProxyOptions;
  readonly #server: http.Server;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  readonly #host: string;
  readonly #port: number;
  #closing = false;

  constructor(o: RuntimeProxyOptions) {
    this.#o = o;
    const i = o.upstream.lastIndexOf(':');
    this.#host = i > 0 ? o.upstream.slice(0, i) : o.upstream;
    this.#port = i > 0 ? Number(o.upstream.slice(i + 1)) : 80;
    this.#server = http.createServer((req, res) => this.#forward(req, res));
    // The runtime's long poll on /next may wait for minutes between invocations.
    this.#server.requestTimeout = 0;
    this.#server.headersTimeout = 0;
    this.#server.keepAliveTimeout = 0;
  }

  bind(): Promise<void> {
    return listen(this.#server, { port: this.#o.port, host: '127.0.0.1' }, 'the runtime API proxy', this.#o.logger);
  }

  #forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.counters.requests++;
    const path = req.url ?? '/';
    const p = path.split('?')[0] ?? path;
    const result = req.method === 'POST' ? RESULT.exec(p) : null;
    const isNext = req.method === 'GET' && NEXT.test(p);
    const up = http.request({ host: this.#host, port: this.#port, method: req.method, path, headers: cleanHeaders(req.headers), agent: this.#agent }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, cleanHeaders(upRes.headers));
      const requestId = upRes.headers['lambda-runtime-aws-request-id'];
      const keep = this.#o.tee !== undefined && isNext && upRes.statusCode === 200 && typeof requestId === 'string' ? collector() : undefined;
      upRes.on('data', (c: Buffer) => keep?.add(c));
      upRes.pipe(res);
      upRes.on('end', () => {
        if (keep !== undefined && typeof requestId === 'string') this.#tee(requestId, 'event', keep.body());
      });
      upRes.on('error', () => res.destroy());
    });
    up.on('error', (err) => {
      // Our own close at SHUTDOWN cuts what is pending: not an upstream failure.
      if (this.#closing) return;
      // When the platform ends the sandbox it stops the runtime, then cuts the runtime's pending
      // /next; the two closes can reach us in either order. The runtime going away within the
      // grace means the cut was the platform's teardown, not a failing Runtime API.
      const settle = setTimeout(() => this.#upstreamFailed(err, p, res), UPSTREAM_CUT_GRACE_MS);
      settle.unref();
    });
    // A runtime that goes away mid-request takes its upstream request with it.
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    const keep = this.#o.tee !== undefined && result !== null ? collector() : undefined;
    req.on('data', (c: Buffer) => keep?.add(c));
    req.pipe(up);
    req.on('end', () => {
      if (keep !== undefined && result !== null) this.#tee(requestIdOf(result[1] ?? ''), result[2] as TeeKind, keep.body());
    });
  }

  #upstreamFailed(err: Error, path: string, res: http.ServerResponse): void {
    if (this.#closing || res.destroyed || res.writableFinished) return;
    this.counters.upstreamErrors++;
    this.#o.logger.warn({ err, path }, 'the Runtime API did not answer the proxied request');
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errorType: 'Runtime.ProxyError', errorMessage: `the Runtime API did not answer: ${err.message}` }));
    } else res.destroy();
  }

  #tee(requestId: string, kind: TeeKind, body: Buffer): void {
    if (this.#o.tee === undefined) return;
    this.counters.teed++;
    // After the bytes went on: what the tee does never delays the function.
    setImmediate(() => {
      try {
        this.#o.tee?.(requestId, kind, body);
      } catch (err) {
        this.#o.logger.error({ err }, 'runtime proxy tee failed; the invocation was forwarded');
      }
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#agent.destroy();
    if (!this.#server.listening) return;
    const closed = new Promise<void>((r) => this.#server.close(() => r()));
    this.#server.closeAllConnections();
    await closed;
  }
}

/** The request id in a result path; a malformed escape is kept as sent (never thrown on the main thread). */
function requestIdOf(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** A copy of a body up to MAX_TEED_BYTES (a larger one is teed as empty: too big for the WAF anyway). */
function collector(): { add(c: Buffer): void; body(): Buffer } {
  const chunks: Buffer[] = [];
  let n = 0;
  return {
    add(c) {
      n += c.length;
      if (n <= MAX_TEED_BYTES) chunks.push(c);
    },
    body: () => (n <= MAX_TEED_BYTES ? Buffer.concat(chunks, n) : Buffer.alloc(0)),
  };
}
