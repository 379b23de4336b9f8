// Worker thread entry: the only file that touches parentPort and workerData. It adapts the
// protocol to UnitHost and tears the thread down on a message it cannot understand.
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '@dd-lambda/config';
import { createLogger } from '@dd-lambda/logger';
import { PROTOCOL, classifyToWorker, toWireError } from '@dd-lambda/protocol';
import type { FromWorker, WorkerInit } from '@dd-lambda/protocol';
import { WorkerHostError } from './errors.js';
import { UnitHost } from './host.js';

const init = workerData as WorkerInit<Config>;
const port = parentPort;
if (port === null || init?.p !== PROTOCOL) throw new Error('worker.ts must run as a dd-lambda worker thread');

const logger = createLogger({ level: init.config.logLevel, bindings: { component: 'worker-host', thread: `w${init.worker}` } });
const post = (msg: FromWorker): void => port.postMessage(msg);
const host = new UnitHost(init, { post, logger });

port.on('message', (raw: unknown) => {
  const c = classifyToWorker(raw);
  if (c.kind === 'foreign') return;
  if (c.kind === 'unknown') {
    // A tag this build does not know means supervisor and worker disagree on the protocol: crash,
    // so the supervisor sees the error on the worker's 'error' event and restarts it.
    logger.fatal({ tag: c.tag }, 'unknown protocol message; exiting');
    throw new WorkerHostError('WH_ERR_PROTOCOL', `unknown protocol message tag ${String(c.tag)}`);
  }
  host.handle(c.msg);
});

host.start().catch((err: unknown) => {
  throw new WorkerHostError('WH_ERR_UNIT_LOAD', `worker start failed: ${toWireError(err).message}`, { cause: err });
});
