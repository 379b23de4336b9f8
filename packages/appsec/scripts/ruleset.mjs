// The AppSec ruleset the layer ships: the recommended ruleset as Datadog's Node tracer (dd-trace)
// packages it, copied at build time with the version it came from (dist/ruleset/).
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, '..', 'dist', 'ruleset');
const require = createRequire(import.meta.url);
const file = require.resolve('dd-trace/packages/dd-trace/src/appsec/recommended.json');
const ddTrace = JSON.parse(readFileSync(require.resolve('dd-trace/package.json'), 'utf8'));
const rules = JSON.parse(readFileSync(file, 'utf8'));
mkdirSync(out, { recursive: true });
// Minified: the layer reads it once per cold start.
writeFileSync(path.join(out, 'recommended.json'), JSON.stringify(rules));
writeFileSync(path.join(out, 'source.json'), `${JSON.stringify({ from: `dd-trace@${ddTrace.version}`, rules_version: rules.metadata?.rules_version ?? 'unknown' }, null, 2)}\n`);
