// The Extensions API (2020-01-01) and the Telemetry API subscription (2022-07-01), with the errors
// and states the Lambda docs give for each call.

import type http from 'node:http';
import { randomUUID } from 'node:crypto';
import { ErrorType } from './errors.js';
import { validateSubscription } from './subscription.js';
import type { EventType } from './types.js';
import { newExtension, type Extension, type Sandbox } from './sandbox.js';
import { header, readBody, sendError, sendEvent, sendJson } from './http-util.js';

const MAX_EXTENSIONS = 10;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function register(sb: Sandbox, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const raw = await readBody(req, 1 << 20);
  const name = header(req, 'lambda-extension-name');
  if (sb.phase !== 'init') return sendError(res, 403, ErrorType.RegistrationClosed, 'Extension registration is closed: registration happens during the init phase');
  if (!name) return sendError(res, 403, ErrorType.InvalidExtensionName, 'Empty extension name');
  let body: { events?: unknown; configurationKeys?: unknown } = {};
  if (raw.length > 0) {
    try {
      body = JSON.parse(raw.toString('utf8')) as typeof body;
      if (body === null || typeof body !== 'object') throw new Error('not an object');
    } catch {
      return sendError(res, 400, ErrorType.InvalidRequestFormat, 'register body must be a JSON object');
    }
  }
  if (body.configurationKeys !== undefined) return sendError(res, 403, ErrorType.InvalidRequestFormat, 'configurationKeys are deprecated');
  const events = body.events ?? [];
  if (!Array.isArray(events) || events.some((e) => e !== 'INVOKE' && e !== 'SHUTDOWN')) {
    return sendError(res, 403, ErrorType.InvalidEventType, `Invalid event types: ${JSON.stringify(events)}; allowed: INVOKE, SHUTDOWN`);
  }
  let ext = sb.extensions.find((e) => e.name === name && (e.external || e.id !== undefined));
  if (ext?.id !== undefined) return sendError(res, 403, ErrorType.InvalidExtensionState, `Extension ${name} is already registered`);
  if (sb.extensions.filter((e) => e.id !== undefined).length >= MAX_EXTENSIONS) {
    return sendError(res, 403, ErrorType.TooManyExtensions, `At most ${MAX_EXTENSIONS} extensions can register`);
  }
  if (ext?.external) {
    if (sb.managed && events.includes('INVOKE')) {
      return sendError(res, 403, ErrorType.InvalidEventType, 'Lambda Managed Instances extensions can register for SHUTDOWN only');
    }
  } else {
    // Not an executable in /opt/extensions: an internal extension, run inside the runtime process.
    if (events.includes('SHUTDOWN')) return sendError(res, 403, ErrorType.InvalidEventType, 'Internal extensions cannot register for SHUTDOWN');
    ext = newExtension(name, false);
    ext.external = false;
    sb.extensions.push(ext);
  }
  ext.id = randomUUID();
  ext.events = new Set(events as EventType[]);
  ext.state = 'registered';
  ext.registeredAt = performance.now();
  const wantsAccount = (header(req, 'lambda-extension-accept-feature') ?? '')
    .split(',')
    .map((s) => s.trim())
    .includes('accountId');
  res.setHeader('lambda-extension-identifier', ext.id);
  sendJson(res, 200, {
    functionName: sb.o.functionName,
    functionVersion: sb.o.functionVersion,
    handler: sb.o.runtime?.handler ?? '',
    ...(wantsAccount ? { accountId: sb.o.accountId } : {}),
  });
  sb.kick();
}

/** Finds the calling extension by its identifier header, or answers the documented 403. */
function caller(sb: Sandbox, req: http.IncomingMessage, res: http.ServerResponse): Extension | undefined {
  const id = header(req, 'lambda-extension-identifier');
  if (!id) {
    sendError(res, 403, ErrorType.MissingExtensionIdentifier, 'Missing Lambda-Extension-Identifier header');
    return undefined;
  }
  if (!UUID_RE.test(id)) {
    sendError(res, 403, ErrorType.InvalidExtensionIdentifier, 'Invalid Lambda-Extension-Identifier');
    return undefined;
  }
  const ext = sb.extensions.find((e) => e.id === id);
  if (!ext) {
    sendError(res, 403, ErrorType.UnknownExtensionIdentifier, 'Unknown extension identifier');
    return undefined;
  }
  return ext;
}

export function next(sb: Sandbox, req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume();
  const ext = caller(sb, req, res);
  if (!ext) return;
  if (ext.state === 'init-error' || ext.state === 'exit-error') {
    return sendError(res, 403, ErrorType.InvalidExtensionState, `Extension ${ext.name} reported an error and must exit`);
  }
  if (ext.pending && !ext.pending.writableEnded) {
    return sendError(res, 403, ErrorType.InvalidExtensionState, `Extension ${ext.name} is already waiting in /next`);
  }
  ext.readyAt ??= performance.now();
  if (ext.shutdownAt !== undefined) ext.doneAt ??= performance.now();
  const queued = ext.queue.shift();
  if (queued) {
    ext.state = 'running';
    sendEvent(res, queued);
  } else {
    ext.state = 'idle';
    ext.pending = res;
    res.on('close', () => {
      if (ext.pending === res) ext.pending = undefined;
    });
  }
  sb.kick();
}

export async function reportError(sb: Sandbox, req: http.IncomingMessage, res: http.ServerResponse, state: 'init-error' | 'exit-error'): Promise<void> {
  await readBody(req, 1 << 20);
  const ext = caller(sb, req, res);
  if (!ext) return;
  const errorType = header(req, 'lambda-extension-function-error-type');
  if (!errorType) return sendError(res, 400, ErrorType.MissingFunctionErrorType, 'Missing Lambda-Extension-Function-Error-Type header');
  if (ext.state === 'init-error' || ext.state === 'exit-error') {
    return sendError(res, 403, ErrorType.InvalidExtensionState, `Extension ${ext.name} already reported an error`);
  }
  if (state === 'init-error' && sb.phase !== 'init') {
    return sendError(res, 403, ErrorType.InvalidExtensionState, 'init/error is only valid during the init phase');
  }
  ext.state = state;
  ext.errorType = errorType;
  if (state === 'init-error') sb.initError ??= errorType;
  sendJson(res, 202, { status: 'OK' });
  sb.kick();
}

export async function subscribe(sb: Sandbox, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const raw = await readBody(req, 1 << 20);
  const ext = caller(sb, req, res);
  if (!ext) return;
  if (sb.phase !== 'init') return sendError(res, 403, ErrorType.SubscriptionClosed, 'Telemetry API subscription is closed');
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return sendError(res, 400, ErrorType.ValidationError, 'request body is not JSON');
  }
  const v = validateSubscription(body, sb.managed);
  if (!v.ok) return sendError(res, 400, v.errorType, v.message);
  if (ext.subscription) {
    sb.telemetry.emit('platform.telemetrySubscription', { name: ext.name, state: 'Already subscribed', types: v.value.types });
  } else {
    ext.subscription = sb.telemetry.subscribe(ext.name, v.value);
    ext.subscribedAt = performance.now();
    sb.telemetry.emit('platform.telemetrySubscription', { name: ext.name, state: 'Subscribed', types: v.value.types });
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('OK');
}
