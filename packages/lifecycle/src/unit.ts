// Worker-host entry (`units/lifecycle.cjs` in the layer): owns the lifecycle ingress (:8124) and
// listens to INVOKE/SHUTDOWN and the platform's telemetry events. Metrics go to the DogStatsD unit,
// spans to the trace agent; nothing is buffered here, so flush has nothing to ship.
import type { InvocationEvent, PlatformEvent, UnitMessage } from '@dd-lambda/protocol';
import type { PipelineUnit, UnitContext } from '@dd-lambda/worker-host';
import { buildLifecycle } from './lifecycle.js';

export function createUnit(ctx: UnitContext): PipelineUnit {
  const lc = buildLifecycle({
    config: ctx.config,
    tags: ctx.tags,
    logger: ctx.logger,
    send: (to, msg) => ctx.send(to, msg),
    requestFlush: () => ctx.requestFlush(true),
  });
  return {
    connection: (_ingress, socket) => lc.app.connection(socket),
    platform: (events: readonly PlatformEvent[]) => lc.processor.platform(events),
    invocation: (event: InvocationEvent) => lc.invocation(event),
    message: (_from: string, msg: UnitMessage) => lc.message(msg),
    flush: async () => ({ sent: 0, dropped: 0, pending: 0 }),
    drain: (deadline) => lc.drain(deadline),
  };
}
