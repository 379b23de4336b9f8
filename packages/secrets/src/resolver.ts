// Keeps the API key: resolves it from AWS off the cold-start path (started early, never awaited before
// the first /next), retries failures with backoff, re-resolves every DD_API_KEY_SECRET_RELOAD_INTERVAL
// and, at most once a minute, when the intake refuses the key (a rotated secret). The key itself never
// reaches a log line; failures name the variable to fix and AWS's own error.
import type { AwsAccess, Config } from '@dd-lambda/config';
import type { Logger } from '@dd-lambda/logger';
import { SecretsError } from './errors.js';
import { fetchApiKey, keySource } from './resolve.js';
import type { KeySource } from './resolve.js';

export const RETRY_MIN_MS = 1_000;
export const RETRY_MAX_MS = 60_000;
/** A 403 from the intake re-resolves at most this often. */
export const REJECTED_MIN_INTERVAL_MS = 60_000;

export interface ResolverOptions {
  config: Readonly<Pick<Config, 'apiKey' | 'kmsApiKey' | 'apiKeySecretArn' | 'apiKeySsmArn' | 'apiKeySecretReloadIntervalS'>>;
  access: AwsAccess;
  logger: Logger;
  /** Called with each new key (the first one, and a rotated one). */
  onKey: (key: string) => void;
  now?: () => number;
  timeoutMs?: number;
  fetch?: typeof fetchApiKey;
}

export class ApiKeyResolver {
  readonly #o: ResolverOptions;
  readonly #source: KeySource | undefined;
  readonly #now: () => number;
  #key: string | undefined;
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #backoffMs = 0;
  #lastError: string | undefined;
  #lastRejected = Number.NEGATIVE_INFINITY;
  #stopped = false;
  attempts = 0;

  constructor(o: ResolverOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#source = keySource(o.config);
  }

  /** The variable the key comes from (undefined: none is set). */
  get source(): KeySource['variable'] | undefined {
    return this.#source?.variable;
  }

  /** An AWS source is configured and has not given a key yet: data waits for it. */
  get pending(): boolean {
    return this.#source !== undefined && this.#source.variable !== 'DD_API_KEY' && this.#key === undefined;
  }

  get key(): string | undefined {
    return this.#key;
  }

  /** Starts resolving (AWS sources only; DD_API_KEY needs nothing). Never throws, never awaited on the cold-start path. */
  start(): void {
    if (this.#source === undefined || this.#source.variable === 'DD_API_KEY') {
      if (this.#source === undefined)
        this.#o.logger.error({ code: 'SEC_ERR_CONFIG' }, 'no Datadog API key: set DD_API_KEY_SECRET_ARN, DD_API_KEY_SSM_ARN, DD_KMS_API_KEY or DD_API_KEY; nothing will be sent');
      return;
    }
    this.#resolve();
  }

  /** The intake answered 403: resolve again (a rotated secret), at most once a minute. */
  rejected(): void {
    if (this.#source === undefined || this.#source.variable === 'DD_API_KEY' || this.#stopped) return;
    const now = this.#now();
    if (now - this.#lastRejected < REJECTED_MIN_INTERVAL_MS || this.#running !== undefined) return;
    this.#lastRejected = now;
    this.#o.logger.warn({ code: 'SEC_ERR_REJECTED', from: this.#source.variable }, 'the intake refused the API key; resolving it again');
    this.#resolve();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Resolves when the running attempt (if any) settles; for tests and SHUTDOWN. */
  async settled(): Promise<void> {
    await this.#running;
  }

  #resolve(): void {
    if (this.#running !== undefined || this.#stopped) return;
    const source = this.#source as KeySource;
    clearTimeout(this.#timer);
    this.attempts++;
    this.#running = (this.#o.fetch ?? fetchApiKey)(source, { access: this.#o.access, ...(this.#o.timeoutMs !== undefined ? { timeoutMs: this.#o.timeoutMs } : {}) })
      .then(
        (key) => {
          this.#backoffMs = 0;
          this.#lastError = undefined;
          const changed = key !== this.#key;
          this.#key = key;
          if (changed) {
            this.#o.logger.info({ from: source.variable }, 'API key resolved');
            this.#o.onKey(key);
          }
          const reload = this.#o.config.apiKeySecretReloadIntervalS;
          if (reload !== undefined) this.#schedule(reload * 1000);
        },
        (err: unknown) => {
          const e = err instanceof SecretsError ? err : new SecretsError('SEC_ERR_NETWORK', (err as Error).message, { retryable: true });
          const line = `${source.variable}: ${e.message}`;
          // One error line per distinct failure, not one per retry.
          if (line !== this.#lastError) this.#o.logger.error({ code: e.code, awsCode: e.awsCode, variable: source.variable }, line);
          this.#lastError = line;
          this.#backoffMs = Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, this.#backoffMs * 2));
          this.#schedule(this.#backoffMs);
        },
      )
      .finally(() => {
        this.#running = undefined;
      });
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#resolve(), ms);
    this.#timer.unref();
  }
}
