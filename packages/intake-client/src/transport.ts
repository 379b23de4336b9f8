// One POST to the intake over node:http/https: keep-alive agents built on first use, TLS roots and
// verification from the config, an HTTPS proxy through CONNECT (absolute-form for http:// targets).
// Node's own stack instead of undici: in a fresh worker it loads in a fraction of undici's ~68 ms of
// CPU and ~6 MB of heap (figures in the README), which a 128 MB function pays at every cold start.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls, { rootCertificates } from 'node:tls';
import { IntakeClientError } from './errors.js';
import { H2Sessions, isH2Unsupported } from './transport-h2.js';

export interface TransportConfig {
  /** DD_HTTP_PROTOCOL: `http2` posts to https:// intakes (without a proxy) over HTTP/2; HTTP/1.1 otherwise. */
  httpProtocol?: 'http1' | 'http2' | undefined;
  proxyHttps: string | undefined;
  proxyNoProxy: readonly string[];
  tlsCertFile: string | undefined;
  skipSslValidation: boolean;
}

export interface PostResult {
  status: number;
  /** The first bytes of the answer, for error messages. */
  text: string;
}

/**
 * Sized for a function waiting on us, not for a server: a healthy intake connects (TLS included) and
 * answers in a few hundred ms, so a second of silence means it is not going to, and the payload is
 * kept for a later flush rather than holding the invocation for DD_FLUSH_TIMEOUT.
 */
export const CONNECT_TIMEOUT_MS = 1000;
/** From the last byte of the request to the answer's status line. */
export const RESPONSE_TIMEOUT_MS = 1000;

export interface PostTimeouts {
  connectMs: number;
  responseMs: number;
}

/** Posts `body` to `url`; the signal aborts it (the flush deadline), and so do the connect and response timeouts. */
export type Post = (url: URL, headers: Record<string, string>, body: Buffer, signal: AbortSignal) => Promise<PostResult>;

export interface Transport {
  post: Post;
  close(): void;
}

const MAX_ERROR_BODY = 512;

/** NO_PROXY semantics: `*`, exact host, or a domain suffix (`.example.com` and `example.com` both match sub.example.com). */
export function bypassesProxy(host: string, noProxy: readonly string[]): boolean {
  const h = host.toLowerCase();
  return noProxy.some((raw) => {
    const entry = raw.trim().toLowerCase().replace(/:\d+$/, '');
    if (entry === '') return false;
    if (entry === '*') return true;
    const bare = entry.startsWith('.') ? entry.slice(1) : entry;
    return h === bare || h.endsWith(`.${bare}`);
  });
}

/**
 * An https.Agent whose sockets are TLS over a CONNECT tunnel through the proxy. Pooled like direct
 * ones, so a tunnel is opened once per intake host, not per request.
 */
class TunnelAgent extends https.Agent {
  readonly #proxy: URL;

  constructor(proxy: URL, options: https.AgentOptions) {
    super(options);
    this.#proxy = proxy;
  }

