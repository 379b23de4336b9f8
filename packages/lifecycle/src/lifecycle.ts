// buildLifecycle: the invocation processor and its listener, wired to the rest of the extension.
import type { RawBodyApp } from '@dd-lambda/worker-host/http';
import { partitionOf } from '@dd-lambda/config';
import type { Config } from '@dd-lambda/config';
import type { Logger } from '@dd-lambda/logger';
import type { InvocationEvent, SendToUnit, UnitMessage } from '@dd-lambda/protocol';
import { buildLifecycleListener } from './listener.js';
import type { ListenerCounters } from './listener.js';
import { InvocationProcessor } from './processor.js';
import { sampleIntervalMs } from './proc.js';
import type { ProcOptions } from './proc.js';
import { parseStyles } from './propagation.js';
import { resolveRuntime } from './runtime.js';
import type { LifecycleErrorCode } from './errors.js';

export interface LifecycleOptions {
  config: Readonly<Config>;
  tags: Readonly<Record<string, string>>;
  logger: Logger;
  send: SendToUnit;
  requestFlush: () => void;
  /** Test seams: fixture /proc, clock, ids. */
  proc?: ProcOptions;
  now?: () => number;
  newId?: () => bigint;
  sandboxStartMs?: number;
}

export interface Lifecycle {
  app: RawBodyApp;
  processor: InvocationProcessor;
  counters: ListenerCounters;
  invocation(event: InvocationEvent): void;
  message(msg: UnitMessage): void;
  /** SHUTDOWN: let in-flight listener requests (an end-invocation) finish, then close every invocation. */
  drain(deadline: number): Promise<void>;
}

export function buildLifecycle(o: LifecycleOptions): Lifecycle {
  const { config } = o;
  const managed = config.aws.initializationType === 'lambda-managed-instances';
  const styles = parseStyles(config.tracePropagationStyleExtract);
  const unknown = config.tracePropagationStyleExtract.filter((s) => parseStyles([s]).length === 0 && s !== 'none');
  if (unknown.length > 0) o.logger.warn({ code: 'LC_ERR_CONFIG' satisfies LifecycleErrorCode, styles: unknown }, 'unknown trace propagation styles ignored');
  const processor = new InvocationProcessor({
    functionName: config.aws.functionName,
    service: config.service,
    awsServiceRepresentation: config.traceAwsServiceRepresentationEnabled,
    architecture: config.aws.architecture,
    managed,
    enhancedMetrics: config.enhancedMetrics,
    proc: config.procEnhancedMetrics
      ? (o.proc ?? { root: '/proc', tmp: '/tmp', iface: managed ? 'Ceth1' : 'vinternal_1', intervalMs: sampleIntervalMs(config.aws.memorySizeMB) })
      : undefined,
    runtimeTag: o.tags['runtime'] === undefined && config.enhancedMetrics ? resolveRuntime(o.proc?.root) : undefined,
    styles,
    extractFirst: config.tracePropagationExtractFirst,
    baggage: config.tracePropagationHttpBaggageEnabled,
    capturePayload: config.captureLambdaPayload,
    captureMaxDepth: config.captureLambdaPayloadMaxDepth,
    triggers: {
      region: config.aws.region,
      partition: partitionOf(config.aws.region),
      serviceMapping: config.serviceMapping,
      awsServiceRepresentation: config.traceAwsServiceRepresentationEnabled,
      baseService: (config.service ?? config.aws.functionName).toLowerCase(),
    },
    sandboxStartMs: o.sandboxStartMs ?? Date.now() - process.uptime() * 1000,
    emitMetrics: (points) => o.send('dogstatsd', { t: 'METRICS', points }),
    emitSpans: (spans) => o.send('trace-agent', { t: 'SPANS', spans }),
    logger: o.logger,
    ...(o.now ? { now: o.now } : {}),
    ...(o.newId ? { newId: o.newId } : {}),
  });
  const { app, counters } = buildLifecycleListener({ processor, requestFlush: o.requestFlush, logger: o.logger });
  return {
    app,
    processor,
    counters,
    invocation(event) {
      if (event.kind === 'invoke') processor.invoke(event.requestId, event.receivedAt);
      else processor.shutdown(event.receivedAt);
    },
    message(msg) {
      if (msg.t === 'OOM') processor.oom(msg.requestId, msg.timestamp * 1000);
      else if (msg.t === 'TRACER_SPAN') processor.tracerSpan(msg);
    },
    async drain(deadline) {
      await app.drain(deadline);
      processor.finishAll();
    },
  };
}
