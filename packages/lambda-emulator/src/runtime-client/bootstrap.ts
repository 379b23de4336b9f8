// The emulator's Node runtime: the process Lambda's Node runtime would be. It loads `_HANDLER`
// from LAMBDA_TASK_ROOT, polls the Runtime API, and logs like the managed runtime does: console
// output becomes `timestamp\trequestId\tLEVEL\tmessage` (or a JSON object with
// AWS_LAMBDA_LOG_FORMAT=JSON), written as framed records on the telemetry fd so that a
// multi-line message stays one record. Managed-instance mode runs AWS_LAMBDA_MAX_CONCURRENCY loops.

import http from 'node:http';
import { writeSync } from 'node:fs';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { AsyncLocalStorage } from 'node:async_hooks';

const FRAME_TYPE_TEXT = 0xa55a0003;
const FRAME_TYPE_JSON = 0xa55a0002;

const env = process.env;
const api = env.AWS_LAMBDA_RUNTIME_API ?? '127.0.0.1:9001';
const [apiHost, apiPort] = api.split(':') as [string, string];
const jsonLogs = env.AWS_LAMBDA_LOG_FORMAT === 'JSON';
const telemetryFd = env._LAMBDA_TELEMETRY_LOG_FD ? Number(env._LAMBDA_TELEMETRY_LOG_FD) : undefined;
const concurrency = Math.max(1, Number(env.AWS_LAMBDA_MAX_CONCURRENCY ?? '1') || 1);
const currentRequest = new AsyncLocalStorage<string>();

function writeRecord(level: string, args: unknown[]): void {
  const requestId = currentRequest.getStore();
  const timestamp = new Date().toISOString();
  const message = format(...args);
  const text = jsonLogs ? JSON.stringify({ timestamp, level, ...(requestId ? { requestId } : {}), message }) : `${timestamp}\t${requestId ?? 'undefined'}\t${level}\t${message}`;
  if (telemetryFd === undefined) {
    process.stdout.write(`${text}\n`);
    return;
  }
  const payload = Buffer.from(text);
  const head = Buffer.alloc(16);
  head.writeUInt32BE(jsonLogs ? FRAME_TYPE_JSON : FRAME_TYPE_TEXT, 0);
  head.writeUInt32BE(payload.length, 4);
  head.writeBigUInt64BE(BigInt(Date.now()) * 1000n, 8);
  // Synchronous, so records keep their order relative to the response and to process exit.
  writeSync(telemetryFd, Buffer.concat([head, payload]));
}

console.log = (...a: unknown[]) => writeRecord('INFO', a);
console.info = (...a: unknown[]) => writeRecord('INFO', a);
console.warn = (...a: unknown[]) => writeRecord('WARN', a);
console.error = (...a: unknown[]) => writeRecord('ERROR', a);
console.debug = (...a: unknown[]) => writeRecord('DEBUG', a);
console.trace = (...a: unknown[]) => writeRecord('TRACE', a);

