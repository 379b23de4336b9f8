// One request to the fake intake, in order: injected faults, the route, method, API key, size,
// content type, then the strict decode of the body; every request is recorded, accepted or not.
import type http from 'node:http';
import { IntakeError } from './errors.js';
import { decompress } from './decode.js';
import type { FaultRule } from './faults.js';
import { MiB, PROXY_PATHS, ROUTES, proxyRoute } from './routes.js';
import type { PayloadKind, RecordedRequest } from './types.js';

export interface HandlerContext {
  opts: { apiKey?: string; keepBodies?: boolean };
  matchFault(path: string, kind: PayloadKind): { rule: FaultRule } | undefined;
  record(rec: Omit<RecordedRequest, 'seq' | 'receivedAt'>): void;
}

function headerRecord(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function mediaType(h: string | undefined): string {
  return (h ?? '').split(';')[0]!.trim().toLowerCase();
}

function send(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function errorBody(message: string): string {
  return JSON.stringify({ errors: [message] });
}

export async function handleRequest(ctx: HandlerContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!;
  const method = req.method ?? 'GET';
  const headers = headerRecord(req.headers);
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  const route = ROUTES[path] ?? (PROXY_PATHS.includes(path) ? proxyRoute : undefined);
  const kind: PayloadKind = route?.kind ?? 'unknown';
  const base = { method, path, kind, headers, encoding };

  const fault = ctx.matchFault(path, kind);
  if (fault) {
    const r = fault.rule;
    if (r.latencyMs) await new Promise((done) => setTimeout(done, r.latencyMs).unref());
    if (r.hang || r.reset || r.status !== undefined) {
      const wire = await readBody(req, Infinity).catch(() => Buffer.alloc(0));
      const label = r.hang ? 'hang' : r.reset ? 'reset' : `status ${r.status}`;
      ctx.record({ ...base, wireBytes: wire.length, bodyBytes: 0, status: r.status ?? 0, accepted: false, fault: label });
      if (r.hang) return;
      if (r.reset) {
        req.socket.destroy();
        return;
      }
      send(res, r.status!, r.body ?? errorBody(`fault injected: ${label}`));
      return;
    }
  }

  if (!route) {
    const wire = await readBody(req, 50 * MiB).catch(() => Buffer.alloc(0));
    ctx.record({ ...base, wireBytes: wire.length, bodyBytes: wire.length, status: 404, accepted: false, body: wire });
    send(res, 404, errorBody(`no such intake route: ${method} ${path}`));
    return;
  }

  const reject = (status: number, err: { code: string; message: string }, wire = 0, body?: Buffer): void => {
    ctx.record({ ...base, wireBytes: wire, bodyBytes: body?.length ?? 0, status, accepted: false, error: err, ...(body ? { body } : {}) });
    send(res, status, errorBody(err.message));
  };

  if (!route.methods.includes(method)) {
    await readBody(req, Infinity).catch(() => undefined);
    res.setHeader('allow', route.methods.join(', '));
    reject(405, { code: 'FI_ERR_METHOD', message: `${method} not allowed on ${path}` });
    return;
  }
  const key = req.headers['dd-api-key'];
  if (typeof key !== 'string' || key === '' || (ctx.opts.apiKey !== undefined && key !== ctx.opts.apiKey)) {
    await readBody(req, Infinity).catch(() => undefined);
    reject(403, { code: 'FI_ERR_API_KEY', message: 'Forbidden: missing or invalid DD-API-KEY' });
    return;
  }
  if (route.kind === 'validate') {
    ctx.record({ ...base, wireBytes: 0, bodyBytes: 0, status: 200, accepted: true });
    send(res, route.ok.status, route.ok.body);
    return;
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > route.maxWireBytes) {
    reject(413, { code: 'FI_ERR_TOO_LARGE', message: `body of ${declared} bytes exceeds ${route.maxWireBytes}` }, declared);
    req.resume();
    return;
  }
  let wire: Buffer;
  try {
    wire = await readBody(req, route.maxWireBytes);
  } catch (err) {
    reject(413, { code: 'FI_ERR_TOO_LARGE', message: (err as Error).message });
    return;
  }
  if (route.contentTypes && !route.contentTypes.includes(mediaType(req.headers['content-type']))) {
    reject(
      400,
      {
        code: 'FI_ERR_CONTENT_TYPE',
        message: `Content-Type "${req.headers['content-type'] ?? ''}" on ${path}; expected ${route.contentTypes.join(' or ')}`,
      },
      wire.length,
      wire,
    );
    return;
  }
  let body: Buffer;
  let decoded: unknown;
  try {
    body = decompress(wire, encoding, route.maxBodyBytes);
    decoded = route.decode ? route.decode(body) : undefined;
  } catch (err) {
    const e = err instanceof IntakeError ? err : new IntakeError('FI_ERR_SCHEMA', String(err));
    reject(e.code === 'FI_ERR_TOO_LARGE' ? 413 : 400, { code: e.code, message: e.message }, wire.length, wire);
    return;
  }
  const keep = route.kind === 'proxy' || ctx.opts.keepBodies === true;
  ctx.record({
    ...base,
    wireBytes: wire.length,
    bodyBytes: body.length,
    status: route.ok.status,
    accepted: true,
    ...(decoded !== undefined ? { decoded } : {}),
    ...(keep ? { body } : {}),
  });
  send(res, route.ok.status, route.ok.body);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new Error(`body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, n)));
    req.on('error', reject);
  });
}
