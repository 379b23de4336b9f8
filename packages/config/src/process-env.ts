// The single place the extension reads process.env; everything else receives plain data.
import { env } from 'node:process';

export function processEnv(): Readonly<Record<string, string | undefined>> {
  return env;
}

/** Variables that belong to the function's Node, not to ours (the launcher clears them too). */
const NOT_OURS = ['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS'];

/** The environment our worker threads see: the process's, minus the function's Node options. */
export function workerEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !NOT_OURS.includes(k)) out[k] = v;
  return out;
}
