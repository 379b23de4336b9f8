// Binding a listener: a bind error rejects with SV_ERR_BIND naming what and where; later errors are
// logged (a listener never throws out of the event loop).
import type net from 'node:net';
import type { Logger } from '@dd-lambda/logger';
import { SupervisorError } from './errors.js';

export function listen(server: net.Server, at: { port: number; host: string } | { path: string }, what: string, logger: Logger): Promise<void> {
  const where = 'path' in at ? at.path : `${at.host}:${at.port}`;
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void =>
      reject(new SupervisorError('SV_ERR_BIND', `cannot listen for ${what} on ${where}: ${err.code ?? err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen({ ...at, exclusive: true }, () => {
      server.off('error', onError);
      server.on('error', (err) => logger.error({ err, what }, 'listener error'));
      resolve();
    });
  });
}
