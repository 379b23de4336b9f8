// HTTP/2 to the intake, when DD_HTTP_PROTOCOL=http2: one session per intake origin, its requests
// multiplexed, on node:http2 (loaded on the first such post). An origin that does not negotiate h2
// (ALPN) is remembered and served over HTTP/1.1 from then on. Not the default: bench/http2.mjs measured
// it (the intake client's README has the figures).
import type * as Http2 from 'node:http2';
import type { ClientHttp2Session, SecureClientSessionOptions } from 'node:http2';
import { IntakeClientError } from './errors.js';
import type { PostResult, PostTimeouts } from './transport.js';

const MAX_ERROR_BODY = 512;
/** A session idle this long is closed: Lambda may freeze the sandbox with it open. */
export const H2_IDLE_MS = 5_000;

/** The origin does not speak HTTP/2: the caller posts over HTTP/1.1 instead. */
const unsupported = (origin: string): IntakeClientError => new IntakeClientError('IC_ERR_H2_UNSUPPORTED', `${origin} did not negotiate HTTP/2`);

export const isH2Unsupported = (err: unknown): boolean => err instanceof IntakeClientError && err.code === 'IC_ERR_H2_UNSUPPORTED';

export class H2Sessions {
  readonly #tls: () => SecureClientSessionOptions;
  readonly #timeouts: PostTimeouts;
  readonly #sessions = new Map<string, Promise<ClientHttp2Session>>();
  /** Origins that answered without h2: HTTP/1.1 for the rest of the process. */
  readonly refused = new Set<string>();
  #http2: Promise<typeof Http2> | undefined;

  constructor(tlsOptions: () => SecureClientSessionOptions, timeouts: PostTimeouts) {
    this.#tls = tlsOptions;
    this.#timeouts = timeouts;
  }

  async post(url: URL, headers: Record<string, string>, body: Buffer, signal: AbortSignal): Promise<PostResult> {
    const session = await this.#session(url.origin);
    return new Promise<PostResult>((resolve, reject) => {
      const h: Record<string, string | number> = { ':method': 'POST', ':path': `${url.pathname}${url.search}`, 'content-length': body.length };
      for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = v;
      const req = session.request(h, { signal });
      let timer: NodeJS.Timeout | undefined;
      let text = '';
      let status = 0;
      req.once('response', (res) => {
        clearTimeout(timer);
        status = Number(res[':status'] ?? 0);
      });
      req.on('data', (chunk: Buffer) => {
        if (text.length < MAX_ERROR_BODY) text += chunk.toString('utf8', 0, MAX_ERROR_BODY);
      });
      req.once('end', () => resolve({ status, text: text.slice(0, MAX_ERROR_BODY) }));
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      // The body is written: the intake now has the response timeout to answer.
      req.once('finish', () => {
        timer = setTimeout(
          () => req.destroy(Object.assign(new Error(`no answer from ${url.host} within ${this.#timeouts.responseMs} ms`), { code: 'ETIMEDOUT' })),
          this.#timeouts.responseMs,
        );
        timer.unref();
      });
      req.end(body);
    });
  }

  #session(origin: string): Promise<ClientHttp2Session> {
    let s = this.#sessions.get(origin);
    if (s === undefined) {
      s = this.#connect(origin);
      this.#sessions.set(origin, s);
      // A failed connect is forgotten, so the next post tries again (or goes HTTP/1.1 when refused).
      s.catch(() => this.#sessions.delete(origin));
    }
    return s;
  }

  async #connect(origin: string): Promise<ClientHttp2Session> {
    const http2 = await (this.#http2 ??= import('node:http2'));
    return new Promise<ClientHttp2Session>((resolve, reject) => {
      // node:http2 offers `h2` only, whatever ALPNProtocols says.
      const session = http2.connect(origin, this.#tls());
      const forget = (): void => {
        if (this.#sessions.get(origin) !== undefined) this.#sessions.delete(origin);
      };
      const timer = setTimeout(
        () => session.destroy(Object.assign(new Error(`no connection to ${origin} within ${this.#timeouts.connectMs} ms`), { code: 'ETIMEDOUT' })),
        this.#timeouts.connectMs,
      );
      timer.unref();
      session.once('connect', (_s, socket) => {
        clearTimeout(timer);
        if ((socket as { alpnProtocol?: string | false }).alpnProtocol !== 'h2') {
          this.refused.add(origin);
          session.destroy();
          reject(unsupported(origin));
          return;
        }
        session.unref();
        session.setTimeout(H2_IDLE_MS, () => session.close());
        resolve(session);
      });
      session.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        forget();
        // A server that offers ALPN without h2 ends the handshake with this alert (Node's https does).
        if (err.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL') {
          this.refused.add(origin);
          reject(unsupported(origin));
        } else reject(err);
      });
      session.once('close', forget);
      session.once('goaway', forget);
    });
  }

  close(): void {
    for (const s of this.#sessions.values())
      s.then(
        (x) => x.destroy(),
        () => undefined,
      );
    this.#sessions.clear();
  }
}
