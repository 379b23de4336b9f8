#!/usr/bin/env node
// `npx dd-serverless-agent` / `pnpm exec dd-serverless-agent`: runs the mini agent the layer build
// bundled (`pnpm build` makes it).
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'agent', 'dd-serverless-agent.cjs');
if (!fs.existsSync(bundle)) {
  process.stderr.write('dd-serverless-agent: not built yet; run `pnpm build` at the repository root first\n');
  process.exit(1);
}
process.argv[1] = bundle;
require(bundle);
