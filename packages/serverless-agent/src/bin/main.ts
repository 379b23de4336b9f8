// Process entry of the mini agent (bundled by the layer build as dd-serverless-agent.cjs, next to the
// layer's datadog-lambda directory whose worker entry and units it runs).
import path from 'node:path';
import { startMiniAgent } from '../agent.js';

const here = path.dirname(path.resolve(process.argv[1] ?? '.'));
const codeDir = path.resolve(here, '..', 'opt', 'datadog-lambda');
startMiniAgent({ codeDir })
  .then((agent) => agent.done)
  .then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(
        JSON.stringify({ level: 60, time: Date.now(), component: 'serverless-agent', code: (err as { code?: unknown }).code, msg: String((err as Error)?.message ?? err) }),
      );
      process.exit(1);
    },
  );
