// Shared by the end-to-end tests: a private copy of the built layer with a chosen units.json,
// free ports for the extension, and the extension's self-log lines.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SandboxLog } from '@dd-lambda/lambda-emulator';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../../..');
export const fixtures = path.join(root, 'test', 'fixtures');
export const layerOpt = path.join(root, 'layer', 'dist', 'opt');
export const fixtureUnits = path.join(root, 'packages', 'worker-host', 'test', 'fixtures', 'units');

export interface UnitEntry { name: string; file: string; ingress: string[]; events?: string[]; weight?: number }

/** A copy of layer/dist/opt whose units.json lists the given fixture units (absolute paths). */
export function layerWith(units: UnitEntry[]): { optDir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ddl-opt-'));
  cpSync(layerOpt, dir, { recursive: true });
  const manifest = { units: units.map((u) => ({ name: u.name, module: path.join(fixtureUnits, u.file), ingress: u.ingress, events: u.events ?? [], ...(u.weight ? { weight: u.weight } : {}) })) };
  writeFileSync(path.join(dir, 'datadog-lambda', 'units.json'), JSON.stringify(manifest));
  return { optDir: dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function freeTcpPort(): Promise<number> {
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
