// Process entry of the extension (bundled as supervisor.cjs next to worker.cjs and units.json).
import path from 'node:path';
import { ExtensionClient } from '@dd-lambda/extension-api';
import { EXTENSION_NAME, runExtension } from '../supervisor.js';

/** The oldest Node the extension runs on (undici 7, the intake client, needs 20.18). */
export const MIN_NODE: readonly [number, number] = [20, 18];

function nodeTooOld(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1]);
}

/**
 * The slim layer runs on the runtime's own Node, which may be older than we support: say so through
 * the Extensions API (the platform fails the init with that error type) rather than crash unexplained.
 */
async function refuseOldNode(): Promise<number> {
  const msg = `Node ${process.versions.node} is older than ${MIN_NODE.join('.')}; use the full layer, which ships its own Node, or a newer runtime`;
  console.error(JSON.stringify({ level: 60, time: Date.now(), component: 'supervisor', code: 'Extension.UnsupportedNode', msg }));
  const runtimeApi = process.env['AWS_LAMBDA_RUNTIME_API'];
  if (runtimeApi === undefined) return 1;
  const client = new ExtensionClient({ runtimeApi, name: EXTENSION_NAME });
  try {
    await client.register(['INVOKE', 'SHUTDOWN']);
    await client.initError('Extension.UnsupportedNode', msg);
  } finally {
    client.close();
  }
  return 1;
}

const codeDir = path.dirname(path.resolve(process.argv[1] ?? '.'));
(nodeTooOld() ? refuseOldNode() : runExtension({ codeDir })).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(JSON.stringify({ level: 60, time: Date.now(), component: 'supervisor', msg: 'unexpected failure', err: String((err as Error)?.stack ?? err) }));
    process.exit(1);
  },
);
