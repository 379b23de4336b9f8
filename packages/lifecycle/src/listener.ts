// The lifecycle listener on 127.0.0.1:8124 (bottlecap §3.2): universal instrumentation for tracers
// of other runtimes (start/end-invocation), the flush request of datadog-lambda libraries, and the
// hello probe datadog-lambda-go needs answered. Connections are handed over by the supervisor.
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from '@dd-lambda/logger';
import type { InvocationProcessor } from './processor.js';

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

export function buildLifecycleListener(o: ListenerOptions): { app: FastifyInstance; counters: ListenerCounters } {
  const counters: ListenerCounters = { starts: 0, ends: 0, flushes: 0, hellos: 0, oversize: 0, notFound: 0 };
  const app = Fastify({ logger: false, bodyLimit: MAX_BODY, return503OnClosing: false, forceCloseConnections: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  const ok = (reply: FastifyReply, headers: Record<string, string> = {}): FastifyReply =>
    reply.code(200).headers(headers).type('application/json').send('{}');

  app.setErrorHandler((err: { code?: string; statusCode?: number; message: string }, req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' && (req.url === '/lambda/start-invocation' || req.url === '/lambda/end-invocation')) {
      counters.oversize++;
      o.logger.warn({ code: 'LC_ERR_BODY_TOO_LARGE', url: req.url, limit: MAX_BODY }, 'invocation body over 6 MiB; read as {}');
      if (req.url === '/lambda/start-invocation') return ok(reply, o.processor.startInvocation(req.headers, undefined));
      o.processor.endInvocation(req.headers, undefined);
      return ok(reply);
    }
    return reply.code(err.statusCode ?? 500).type('text/plain; charset=utf-8').send(err.message);
  });
  app.setNotFoundHandler((_req, reply) => {
    counters.notFound++;
    return reply.code(404).type('text/plain; charset=utf-8').send('Not Found');
  });

  app.post('/lambda/start-invocation', async (req, reply) => {
    counters.starts++;
    return ok(reply, o.processor.startInvocation(req.headers, req.body as Buffer | undefined));
  });
  app.post('/lambda/end-invocation', async (req, reply) => {
    counters.ends++;
    o.processor.endInvocation(req.headers, req.body as Buffer | undefined);
    return ok(reply);
  });
  app.get('/lambda/hello', async (_req, reply) => {
    if (counters.hellos++ === 0) o.logger.warn('GET /lambda/hello is deprecated; answered 200 {} so datadog-lambda-go keeps using the extension');
    return ok(reply);
  });
  // datadog-lambda-js POSTs (DD_LOCAL_TESTING, 100 ms timeout), datadog-lambda-go GETs: answer first, flush after.
  const flush = async (_req: unknown, reply: FastifyReply): Promise<FastifyReply> => {
    counters.flushes++;
    reply.raw.once('finish', o.requestFlush);
    return ok(reply);
  };
  app.post('/lambda/flush', flush);
  app.get('/lambda/flush', flush);
  return { app, counters };
}
