// Shared test helpers: raw Lambda API calls as an extension would make them, fixture paths.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';

export const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures');
export const fnDir = path.join(fixtures, 'fn');
export const optDir = path.join(fixtures, 'opt');

export interface ApiResponse {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
  text: string;
}

export async function api(base: string, method: string, p: string, headers: Record<string, string> = {}, body?: unknown): Promise<ApiResponse> {
  const res = await fetch(`http://${base}${p}`, {
    method,
    headers,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, json, text };
}

export function register(base: string, name: string, events: unknown = ['INVOKE', 'SHUTDOWN'], feature?: string): Promise<ApiResponse> {
  return api(base, 'POST', '/2020-01-01/extension/register', { 'Lambda-Extension-Name': name, ...(feature ? { 'Lambda-Extension-Accept-Feature': feature } : {}) }, { events });
}

export function next(base: string, id: string): Promise<ApiResponse> {
  return api(base, 'GET', '/2020-01-01/extension/event/next', { 'Lambda-Extension-Identifier': id });
}

export function tempFile(name: string): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'emu-')), name);
}

export interface Recorded {
  at: number;
  kind: string;
  [k: string]: unknown;
}

/** Reads the recorder fixture's JSON-lines output. */
export function recorded(file: string): Recorded[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Recorded);
}

export interface TelemetryItem {
  time: string;
  type: string;
  record: Record<string, unknown> & string;
}

export function telemetryOf(rows: Recorded[]): TelemetryItem[] {
  return rows.filter((r) => r.kind === 'telemetry').flatMap((r) => r.batch as TelemetryItem[]);
}
