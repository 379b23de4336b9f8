// The Extensions API and Telemetry API as the supervisor uses them. node:http only: undici or fetch
// would add 30-65 ms before the first /next (measured against undici and fetch on the layer's Node).
import http from 'node:http';
import { ExtensionApiError } from './errors.js';
import type { ExtensionApiErrorCode } from './errors.js';

export type NextEvent =
  | { eventType: 'INVOKE'; requestId: string; deadlineMs: number; invokedFunctionArn: string; tracing?: { type: string; value: string } }
  | { eventType: 'SHUTDOWN'; shutdownReason: string; deadlineMs: number };

export interface Registration {
  extensionId: string;
  /** Present when the platform honoured the `accountId` feature. */
  accountId: string | undefined;
}

export interface TelemetrySubscription {
  schemaVersion: string;
  destination: { protocol: 'HTTP'; URI: string };
  types: ('platform' | 'function' | 'extension')[];
  buffering: { maxItems: number; maxBytes: number; timeoutMs: number };
}

export interface ExtensionClientOptions {
  /** AWS_LAMBDA_RUNTIME_API: host:port. */
  runtimeApi: string;
  name: string;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export class ExtensionClient {
  readonly #host: string;
  readonly #port: number;
  readonly #name: string;
  // One keep-alive socket is enough: calls never overlap, and reusing it saves a connect per /next.
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  #id: string | undefined;

  constructor(options: ExtensionClientOptions) {
    const i = options.runtimeApi.lastIndexOf(':');
    this.#host = i > 0 ? options.runtimeApi.slice(0, i) : options.runtimeApi;
    this.#port = i > 0 ? Number(options.runtimeApi.slice(i + 1)) : 80;
    this.#name = options.name;
  }

  get extensionId(): string | undefined {
    return this.#id;
  }

  #call(code: ExtensionApiErrorCode, method: string, path: string, headers: Record<string, string>, body: string | undefined, onSent?: () => void): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: this.#host, port: this.#port, method, path, headers, agent: this.#agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => reject(new ExtensionApiError(code, `${method} ${path}: ${err.message}`, undefined, { cause: err })));
      });
      req.on('error', (err) => reject(new ExtensionApiError(code, `${method} ${path}: ${err.message}`, undefined, { cause: err })));
      req.end(body);
      onSent?.();
    });
  }

  async register(events: ('INVOKE' | 'SHUTDOWN')[]): Promise<Registration> {
    const body = JSON.stringify({ events });
    const r = await this.#call(
      'EXT_ERR_REGISTER',
      'POST',
      '/2020-01-01/extension/register',
      {
        'Lambda-Extension-Name': this.#name,
        'Lambda-Extension-Accept-Feature': 'accountId',
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(body)),
      },
      body,
    );
    const id = r.headers['lambda-extension-identifier'];
    if (r.status !== 200 || typeof id !== 'string' || id === '') {
      throw new ExtensionApiError('EXT_ERR_REGISTER', `register answered ${r.status}: ${r.body.slice(0, 300)}`, r.status);
    }
    this.#id = id;
    let accountId: string | undefined;
    try {
      const parsed = JSON.parse(r.body) as { accountId?: unknown };
      if (typeof parsed.accountId === 'string' && parsed.accountId !== '') accountId = parsed.accountId;
    } catch {
      // The body is optional; the id header is what registration needs.
    }
    return { extensionId: id, accountId };
  }

  async subscribeTelemetry(subscription: TelemetrySubscription): Promise<void> {
    const body = JSON.stringify(subscription);
    const r = await this.#call(
      'EXT_ERR_SUBSCRIBE',
      'PUT',
      '/2022-07-01/telemetry',
      {
        'Lambda-Extension-Identifier': this.#requireId(),
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(body)),
      },
      body,
    );
    if (r.status !== 200) throw new ExtensionApiError('EXT_ERR_SUBSCRIBE', `telemetry subscribe answered ${r.status}: ${r.body.slice(0, 300)}`, r.status);
  }

  /** Reports that the extension cannot run: the platform fails the init with `errorType`. */
  async initError(errorType: string, message: string): Promise<void> {
    const body = JSON.stringify({ errorMessage: message, errorType });
    const r = await this.#call(
      'EXT_ERR_INIT_ERROR',
      'POST',
      '/2020-01-01/extension/init/error',
      {
        'Lambda-Extension-Identifier': this.#requireId(),
        'Lambda-Extension-Function-Error-Type': errorType,
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(body)),
      },
      body,
    );
    if (r.status !== 202 && r.status !== 200) throw new ExtensionApiError('EXT_ERR_INIT_ERROR', `init/error answered ${r.status}: ${r.body.slice(0, 300)}`, r.status);
  }

  /** Long-polls for the next event. `onSent` runs once the request is written (the "ready" checkpoint). */
  async next(onSent?: () => void): Promise<NextEvent> {
    const r = await this.#call('EXT_ERR_NEXT', 'GET', '/2020-01-01/extension/event/next', { 'Lambda-Extension-Identifier': this.#requireId() }, undefined, onSent);
    if (r.status < 200 || r.status > 299) throw new ExtensionApiError('EXT_ERR_NEXT', `/next answered ${r.status}: ${r.body.slice(0, 300)}`, r.status);
    return parseNextEvent(r.body);
  }

  close(): void {
    this.#agent.destroy();
  }

  #requireId(): string {
    if (this.#id === undefined) throw new ExtensionApiError('EXT_ERR_REGISTER', 'not registered');
    return this.#id;
  }
}

export function parseNextEvent(body: string): NextEvent {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    throw new ExtensionApiError('EXT_ERR_BAD_EVENT', `/next body is not JSON: ${body.slice(0, 200)}`);
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const deadlineMs = typeof o['deadlineMs'] === 'number' ? o['deadlineMs'] : NaN;
  if (o['eventType'] === 'INVOKE' && typeof o['requestId'] === 'string' && Number.isFinite(deadlineMs)) {
    const ev: NextEvent = {
      eventType: 'INVOKE',
      requestId: o['requestId'],
      deadlineMs,
      invokedFunctionArn: typeof o['invokedFunctionArn'] === 'string' ? o['invokedFunctionArn'] : '',
    };
    const t = o['tracing'] as { type?: unknown; value?: unknown } | undefined;
    if (t && typeof t.type === 'string' && typeof t.value === 'string') ev.tracing = { type: t.type, value: t.value };
    return ev;
  }
  if (o['eventType'] === 'SHUTDOWN' && Number.isFinite(deadlineMs)) {
    return { eventType: 'SHUTDOWN', shutdownReason: typeof o['shutdownReason'] === 'string' ? o['shutdownReason'] : 'unknown', deadlineMs };
  }
  throw new ExtensionApiError('EXT_ERR_BAD_EVENT', `/next returned an event this extension does not understand: ${body.slice(0, 200)}`);
}
