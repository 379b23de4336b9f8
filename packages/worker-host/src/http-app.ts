// The small HTTP service every listening unit needs, on node:http: exact-path routes, raw bodies
// (Buffers; each route decodes its own wire format), body limits refused from Content-Length before
// a byte is read, in-flight accounting for the SHUTDOWN drain, and one error path. It never listens:
// the supervisor hands connections over (`connection(socket)`), and tests call `handler` through an
// inject-style helper. It replaced fastify in the units (a fresh worker loaded fastify in ~50 ms of
// CPU and 4.6 MB of heap; this file in well under one: the figures are in the README).
import http from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { WorkerHostError } from './errors.js';

export interface RawRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Undefined when there was no body, or when it was over the limit of an `oversize: 'empty'` route. */
  body: Buffer | undefined;
  /** The body was over the route's limit and dropped (`oversize: 'empty'`). */
  oversize: boolean;
}

export interface RawReply {
  status?: number;
  /** `text/plain; charset=utf-8` unless set. */
  type?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Runs once the answer is written (e.g. a flush requested after answering). */
  after?: () => void;
}

export type RawHandler = (req: RawRequest) => RawReply | Promise<RawReply>;

export interface RouteOptions {
  /** Bytes; over it the request is refused with 413 (`reject`), or handled with no body (`empty`). */
  bodyLimit: number;
  oversize?: 'reject' | 'empty';
}

export interface RawBodyAppOptions {
  /** An error a handler threw becomes this answer (default: 500 with the message). */
  onError?: (err: Error, req: RawRequest) => RawReply;
  /** Called for every request no route takes (404). */
  onNotFound?: (req: RawRequest) => void;
}

interface Route extends Required<RouteOptions> {
  handler: RawHandler;
}

const TEXT = 'text/plain; charset=utf-8';

/** A body over its route's limit (413); `onError` sees it like any other error. */
export class BodyTooLargeError extends WorkerHostError {
  readonly status = 413;
  constructor(message: string) {
    super('WH_ERR_BODY_TOO_LARGE', message);
  }
}

function headerValue(v: string | string[] | undefined): string {
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

/** One request header as a string ('' when absent; the first of repeated ones). */
export function header(req: { headers: http.IncomingHttpHeaders }, name: string): string {
  return headerValue(req.headers[name]);
}

/** Requests in flight, and a drain that resolves when none is (or at a deadline): the SHUTDOWN drain of a listening unit. */
/**
 * Reads a body of at most `limit` bytes: `done` gets it whole (undefined when empty). At the first byte
 * past the limit what came is let go, `over` is called once and the rest is ignored.
 */
export function collectBody(stream: Readable, limit: number, over: () => void, done: (body: Buffer | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooBig = false;
  stream.on('data', (c: Buffer) => {
    if (tooBig) return;
    size += c.length;
    if (size <= limit) {
      chunks.push(c);
      return;
    }
    tooBig = true;
    chunks.length = 0;
    over();
  });
  stream.once('end', () => {
    if (!tooBig) done(size === 0 ? undefined : chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
  });
}

export class Inflight {
  #count = 0;
  #idle: (() => void)[] = [];

  get count(): number {
    return this.#count;
  }

  enter(): void {
    this.#count++;
  }

  leave(): void {
    if (--this.#count > 0) return;
    const waiters = this.#idle;
    this.#idle = [];
    for (const w of waiters) w();
  }

  drain(deadline: number): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      timer.unref();
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

export class RawBodyApp {
  /** The node:http request listener (what connections and tests drive). */
  readonly handler: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  readonly #server: http.Server;
  readonly #routes = new Map<string, Map<string, Route>>();
  readonly #o: RawBodyAppOptions;
  readonly #inflight = new Inflight();

  constructor(options: RawBodyAppOptions = {}) {
    this.#o = options;
    this.handler = (req, res) => this.#serve(req, res);
    this.#server = http.createServer(this.handler);
    // Tracers keep connections open between invocations; the supervisor's socket owns timeouts.
    this.#server.keepAliveTimeout = 0;
    this.#server.requestTimeout = 0;
    this.#server.headersTimeout = 0;
  }

  route(methods: readonly string[], path: string, options: RouteOptions, handler: RawHandler): this {
    let byMethod = this.#routes.get(path);
    if (!byMethod) this.#routes.set(path, (byMethod = new Map()));
    for (const m of methods) byMethod.set(m, { bodyLimit: options.bodyLimit, oversize: options.oversize ?? 'reject', handler });
    return this;
  }

  get inflight(): number {
    return this.#inflight.count;
  }

  /** Serve one connection handed over by the supervisor. */
  connection(socket: Duplex): void {
    this.#server.emit('connection', socket);
  }

  /** Resolves when no request is in flight, or at the deadline. */
  drain(deadline: number): Promise<void> {
    return this.#inflight.drain(deadline);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return Promise.resolve();
  }

  #serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.#inflight.enter();
    res.once('close', () => this.#inflight.leave());
    req.on('error', () => undefined); // a client reset must not surface as an uncaught error
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const base: RawRequest = { method: req.method ?? 'GET', path: q < 0 ? url : url.slice(0, q), headers: req.headers, body: undefined, oversize: false };
    const route = this.#routes.get(base.path)?.get(base.method);
    if (!route) {
      this.#o.onNotFound?.(base);
      req.resume();
      this.#send(res, { status: 404, body: 'Not Found' });
      return;
    }
    const run = (request: RawRequest, close: boolean): void => {
      let out: RawReply | Promise<RawReply>;
      try {
        out = route.handler(request);
      } catch (err) {
        this.#fail(res, err, request, close);
        return;
      }
      if (out instanceof Promise)
        out.then(
          (r) => this.#send(res, r, close),
          (err: unknown) => this.#fail(res, err, request, close),
        );
      else this.#send(res, out, close);
    };
    // Over the limit, by Content-Length or while reading: refused (413) or handled with no body, at once;
    // either way the connection closes, so an absurd body is never read to its end.
    const overLimit = (message: string): void => {
      if (route.oversize === 'reject') this.#fail(res, new BodyTooLargeError(message), base, true);
      else run({ ...base, oversize: true }, true);
    };
    const declared = Number(header(req, 'content-length'));
    if (Number.isFinite(declared) && declared > route.bodyLimit) {
      overLimit(`request body of ${declared} bytes is over the ${route.bodyLimit}-byte limit`);
      return;
    }
    collectBody(
      req,
      route.bodyLimit,
      () => overLimit(`request body is over the ${route.bodyLimit}-byte limit`),
      (body) => run({ ...base, body }, false),
    );
  }

  #fail(res: http.ServerResponse, err: unknown, request: RawRequest, close = false): void {
    const e = err instanceof Error ? err : new Error(String(err));
    const status = (e as { status?: unknown }).status;
    this.#send(res, this.#o.onError?.(e, request) ?? { status: typeof status === 'number' ? status : 500, body: e.message }, close);
  }

  #send(res: http.ServerResponse, r: RawReply, close = false): void {
    if (res.headersSent || res.destroyed) return;
    const body = r.body ?? '';
    const headers: Record<string, string | number> = { 'content-type': r.type ?? TEXT, 'content-length': Buffer.byteLength(body), ...r.headers };
    // `Connection: close` makes node:http end the socket after the answer, so an unread body is never drained.
    if (close) headers['connection'] = 'close';
    res.writeHead(r.status ?? 200, headers);
    res.end(body, () => r.after?.());
  }
}
