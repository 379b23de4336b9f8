// Process entry of the extension (bundled as supervisor.cjs next to worker.cjs and units.json).
import path from 'node:path';
import { runExtension } from '../supervisor.js';

const codeDir = path.dirname(path.resolve(process.argv[1] ?? '.'));
runExtension({ codeDir }).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(JSON.stringify({ level: 60, time: Date.now(), component: 'supervisor', msg: 'unexpected failure', err: String((err as Error)?.stack ?? err) }));
    process.exit(1);
  },
);
