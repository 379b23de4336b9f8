// The lifecycle listener on 127.0.0.1:8124 (bottlecap's lifecycle listener in
// DataDog/datadog-lambda-extension, bottlecap/src/lifecycle/listener.rs): universal instrumentation for
// tracers of other runtimes (start/end-invocation), the flush request of datadog-lambda libraries, and
// the hello probe datadog-lambda-go needs answered. Connections are handed over by the supervisor.
import type { Logger } from '@dd-lambda/logger';
import { RawBodyApp } from '@dd-lambda/worker-host/http';
import type { RawReply, RawRequest } from '@dd-lambda/worker-host/http';
import type { InvocationProcessor } from './processor.js';
import type { LifecycleErrorCode } from './errors.js';

/** Bodies over this are read as `{}`, as bottlecap does: the invocation still gets its span. */
export const MAX_BODY = 6 * 1024 * 1024;

export interface ListenerOptions {
  processor: InvocationProcessor;
  requestFlush: () => void;
  logger: Logger;
}

export interface ListenerCounters {
  starts: number;
  ends: number;
  flushes: number;
  hellos: number;
  oversize: number;
  notFound: number;
}

export function buildLifecycleListener(o: ListenerOptions): { app: RawBodyApp; counters: ListenerCounters } {
  const counters: ListenerCounters = { starts: 0, ends: 0, flushes: 0, hellos: 0, oversize: 0, notFound: 0 };
  const app = new RawBodyApp({ onNotFound: () => counters.notFound++ });
  const ok = (headers: Record<string, string> = {}, after?: () => void): RawReply => ({ status: 200, type: 'application/json', headers, body: '{}', ...(after ? { after } : {}) });
  const oversize = (req: RawRequest): void => {
    if (!req.oversize) return;
    counters.oversize++;
    o.logger.warn({ code: 'LC_ERR_BODY_TOO_LARGE' satisfies LifecycleErrorCode, url: req.path, limit: MAX_BODY }, 'invocation body over 6 MiB; read as {}');
  };
  const invocation = { bodyLimit: MAX_BODY, oversize: 'empty' as const };

  app.route(['POST'], '/lambda/start-invocation', invocation, (req) => {
    counters.starts++;
    oversize(req);
    return ok(o.processor.startInvocation(req.headers, req.body));
  });
  app.route(['POST'], '/lambda/end-invocation', invocation, (req) => {
    counters.ends++;
    oversize(req);
    o.processor.endInvocation(req.headers, req.body);
    return ok();
  });
  app.route(['GET'], '/lambda/hello', { bodyLimit: MAX_BODY }, () => {
    if (counters.hellos++ === 0) o.logger.warn('GET /lambda/hello is deprecated; answered 200 {} so datadog-lambda-go keeps using the extension');
    return ok();
  });
  // datadog-lambda-js POSTs (DD_LOCAL_TESTING, 100 ms timeout), datadog-lambda-go GETs: answer first, flush after.
  app.route(['POST', 'GET'], '/lambda/flush', { bodyLimit: MAX_BODY }, () => {
    counters.flushes++;
    return ok({}, o.requestFlush);
  });
  return { app, counters };
}