interface Next {
  requestId: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(method: string, p: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: apiHost,
        port: Number(apiPort),
        path: p,
        method,
        agent: false,
        headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function errorBody(err: unknown): { errorType: string; errorMessage: string; stackTrace: string[] } {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    errorType: e.name || 'Error',
    errorMessage: e.message,
    stackTrace: (e.stack ?? '')
      .split('\n')
      .slice(1)
      .map((s) => s.trim()),
  };
}

async function postError(p: string, err: unknown, type?: string): Promise<void> {
  const body = errorBody(err);
  await request('POST', p, JSON.stringify(body), { 'lambda-runtime-function-error-type': type ?? body.errorType });
}

type Handler = (event: unknown, context: unknown, callback: (err: unknown, res?: unknown) => void) => unknown;

async function loadHandler(): Promise<Handler> {
  const spec = env._HANDLER ?? '';
  const root = env.LAMBDA_TASK_ROOT ?? process.cwd();
  const dot = spec.lastIndexOf('.');
  if (dot <= 0) throw Object.assign(new Error(`Bad handler ${spec}: expected file.export`), { name: 'Runtime.MalformedHandlerName' });
  const file = spec.slice(0, dot);
  const exportName = spec.slice(dot + 1);
  const candidates = ['.js', '.mjs', '.cjs'].map((ext) => path.resolve(root, file + ext));
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw Object.assign(new Error(`Cannot find module '${file}'`), { name: 'Runtime.ImportModuleError' });
  const mod = (await import(pathToFileURL(found).href)) as Record<string, unknown>;
  const fn = mod[exportName] ?? (mod.default as Record<string, unknown> | undefined)?.[exportName];
  if (typeof fn !== 'function') throw Object.assign(new Error(`${spec} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  return fn as Handler;
}

function makeContext(next: Next): Record<string, unknown> {
  const h = next.headers;
  const deadline = Number(h['lambda-runtime-deadline-ms']);
  const parse = (v: string | string[] | undefined): unknown => {
    if (typeof v !== 'string') return undefined;
    try {
      return JSON.parse(v);
    } catch {
      return undefined;
    }
  };
  return {
    awsRequestId: next.requestId,
    invokedFunctionArn: h['lambda-runtime-invoked-function-arn'],
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parse(h['lambda-runtime-client-context']),
    identity: parse(h['lambda-runtime-cognito-identity']),
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function invokeHandler(handler: Handler, event: unknown, context: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (err: unknown, res?: unknown): void => {
      if (settled) return;
      settled = true;
      if (err !== null && err !== undefined) reject(err);
      else resolve(res);
    };
    try {
      const r = handler(event, context, callback);
      if (r && typeof (r as Promise<unknown>).then === 'function')
        (r as Promise<unknown>).then(
          (v) => callback(null, v),
          (e: unknown) => callback(e ?? new Error('handler rejected')),
        );
      else if (handler.length < 3) callback(null, r);
    } catch (err) {
      callback(err);
    }
  });
}

async function loop(handler: Handler): Promise<never> {
  for (;;) {
    const r = await request('GET', '/2018-06-01/runtime/invocation/next');
    if (r.status !== 200) throw new Error(`runtime API /next answered ${r.status}: ${r.body}`);
    const requestId = String(r.headers['lambda-runtime-aws-request-id']);
    const next: Next = { requestId, headers: r.headers, body: r.body };
    const trace = r.headers['lambda-runtime-trace-id'];
    if (typeof trace === 'string') process.env._X_AMZN_TRACE_ID = trace;
    await currentRequest.run(requestId, async () => {
      let event: unknown;
      try {
        event = next.body === '' ? {} : JSON.parse(next.body);
      } catch (err) {
        await postError(`/2018-06-01/runtime/invocation/${requestId}/error`, err, 'Runtime.UnmarshalError');
        return;
      }
      try {
        const result = await invokeHandler(handler, event, makeContext(next));
        const body = JSON.stringify(result === undefined ? null : result);
        await request('POST', `/2018-06-01/runtime/invocation/${requestId}/response`, body);
      } catch (err) {
        console.error('Invoke Error', JSON.stringify(errorBody(err)));
        await postError(`/2018-06-01/runtime/invocation/${requestId}/error`, err);
      }
    });
  }
}

async function main(): Promise<void> {
  let handler: Handler;
  try {
    handler = await loadHandler();
  } catch (err) {
    console.error('Init Error', (err as Error).message);
    await postError('/2018-06-01/runtime/init/error', err, (err as Error).name);
    process.exit(1);
  }
  await Promise.all(Array.from({ length: concurrency }, () => loop(handler)));
}

process.on('uncaughtException', (err) => {
  console.error('Uncaught Exception', JSON.stringify(errorBody(err)));
  process.exit(129);
});

void main();
