// One client for every payload the extension ships (series, sketches, traces, stats, logs, events).
// Each send compresses once, then makes up to `attempts` tries inside the caller's deadline and
// says whether what failed is worth keeping for the next flush (5xx, 408, 429, network) or not (4xx).
import type { Config } from '@dd-lambda/config';
import type { Logger } from '@dd-lambda/logger';
import { compress } from './compress.js';
import type { Encoding } from './compress.js';
import { IntakeClientError } from './errors.js';
import { buildTransport } from './transport.js';
import type { PostTimeouts, Transport } from './transport.js';

export { bypassesProxy } from './transport.js';

export type ClientConfig = Pick<Config, 'apiKey' | 'proxyHttps' | 'proxyNoProxy' | 'tlsCertFile' | 'skipSslValidation' | 'flushTimeoutMs'> &
  Partial<Pick<Config, 'kmsApiKey' | 'apiKeySecretArn' | 'apiKeySsmArn'>>;

/** An AWS key source is set and its key has not arrived yet (the supervisor resolves it): hold data. */
export function keyPending(config: Readonly<ClientConfig>): boolean {
  return (config.apiKey === undefined || config.apiKey === '') && Boolean(config.kmsApiKey || config.apiKeySecretArn || config.apiKeySsmArn);
}

export interface IntakeClientOptions {
  config: Readonly<ClientConfig>;
  logger: Logger;
  /** Replaces the node:http/https transport (tests of callers that must not touch the network). */
  transport?: Transport;
  /** Connect and response timeouts of the node:http/https transport (1 s each by default). */
  timeouts?: PostTimeouts;
  /** The intake answered 403 (the key is refused; a rotated secret may fix it). */
  onForbidden?: () => void;
  userAgent?: string;
}

export interface IntakeRequest {
  url: string;
  /** Uncompressed payload. */
  body: Buffer;
  contentType: string;
  /** Preferred encoding (zstd falls back to gzip where Node lacks it) and its level; 0 sends identity. */
  encoding: Encoding;
  level: number;
  /** Epoch ms by which the whole send (all attempts) must be over. */
  deadline: number;
  headers?: Record<string, string>;
  /** Another org's key (additional endpoints); the configured key otherwise. */
  apiKey?: string;
  /** Tries inside the deadline (default 3); `Infinity` keeps trying until the deadline (the final flush). */
  attempts?: number;
  /** Statuses that mean success; any 2xx when absent. */
  accept?: (status: number) => boolean;
}

export type IntakeOutcome =
  { ok: true; status: number; attempts: number; wireBytes: number } | { ok: false; retryable: boolean; status: number | undefined; attempts: number; error: IntakeClientError };

export interface IntakeClient {
  send(req: IntakeRequest): Promise<IntakeOutcome>;
  /** True while the API key is still being resolved from AWS: callers keep their data for later. */
  keyPending?(): boolean;
  close(): Promise<void>;
}

function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Between tries of one send: 50, 200, 800 ms, then 1 s. */
const MAX_BACKOFF_MS = 1000;

// Not unref'd: a flush awaits it, and it is at most 200 ms.
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function buildIntakeClient(opts: IntakeClientOptions): IntakeClient {
  const { config, logger } = opts;
  const userAgent = opts.userAgent ?? 'dd-lambda-extension';
  const transport = opts.transport ?? buildTransport(config, opts.timeouts);

  return {
    keyPending: () => keyPending(config),
    async send(req) {
      const apiKey = req.apiKey ?? config.apiKey;
      if (apiKey === undefined || apiKey === '') {
        const pending = keyPending(config);
        const why = pending
          ? 'the Datadog API key is still being resolved from AWS; payload kept'
          : 'no Datadog API key is configured (DD_API_KEY, DD_API_KEY_SECRET_ARN, DD_API_KEY_SSM_ARN or DD_KMS_API_KEY); payload not sent';
        return { ok: false, retryable: pending, status: undefined, attempts: 0, error: new IntakeClientError('IC_ERR_NO_API_KEY', why) };
      }
      const url = new URL(req.url);
      const packed = await compress(req.body, req.encoding, req.level);
      const headers: Record<string, string> = {
        ...req.headers,
        'dd-api-key': apiKey,
        'content-type': req.contentType,
        'user-agent': userAgent,
      };
      if (packed.encoding !== 'identity') headers['content-encoding'] = packed.encoding;
      const accept = req.accept ?? ((s: number) => s >= 200 && s < 300);
      const max = Math.max(1, req.attempts ?? 3);
      let last: IntakeOutcome | undefined;
      for (let n = 1; n <= max; n++) {
        const left = req.deadline - Date.now();
        if (left <= 0) break;
        try {
          const { status, text } = await transport.post(url, headers, packed.data, AbortSignal.timeout(Math.min(left, config.flushTimeoutMs)));
          if (accept(status)) return { ok: true, status, attempts: n, wireBytes: packed.data.length };
          if (status === 403) opts.onForbidden?.();
          const retryable = retryableStatus(status);
          const code = retryable ? 'IC_ERR_UNAVAILABLE' : 'IC_ERR_REJECTED';
          last = { ok: false, retryable, status, attempts: n, error: new IntakeClientError(code, `${url.pathname} answered ${status}: ${text.trim() || '(empty body)'}`) };
          if (!retryable) return last;
        } catch (err) {
          if (err instanceof IntakeClientError) return { ok: false, retryable: false, status: undefined, attempts: n, error: err };
          const e = err as Error & { code?: string };
          last = {
            ok: false,
            retryable: true,
            status: undefined,
            attempts: n,
            error: new IntakeClientError('IC_ERR_UNAVAILABLE', `${url.host}${url.pathname}: ${e.code ?? e.name}: ${e.message}`, { cause: err }),
          };
        }
        logger.debug({ url: `${url.host}${url.pathname}`, attempt: n, status: last.status, err: last.error.message }, 'intake attempt failed');
        if (n < max) {
          const backoff = Math.min(50 * 4 ** (n - 1), MAX_BACKOFF_MS, (req.deadline - Date.now()) / 4);
          if (backoff > 0) await sleep(backoff);
        }
      }
      return (
        last ?? {
          ok: false,
          retryable: true,
          status: undefined,
          attempts: 0,
          error: new IntakeClientError('IC_ERR_DEADLINE', `${url.pathname}: flush deadline passed before the payload could be sent`),
        }
      );
    },
    close() {
      transport.close();
      return Promise.resolve();
    },
  };
}
