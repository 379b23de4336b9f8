// The trace agent as a worker unit: connections on the `apm` ingress (TCP and the Unix socket
// both arrive here) and the OTLP ones, SPANS from other units, FLUSH and SHUTDOWN from the supervisor.
import type { PipelineUnit, UnitContext } from '@dd-lambda/worker-host';
import { buildTraceAgent } from './agent.js';

export async function createUnit(ctx: UnitContext): Promise<PipelineUnit> {
  const agent = buildTraceAgent({ config: ctx.config, tags: ctx.tags, logger: ctx.logger, send: ctx.send, onKeyRejected: () => ctx.keyRejected() });
  await agent.ready();
  return {
    connection: (ingress, socket) => agent.connection(socket, ingress),
    message: (from, msg) => agent.message(from, msg),
    flush: (signal) => agent.flush(signal),
    drain: (deadline) => agent.drain(deadline),
  };
}
