// HTTP plumbing shared by the emulated APIs: header reads, JSON answers in Lambda's error shape,
// bounded body reads.

import type http from 'node:http';
import { randomUUID } from 'node:crypto';

export function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}

/** A JSON object from text that looks like one; anything else is undefined. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  const t = text.trimStart();
  if (!t.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(t) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

/** Lambda's error body: `{errorMessage, errorType}`. */
export function sendError(res: http.ServerResponse, status: number, errorType: string, errorMessage: string): void {
  sendJson(res, status, { errorMessage, errorType });
}

export function sendEvent(res: http.ServerResponse, event: object): void {
  res.setHeader('lambda-extension-event-identifier', randomUUID());
  sendJson(res, 200, event);
}

/** The whole body, or a rejection once it passes `limit` bytes (the rest is read and discarded). */
export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) over = true;
      if (!over) chunks.push(c);
    });
    req.on('end', () => (over ? reject(new Error(`body over ${limit} bytes`)) : resolve(Buffer.concat(chunks, n))));
    req.on('error', reject);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)).unref());
}

export function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
