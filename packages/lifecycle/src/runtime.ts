// The `runtime` tag for custom runtimes, where the function tags have none: the runtime process's
// AWS_EXECUTION_ENV if one of the sandbox's processes has it, else the OS image (provided.al2 / al2023).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { MAX_PIDS } from './proc.js';

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function resolveRuntime(procRoot = '/proc', osRelease = '/etc/os-release'): string | undefined {
  let pids: string[] = [];
  try {
    pids = readdirSync(procRoot)
      .filter((d) => /^\d+$/.test(d))
      .slice(0, MAX_PIDS);
  } catch {
    pids = [];
  }
  for (const pid of pids) {
    const env = read(path.join(procRoot, pid, 'environ'));
    const entry = env?.split('\0').find((e) => e.startsWith('AWS_EXECUTION_ENV='));
    if (entry !== undefined) return entry.slice('AWS_EXECUTION_ENV='.length).replace(/^AWS_Lambda_/, '');
  }
  const os = read(osRelease);
  if (os === undefined || !/Amazon Linux/.test(os)) return undefined;
  const version = /^VERSION_ID="?([^"\n]+)"?/m.exec(os)?.[1];
  if (version === '2') return 'provided.al2';
  if (version === '2023') return 'provided.al2023';
  return undefined;
}