  override createConnection(options: tls.ConnectionOptions & { host?: string; port?: number }, cb: (err: Error | null, socket?: Duplex) => void): undefined {
    const target = `${options.host ?? ''}:${options.port ?? 443}`;
    const headers: Record<string, string> = { host: target };
    if (this.#proxy.username !== '')
      headers['proxy-authorization'] = `Basic ${Buffer.from(`${decodeURIComponent(this.#proxy.username)}:${decodeURIComponent(this.#proxy.password)}`).toString('base64')}`;
    const req = http.request({ host: this.#proxy.hostname, port: Number(this.#proxy.port || 80), method: 'CONNECT', path: target, headers });
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        cb(new Error(`proxy ${this.#proxy.host} answered ${res.statusCode ?? '?'} to CONNECT ${target}`));
        return;
      }
      cb(null, tls.connect({ ...options, socket, servername: options.servername ?? options.host }));
    });
    req.once('error', (err) => cb(err));
    req.end();
    return undefined;
  }
}

export function buildTransport(config: Readonly<TransportConfig>, timeouts: PostTimeouts = { connectMs: CONNECT_TIMEOUT_MS, responseMs: RESPONSE_TIMEOUT_MS }): Transport {
  let direct: https.Agent | undefined;
  let plain: http.Agent | undefined;
  let tunnel: TunnelAgent | undefined;
  let proxyUrl: URL | undefined;

  // Built on first use: reading a CA file or making agents has no place on the cold-start path.
  function tlsOptions(): https.AgentOptions {
    const out: https.AgentOptions = { rejectUnauthorized: !config.skipSslValidation };
    if (config.tlsCertFile !== undefined) {
      try {
        out.ca = [...rootCertificates, readFileSync(config.tlsCertFile, 'utf8')];
      } catch (err) {
        throw new IntakeClientError('IC_ERR_TLS_CERT_FILE', `cannot read DD_TLS_CERT_FILE ${config.tlsCertFile}: ${(err as Error).message}`, { cause: err });
      }
    }
    return out;
  }

  // Lambda freezes the sandbox between invocations, so pooled sockets may be dead on thaw; the retry
  // loop absorbs a reset, and idle sockets are dropped after 5 s.
  const pool = { keepAlive: true, maxSockets: 8, timeout: 5_000 };

  function proxyFor(url: URL): URL | undefined {
    if (config.proxyHttps === undefined || bypassesProxy(url.hostname, config.proxyNoProxy)) return undefined;
    proxyUrl ??= new URL(config.proxyHttps);
    return proxyUrl;
  }

  let h2: H2Sessions | undefined;

  /** One POST over HTTP/1.1 (keep-alive pools, the proxy tunnel). */
  function post1(url: URL, headers: Record<string, string>, body: Buffer, signal: AbortSignal): Promise<PostResult> {
    const proxy = proxyFor(url);
    const secure = url.protocol === 'https:';
    let options: https.RequestOptions;
    let mod: typeof http | typeof https = secure ? https : http;
    if (proxy && secure) {
      tunnel ??= new TunnelAgent(proxy, { ...pool, ...tlsOptions() });
      options = { agent: tunnel, host: url.hostname, port: url.port || 443, path: `${url.pathname}${url.search}` };
    } else if (proxy) {
      // A plain-HTTP target goes to the proxy itself with the absolute URL as the path.
      plain ??= new http.Agent(pool);
      mod = http;
      options = { agent: plain, host: proxy.hostname, port: proxy.port || 80, path: url.href };
    } else if (secure) {
      direct ??= new https.Agent({ ...pool, ...tlsOptions() });
      options = { agent: direct, host: url.hostname, port: url.port || 443, path: `${url.pathname}${url.search}` };
    } else {
      plain ??= new http.Agent(pool);
      options = { agent: plain, host: url.hostname, port: url.port || 80, path: `${url.pathname}${url.search}` };
    }
    return new Promise<PostResult>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const arm = (ms: number, what: string): void => {
        clearTimeout(timer);
        timer = setTimeout(() => req.destroy(Object.assign(new Error(`no ${what} from ${url.host} within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
        timer.unref();
      };
      const req = mod.request({ ...options, method: 'POST', headers: { ...headers, 'content-length': String(body.length) }, signal }, (res) => {
        clearTimeout(timer);
        let text = '';
        res.on('data', (chunk: Buffer) => {
          if (text.length < MAX_ERROR_BODY) text += chunk.toString('utf8', 0, MAX_ERROR_BODY);
        });
        res.once('end', () => resolve({ status: res.statusCode ?? 0, text: text.slice(0, MAX_ERROR_BODY) }));
        res.once('error', reject);
      });
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      // A pooled socket is already connected; a new one gets CONNECT_TIMEOUT_MS to be (TLS included).
      req.once('socket', (socket) => {
        if (req.reusedSocket) return;
        arm(timeouts.connectMs, 'connection');
        socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(timer));
      });
      // The body is written: the intake now has RESPONSE_TIMEOUT_MS to answer.
      req.once('finish', () => arm(timeouts.responseMs, 'answer'));
      req.end(body);
    });
  }

  return {
    post(url, headers, body, signal) {
      if (config.httpProtocol !== 'http2' || url.protocol !== 'https:' || proxyFor(url) !== undefined) return post1(url, headers, body, signal);
      h2 ??= new H2Sessions(tlsOptions, timeouts);
      if (h2.refused.has(url.origin)) return post1(url, headers, body, signal);
      return h2.post(url, headers, body, signal).catch((err: unknown) => {
        if (isH2Unsupported(err)) return post1(url, headers, body, signal);
        throw err;
      });
    },
    close() {
      h2?.close();
      direct?.destroy();
      plain?.destroy();
      tunnel?.destroy();
    },
  };
}
