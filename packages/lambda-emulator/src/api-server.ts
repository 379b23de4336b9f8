// The one HTTP server behind AWS_LAMBDA_RUNTIME_API: routes each call to the Runtime, Extensions or
// Telemetry API; a handler that throws answers 500 instead of leaving the caller hanging.

import http from 'node:http';
import { ErrorType } from './errors.js';
import type { Sandbox } from './sandbox.js';
import * as extensions from './extensions-api.js';
import * as runtime from './runtime-api.js';
import { readBody, sendError, sendJson } from './http-util.js';

const RESULT_RE = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/;

export function createApiServer(sb: Sandbox): http.Server {
  const server = http.createServer((req, res) => route(sb, req, res));
  // Long polls must never time out on the platform side.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.keepAliveTimeout = 0;
  return server;
}

function route(sb: Sandbox, req: http.IncomingMessage, res: http.ServerResponse): void {
  const p = (req.url ?? '/').split('?')[0]!;
  const m = req.method ?? 'GET';
  const handle = (fn: () => Promise<void> | void): void => {
    Promise.resolve()
      .then(fn)
      .catch((err: unknown) => {
        if (!res.headersSent) sendError(res, 500, 'Runtime.Unknown', (err as Error).message);
      });
  };
  if (p === '/2020-01-01/extension/register' && m === 'POST') return handle(() => extensions.register(sb, req, res));
  if (p === '/2020-01-01/extension/event/next' && m === 'GET') return handle(() => extensions.next(sb, req, res));
  if (p === '/2020-01-01/extension/init/error' && m === 'POST') return handle(() => extensions.reportError(sb, req, res, 'init-error'));
  if (p === '/2020-01-01/extension/exit/error' && m === 'POST') return handle(() => extensions.reportError(sb, req, res, 'exit-error'));
  if (p === '/2022-07-01/telemetry' && m === 'PUT') return handle(() => extensions.subscribe(sb, req, res));
  if (p === '/2020-08-15/logs' && m === 'PUT') {
    return handle(async () => {
      await readBody(req, 1 << 20);
      sendJson(res, 202, { errorType: ErrorType.LogsNotSupported, errorMessage: 'The Logs API is not emulated; subscribe with the Telemetry API' });
    });
  }
  if (p === '/2018-06-01/runtime/invocation/next' && m === 'GET') return handle(() => runtime.next(sb, res));
  if (p === '/2018-06-01/runtime/init/error' && m === 'POST') return handle(() => runtime.initError(sb, req, res));
  const inv = RESULT_RE.exec(p);
  if (inv && m === 'POST') return handle(() => runtime.result(sb, req, res, decodeURIComponent(inv[1]!), inv[2] as 'response' | 'error'));
  req.resume();
  sendError(res, 404, ErrorType.NotFound, `no such route: ${m} ${p}`);
}
