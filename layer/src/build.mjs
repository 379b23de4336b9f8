// Lays the extension out as Lambda mounts a layer (layer/dist/opt):
//   extensions/datadog-agent           the launcher (Lambda starts every file in extensions/)
//   datadog_wrapper                    AWS_LAMBDA_EXEC_WRAPPER hook (AppSec's runtime-API proxy, later)
//   datadog-lambda/refuse.sh           reports an init error when no Node exists (slim flavor)
//   datadog-lambda/supervisor.cjs      main thread, one CommonJS bundle (ESM costs ~20 ms on Node 22/24)
//   datadog-lambda/worker.cjs          worker thread entry
//   datadog-lambda/units.json          the pipeline units this layer runs, and what they own
//   datadog-lambda/ruleset/            the AppSec ruleset (dd-trace's recommended one, version in source.json)
//   datadog-lambda/node_modules/yaml   loaded only when the function ships a datadog.yaml
//   datadog-lambda/node_modules/{@dd-lambda/intake-client,@dd-lambda/logger}  shared by the worker entry and the units
// and, outside the layer, layer/dist/agent/dd-serverless-agent.cjs: the mini agent's main thread.
// Bundles are not minified: that loads ~10% slower (measured on the layer's Node with both bundle forms).
import { build } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const out = path.join(root, 'dist', 'opt');
const code = path.join(out, 'datadog-lambda');
const require = createRequire(import.meta.url);

/**
 * Units shipped in this layer: the protocol's unit table (ingresses, events, weights, enabledBy), each
 * bundled from its package's `unit` entry. A unit is added to the table, not here.
 */
const { UNIT_TABLE } = await import('@dd-lambda/protocol');
const UNITS = Object.entries(UNIT_TABLE).map(([name, u]) => ({
  name,
  entry: require.resolve(`@dd-lambda/${name}/unit`),
  ingress: u.ingress,
  events: u.events,
  weight: u.weight,
  enabledBy: u.enabledBy,
}));

rmSync(path.join(root, 'dist'), { recursive: true, force: true });
mkdirSync(path.join(out, 'extensions'), { recursive: true });
mkdirSync(code, { recursive: true });

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: false,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  // msgpackr-extract is msgpackr's optional native addon, @datadog/native-appsec the AppSec WAF's:
  // shipped per architecture by package.mjs (datadog-lambda/node_modules), so they stay runtime requires.
  external: ['yaml', 'msgpackr-extract', '@datadog/native-appsec'],
  inject: [path.join(here, 'import-meta-url.mjs')],
  define: { 'import.meta.url': 'importMetaUrl' },
};

const supervisorEntry = require.resolve('@dd-lambda/supervisor').replace(/index\.js$/, 'bin/main.js');
const workerEntry = require.resolve('@dd-lambda/worker-host/worker');
await build({ ...common, entryPoints: { supervisor: supervisorEntry }, outdir: code, outExtension: { '.js': '.cjs' } });
// Units sharing a worker thread share one copy of these: each is bundled once under
// datadog-lambda/node_modules and left external in the worker entry and the units, so a thread's
// require cache loads it once. The supervisor keeps its own copy: another thread, and
// one file to read on the cold-start path.
const SHARED = ['@dd-lambda/intake-client', '@dd-lambda/logger'];
for (const name of SHARED) {
  const dir = path.join(code, 'node_modules', ...name.split('/'));
  mkdirSync(dir, { recursive: true });
  await build({ ...common, entryPoints: [require.resolve(name)], outfile: path.join(dir, 'index.js') });
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name, main: 'index.js' })}\n`);
}
const threadSide = { ...common, external: [...common.external, ...SHARED], outExtension: { '.js': '.cjs' } };
await build({ ...threadSide, entryPoints: { worker: workerEntry }, outdir: code });
/**
 * Code a unit loads only when configured (its `import()`), split into a file of its own beside the
 * unit so that a function not using it does not even parse it: the OTLP receiver (about 40 KB, ~3 ms
 * of CPU to load with the trace agent, measured with the layer's Node).
 */
const LAZY = { 'trace-agent': [{ specifier: './otlp/receiver.js', file: 'trace-agent-otlp.cjs' }] };
for (const u of UNITS) {
  const lazy = LAZY[u.name] ?? [];
  const split = {
    name: 'lazy-split',
    setup(b) {
      for (const l of lazy) b.onResolve({ filter: new RegExp(`${l.specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`) }, () => ({ path: `./${l.file}`, external: true }));
    },
  };
  await build({ ...threadSide, entryPoints: { [u.name]: u.entry }, outdir: path.join(code, 'units'), plugins: [split] });
  for (const l of lazy) {
    const entry = path.join(path.dirname(u.entry), l.specifier);
    await build({ ...threadSide, entryPoints: [entry], outfile: path.join(code, 'units', l.file) });
  }
}
const manifest = UNITS.map((u) => ({ name: u.name, module: `units/${u.name}.cjs`, ingress: u.ingress, events: u.events, weight: u.weight, enabledBy: u.enabledBy }));
writeFileSync(path.join(code, 'units.json'), `${JSON.stringify({ units: manifest }, null, 2)}\n`);

// The AppSec ruleset next to the units (the unit reads ../ruleset/recommended.json), with its source.
const rulesetDir = path.join(code, 'ruleset');
mkdirSync(rulesetDir, { recursive: true });
const rulesetFile = require.resolve('@dd-lambda/appsec/ruleset');
copyFileSync(rulesetFile, path.join(rulesetDir, 'recommended.json'));
copyFileSync(path.join(path.dirname(rulesetFile), 'source.json'), path.join(rulesetDir, 'source.json'));

// yaml as its own small package, required lazily by the config loader.
const yamlDir = path.join(code, 'node_modules', 'yaml');
mkdirSync(yamlDir, { recursive: true });
await build({ ...common, inject: [], define: {}, external: [], entryPoints: [require.resolve('yaml')], outfile: path.join(yamlDir, 'index.js') });
writeFileSync(path.join(yamlDir, 'package.json'), '{"name":"yaml","main":"index.js"}\n');

// The serverless mini agent (outside Lambda): its main thread bundle beside the layer, not in it; it
// runs the layer's worker entry and units from dist/opt/datadog-lambda.
const agentEntry = require.resolve('@dd-lambda/serverless-agent').replace(/index\.js$/, 'bin/main.js');
await build({ ...common, entryPoints: { 'dd-serverless-agent': agentEntry }, outdir: path.join(root, 'dist', 'agent'), outExtension: { '.js': '.cjs' } });

const launcher = path.join(out, 'extensions', 'datadog-agent');
copyFileSync(path.join(here, 'launcher.sh'), launcher);
chmodSync(launcher, 0o755);
// The slim flavor's answer when the runtime has no Node, and the exec wrapper AppSec will use.
for (const [from, to] of [
  ['refuse.sh', path.join(code, 'refuse.sh')],
  ['datadog_wrapper', path.join(out, 'datadog_wrapper')],
]) {
  copyFileSync(path.join(here, from), to);
  chmodSync(to, 0o755);
}
console.log(`layer: built ${path.relative(process.cwd(), out)}`);
