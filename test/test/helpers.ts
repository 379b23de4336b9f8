// Shared by the end-to-end tests: a private copy of the built layer with a chosen units.json,
// free ports for the extension, and the extension's self-log lines.
import { accessSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFakeIntake } from '@dd-lambda/fake-intake';
import type { FakeIntake } from '@dd-lambda/fake-intake';
import { LambdaEmulator } from '@dd-lambda/lambda-emulator';
import type { EmulatorOptions, SandboxLog } from '@dd-lambda/lambda-emulator';
import { pack } from 'msgpackr';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../../..');
export const fixtures = path.join(root, 'test', 'fixtures');
export const layerOpt = path.join(root, 'layer', 'dist', 'opt');
export const fixtureUnits = path.join(root, 'packages', 'worker-host', 'test', 'fixtures', 'units');

export interface UnitEntry {
  name: string;
  file: string;
  ingress: string[];
  events?: string[];
  weight?: number;
}

/** A copy of layer/dist/opt whose units.json lists the given fixture units (absolute paths). */
export function layerWith(units: UnitEntry[]): { optDir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ddl-opt-'));
  cpSync(layerOpt, dir, { recursive: true });
  const manifest = {
    units: units.map((u) => ({ name: u.name, module: path.join(fixtureUnits, u.file), ingress: u.ingress, events: u.events ?? [], ...(u.weight ? { weight: u.weight } : {}) })),
  };
  writeFileSync(path.join(dir, 'datadog-lambda', 'units.json'), JSON.stringify(manifest));
  return { optDir: dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function freeTcpPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Ports for one extension instance, as DD_* variables (so tests never collide with each other or the defaults). */
export async function portEnv(): Promise<Record<string, string>> {
  return {
    DD_APM_RECEIVER_PORT: String(await freeTcpPort()),
    DD_DOGSTATSD_PORT: String(await freeUdpPort()),
    DD_EXTENSION_LIFECYCLE_PORT: String(await freeTcpPort()),
    DD_EXTENSION_TELEMETRY_PORT: String(await freeTcpPort()),
  };
}

/** Collects the extension's stdout JSON lines (pino shape); other lines are kept raw. */
export class ExtensionLogs {
  readonly raw: string[] = [];
  readonly json: Record<string, unknown>[] = [];

  readonly onLog = (l: SandboxLog): void => {
    if (l.source !== 'extension') return;
    for (const line of l.text.split('\n')) {
      if (line === '') continue;
      this.raw.push(line);
      try {
        this.json.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a JSON line (e.g. the checkpoints line)
      }
    }
  };

  find(msg: string): Record<string, unknown> | undefined {
    return this.json.find((j) => j['msg'] === msg);
  }

  all(msg: string): Record<string, unknown>[] {
    return this.json.filter((j) => j['msg'] === msg);
  }
}

export const API_KEY = 'e2e-secret-api-key';

export interface Rig {
  emu: LambdaEmulator;
  intake: FakeIntake;
  logs: ExtensionLogs;
  env: Record<string, string>;
  done: () => Promise<void>;
}

/** The extension (the built layer, or one with fixture units) under the emulator, shipping to a fresh fake intake. */
export async function rig(units: UnitEntry[] | undefined, env: Record<string, string> = {}, opts: Partial<EmulatorOptions> = {}): Promise<Rig> {
  const intake = buildFakeIntake({ apiKey: API_KEY });
  const url = await intake.listen();
  const layer = units ? layerWith(units) : undefined;
  const logs = new ExtensionLogs();
  const fullEnv = { DD_API_KEY: API_KEY, DD_LOGS_CONFIG_LOGS_DD_URL: url, DD_APM_DD_URL: url, DD_DD_URL: url, ...(await portEnv()), ...env };
  const emu = new LambdaEmulator({
    optDir: layer?.optDir ?? layerOpt,
    runtime: { handler: 'index.handler', taskRoot: path.join(fixtures, 'emit-function') },
    env: fullEnv,
    onLog: logs.onLog,
    ...opts,
  });
  return {
    emu,
    intake,
    logs,
    env: fullEnv,
    done: async () => {
      await emu.close();
      await intake.close();
      layer?.cleanup();
    },
  };
}

const EXTENSION_FILE = '/opt/extensions/datadog-agent';

/** datadog-lambda-js only uses the extension when this file exists, as on Lambda. */
export function ensureExtensionFile(): () => void {
  try {
    accessSync(EXTENSION_FILE);
    return () => undefined;
  } catch {
    mkdirSync(path.dirname(EXTENSION_FILE), { recursive: true });
    writeFileSync(EXTENSION_FILE, '#!/bin/sh\n', { mode: 0o755 });
    return () => rmSync(EXTENSION_FILE, { force: true });
  }
}

/** A v0.4 traces body (msgpack) of one single-span trace, as a tracer sends it. */
export function v04TraceBody(traceId: number, name: string): Buffer {
  const span = {
    trace_id: traceId,
    span_id: traceId,
    parent_id: 0,
    name,
    resource: name,
    service: 'svc',
    type: 'web',
    start: Date.now() * 1e6,
    duration: 1e6,
    error: 0,
    meta: {},
    metrics: {},
  };
  return pack([[span]]);
}
