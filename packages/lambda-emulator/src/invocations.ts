// One invocation's path through the sandbox: INVOKE to the extensions, the event to the runtime's
// /next, its response, platform.runtimeDone, and the REPORT that ends it.

import { randomBytes, randomUUID } from 'node:crypto';
import type { InitResult, InvokeOptions, InvokeResponse, InvokeResult } from './types.js';
import type { Invocation, Sandbox } from './sandbox.js';
import { round3 } from './http-util.js';

/** An X-Ray trace header as Lambda passes it: Root=1-<epoch hex>-<96-bit hex>;Parent=<64-bit hex>;Sampled=1. */
export function newTraceHeader(): string {
  const epoch = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0');
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=1`;
}

export function newInvocation(sb: Sandbox, payload: unknown, opts: InvokeOptions): Invocation {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload ?? {}));
  return {
    requestId: opts.requestId ?? randomUUID(),
    payload: body,
    deadlineMs: Date.now() + sb.o.timeoutMs,
    traceId: opts.traceId ?? newTraceHeader(),
    opts,
    startedAt: performance.now(),
    startDate: new Date(),
    delivered: false,
    response: undefined,
    responseAt: undefined,
    runtimeDoneAt: undefined,
    extensions: [],
    status: undefined,
    errorType: undefined,
    oom: false,
  };
}

/** platform.start, INVOKE to every subscribed extension (on demand), then the event to the runtime. */
export function startInvocation(sb: Sandbox, inv: Invocation): void {
  sb.active.set(inv.requestId, inv);
  sb.telemetry.emit('platform.start', {
    requestId: inv.requestId,
    version: sb.o.functionVersion,
    ...(sb.managed ? { functionArn: sb.functionArn } : { tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId } }),
    ...(inv.opts.tenantId ? { tenantId: inv.opts.tenantId } : {}),
  });
  if (!sb.managed) {
    const event = {
      eventType: 'INVOKE',
      deadlineMs: inv.deadlineMs,
      requestId: inv.requestId,
      invokedFunctionArn: sb.functionArn,
      tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId },
    };
    for (const e of sb.extensions) {
      if (e.id === undefined || !e.events.has('INVOKE') || !sb.extAlive(e)) continue;
      inv.extensions.push(e);
      sb.deliver(e, event);
    }
  }
  if (!sb.o.runtime) {
    inv.delivered = true;
    respond(sb, inv, { requestId: inv.requestId, payload: Buffer.from('null') });
    inv.status = 'success';
    emitRuntimeDone(sb, inv);
    return;
  }
  sb.runtimeQueue.push(inv);
  pumpRuntime(sb);
}

/** Hands queued invocations to the runtime's waiting /next polls, with Lambda's headers. */
export function pumpRuntime(sb: Sandbox): void {
  while (sb.runtimePending.length > 0 && sb.runtimeQueue.some((i) => !i.delivered)) {
    const inv = sb.runtimeQueue.find((i) => !i.delivered)!;
    const res = sb.runtimePending.shift()!;
    if (res.writableEnded || res.destroyed) continue;
    inv.delivered = true;
    const h: Record<string, string> = {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': inv.requestId,
      'lambda-runtime-deadline-ms': String(inv.deadlineMs),
      'lambda-runtime-invoked-function-arn': sb.functionArn,
      'lambda-runtime-trace-id': inv.traceId,
    };
    if (inv.opts.clientContext) h['lambda-runtime-client-context'] = inv.opts.clientContext;
    if (inv.opts.cognitoIdentity) h['lambda-runtime-cognito-identity'] = inv.opts.cognitoIdentity;
    if (inv.opts.tenantId) h['lambda-runtime-aws-tenant-id'] = inv.opts.tenantId;
    h['content-length'] = String(inv.payload.length);
    res.writeHead(200, h);
    res.end(inv.payload);
  }
}

/** The on-demand invocation is over: the runtime is done (or dead) and every INVOKE'd extension is back. */
export function settled(sb: Sandbox, inv: Invocation): boolean {
  const runtimeDead = sb.runtime !== undefined && !sb.runtime.alive;
  if (inv.runtimeDoneAt === undefined) return runtimeDead;
  return inv.extensions.every((e) => e.state === 'idle' || !sb.extAlive(e) || e.state === 'exit-error');
}

/** The invocation's result (the first one wins). */
export function respond(sb: Sandbox, inv: Invocation, r: InvokeResponse): void {
  if (inv.response) return;
  inv.response = r;
  inv.responseAt = performance.now();
  inv.opts.onResponse?.(r);
  sb.kick();
}

/**
 * The platform ends the invocation: the sandbox ran out of memory, the function timed out, or the
 * runtime died. The invocation gets Lambda's error for it, and a result when the function wrote none.
 */
export function endByPlatform(sb: Sandbox, inv: Invocation, why: 'oom' | 'timeout' | 'crash'): void {
  if (why === 'oom') {
    inv.status = 'error';
    inv.errorType = 'Runtime.OutOfMemory';
    inv.oom = true;
    respondPlatformError(sb, inv, 'Runtime.OutOfMemory', `RequestId: ${inv.requestId} Error: Runtime exited with error: signal: killed`);
  } else if (why === 'timeout') {
    inv.status = 'timeout';
    inv.errorType = 'Sandbox.Timedout';
    const msg = `Task timed out after ${(sb.o.timeoutMs / 1000).toFixed(2)} seconds`;
    respondPlatformError(sb, inv, 'Sandbox.Timedout', msg, `${new Date().toISOString()} ${inv.requestId} ${msg}`);
  } else {
    inv.status = 'failure';
    inv.errorType = 'Runtime.ExitError';
    const code = sb.runtime?.exitInfo?.code ?? sb.runtime?.exitInfo?.signal;
    respondPlatformError(sb, inv, 'Runtime.ExitError', `RequestId: ${inv.requestId} Error: Runtime exited with error: exit status ${code}`);
  }
}

/** A result the platform writes itself, when the function wrote none. */
export function respondPlatformError(sb: Sandbox, inv: Invocation, errorType: string, errorMessage: string, body?: string): void {
  if (inv.response !== undefined) return;
  const payload = Buffer.from(JSON.stringify({ errorType, errorMessage: body ?? errorMessage }));
  respond(sb, inv, { requestId: inv.requestId, payload, error: { errorType, errorMessage } });
}

export function emitRuntimeDone(sb: Sandbox, inv: Invocation): void {
  inv.runtimeDoneAt = performance.now();
  if (sb.managed) return; // managed instances emit no runtimeDone
  const status = inv.status ?? (inv.response?.error ? 'error' : 'success');
  const end = inv.responseAt ?? inv.runtimeDoneAt;
  sb.telemetry.emit('platform.runtimeDone', {
    requestId: inv.requestId,
    status,
    ...(status !== 'success' ? { errorType: inv.errorType ?? inv.response?.error?.errorType ?? 'Runtime.Unknown' } : {}),
    // Bytes the runtime produced: none when the platform ended the invocation itself.
    metrics: { durationMs: round3(end - inv.startedAt), producedBytes: status === 'timeout' || status === 'failure' ? 0 : (inv.response?.payload.length ?? 0) },
    spans: [
      { name: 'responseLatency', start: inv.startDate.toISOString(), durationMs: round3(end - inv.startedAt) },
      { name: 'responseDuration', start: new Date(inv.startDate.getTime() + (end - inv.startedAt)).toISOString(), durationMs: 0 },
    ],
    tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId },
  });
}

/** platform.report for the invocation, and its result as invoke() returns it. */
export function report(sb: Sandbox, inv: Invocation, endedAt: number, init: InitResult | undefined): InvokeResult {
  const status = inv.status ?? (inv.response?.error ? 'error' : 'success');
  inv.status = status;
  const durationMs = endedAt - inv.startedAt;
  const errorType = inv.errorType ?? inv.response?.error?.errorType;
  if (sb.managed) {
    sb.telemetry.emit('platform.report', {
      requestId: inv.requestId,
      status,
      ...(status !== 'success' && errorType ? { errorType } : {}),
      metrics: { durationMs: round3(durationMs) },
      spans: [
        { name: 'responseLatency', start: inv.startDate.toISOString(), durationMs: round3(durationMs) },
        { name: 'responseDuration', start: new Date().toISOString(), durationMs: 0 },
      ],
    });
  } else {
    const initDurationMs = sb.reportInitDuration;
    sb.reportInitDuration = undefined;
    sb.telemetry.emit('platform.report', {
      requestId: inv.requestId,
      status,
      ...(status !== 'success' && errorType ? { errorType } : {}),
      metrics: {
        durationMs: round3(durationMs),
        billedDurationMs: Math.ceil(durationMs),
        memorySizeMB: sb.o.memoryMB,
        // Lambda reports the limit itself when the sandbox ran out of memory.
        maxMemoryUsedMB: inv.oom ? sb.o.memoryMB : (sb.limits.peakMB() ?? Math.ceil(sb.processes().reduce((s, p) => s + p.peakRssMB(), 0))),
        ...(initDurationMs !== undefined ? { initDurationMs: round3(initDurationMs) } : {}),
      },
      tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId },
    });
  }
  const response = inv.response ?? { requestId: inv.requestId, payload: Buffer.alloc(0) };
  return {
    ...response,
    status,
    durationMs,
    runtimeMs: inv.responseAt !== undefined ? inv.responseAt - inv.startedAt : undefined,
    postRuntimeMs: inv.responseAt !== undefined && status !== 'timeout' ? Math.max(0, endedAt - inv.responseAt) : undefined,
    ...(init ? { init } : {}),
    reset: false,
    cpuMs: {},
  };
}

/** The result of an invoke whose init failed: the function never ran. */
export function failedInitResult(init: InitResult, opts: InvokeOptions): InvokeResult {
  const requestId = opts.requestId ?? randomUUID();
  const error = { errorType: init.errorType ?? 'Runtime.Unknown', errorMessage: `init ${init.status}: ${init.errorType ?? ''}`.trim() };
  const r: InvokeResult = {
    requestId,
    payload: Buffer.from(JSON.stringify(error)),
    error,
    status: 'failure',
    durationMs: 0,
    runtimeMs: undefined,
    postRuntimeMs: undefined,
    init,
    reset: true,
    cpuMs: {},
  };
  opts.onResponse?.(r);
  return r;
}
