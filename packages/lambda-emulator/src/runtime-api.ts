// The Runtime API (2018-06-01) as the function's runtime client sees it: /next, a result per
// invocation (6 MiB at most), init errors.

import type http from 'node:http';
import { ErrorType } from './errors.js';
import type { Sandbox } from './sandbox.js';
import { emitRuntimeDone, pumpRuntime, respond, respondPlatformError } from './invocations.js';
import { header, parseJsonObject, readBody, sendError, sendJson } from './http-util.js';

/** Response payload limit: 6 MiB plus the 100 bytes RIE allows for framing. */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;

export function next(sb: Sandbox, res: http.ServerResponse): void {
  if (sb.phase === 'init' && sb.runtimeReadyAt === undefined && sb.runtime) {
    sb.runtimeReadyAt = performance.now();
    sb.telemetry.emit('platform.initRuntimeDone', { initializationType: sb.o.initializationType, phase: 'init', status: 'success' });
  }
  // A /next after a response ends that invocation's runtime part (on-demand: one at a time).
  if (!sb.managed) {
    for (const inv of sb.active.values()) {
      if (inv.response !== undefined && inv.runtimeDoneAt === undefined && inv.delivered) emitRuntimeDone(sb, inv);
    }
  }
  sb.runtimePending.push(res);
  res.on('close', () => {
    sb.runtimePending = sb.runtimePending.filter((r) => r !== res);
  });
  pumpRuntime(sb);
  sb.kick();
}

export async function result(sb: Sandbox, req: http.IncomingMessage, res: http.ServerResponse, id: string, kind: 'response' | 'error'): Promise<void> {
  const inv = sb.active.get(id);
  if (!inv) {
    req.resume();
    return sendError(res, 400, ErrorType.InvalidRequestID, `Invalid request ID: ${id}`);
  }
  if (!inv.delivered || inv.response !== undefined) {
    req.resume();
    return sendError(res, 403, ErrorType.InvalidStateTransition, `Invocation ${id} already has a result`);
  }
  let body: Buffer;
  try {
    body = await readBody(req, MAX_RESPONSE_BYTES);
  } catch {
    const msg = `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`;
    inv.errorType = 'Function.ResponseSizeTooLarge';
    respondPlatformError(sb, inv, 'Function.ResponseSizeTooLarge', msg);
    return sendError(res, 413, ErrorType.RequestEntityTooLarge, msg);
  }
  if (kind === 'response') {
    respond(sb, inv, { requestId: id, payload: body });
  } else {
    const parsed = parseJsonObject(body.toString('utf8'));
    const errorType = header(req, 'lambda-runtime-function-error-type') ?? (typeof parsed?.errorType === 'string' ? parsed.errorType : 'Unhandled');
    const errorMessage = typeof parsed?.errorMessage === 'string' ? parsed.errorMessage : body.toString('utf8');
    respond(sb, inv, { requestId: id, payload: body, error: { errorType, errorMessage } });
  }
  sendJson(res, 202, { status: 'OK' });
}

export async function initError(sb: Sandbox, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const raw = await readBody(req, 1 << 20);
  if (sb.phase !== 'init') return sendError(res, 403, ErrorType.InvalidStateTransition, 'init/error is only valid during the init phase');
  const parsed = parseJsonObject(raw.toString('utf8'));
  sb.initError ??= header(req, 'lambda-runtime-function-error-type') ?? (typeof parsed?.errorType === 'string' ? parsed.errorType : 'Runtime.Unknown');
  sendJson(res, 202, { status: 'OK' });
  sb.kick();
}
