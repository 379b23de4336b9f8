// The root README's parity table (every feature of Datadog's extension, built / partial / not built)
// kept true against what this package reads: a built or partial row's variables are read here and
// documented in a package README's table; a not-built row's are not read, so setting one is reported
// as unsupported instead of silently ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/load.js';
import { MINI_AGENT_KEYS } from '../src/mini-agent.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const STATUSES = new Set(['built', 'partial', 'not built']);

interface Row {
  feature: string;
  variables: string[];
  status: string;
}

/** Cells split on `|` that are not escaped as `\\|`. */
const cells = (line: string): string[] =>
  line
    .split(/(?<!\\)\|/)
    .slice(1, -1)
    .map((c) => c.trim());

function parityRows(): Row[] {
  const md = readFileSync(path.join(repo, 'README.md'), 'utf8');
  const at = md.indexOf("## Parity with Datadog's extension (bottlecap)");
  assert.ok(at >= 0, 'the README has the parity section');
  const section = md.slice(at, md.indexOf('\n## ', at + 3));
  const lines = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| feature'));
  return lines.map((l) => {
    const [feature = '', , variables = '', status = ''] = cells(l);
    return { feature, variables: [...variables.matchAll(/`(DD_[A-Z0-9_]+)`/g)].map((m) => m[1] as string), status };
  });
}

/** Every concrete DD_ name a package README documents, with `{A,B}` alternatives and `[_X]` optional parts expanded. */
function documented(): Set<string> {
  const out = new Set<string>();
  const expand = (t: string): string[] => {
    const brace = /\{([^}]*)\}/.exec(t);
    if (brace) return brace[1]!.split(',').flatMap((alt) => expand(t.slice(0, brace.index) + alt.trim() + t.slice(brace.index + brace[0].length)));
    const opt = /\[([^\]]*)\]/.exec(t);
    if (opt) return [...expand(t.slice(0, opt.index) + t.slice(opt.index + opt[0].length)), ...expand(t.slice(0, opt.index) + opt[1] + t.slice(opt.index + opt[0].length))];
    return [t];
  };
  for (const pkg of readdirSync(path.join(repo, 'packages'))) {
    let text: string;
    try {
      text = readFileSync(path.join(repo, 'packages', pkg, 'README.md'), 'utf8');
    } catch {
      continue;
    }
    for (const m of text.matchAll(/`(DD_[A-Z0-9_{},[\]]+)`/g)) for (const name of expand(m[1] as string)) out.add(name);
  }
  return out;
}

test('the parity table: each row has a known status; built and partial rows name variables this package reads and documents; not-built ones it does not read', () => {
  const rows = parityRows();
  assert.ok(rows.length >= 30, `${rows.length} rows`);
  // Variables read only under a condition are set, so the lookup happens.
  const env = { AWS_LAMBDA_EXEC_WRAPPER: '/opt/datadog_wrapper', DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_HTTP_ENDPOINT: 'localhost:4318' };
  const read = new Set([...loadConfig(env, { readYaml: false }).read, ...MINI_AGENT_KEYS.map((k) => `DD_${k}`)]);
  const docs = documented();
  for (const row of rows) {
    assert.ok(STATUSES.has(row.status), `${row.feature}: status "${row.status}"`);
    for (const v of row.variables) {
      if (row.status === 'not built') {
        assert.ok(!read.has(v), `${row.feature}: ${v} is read, yet the row says not built`);
        const { warnings } = loadConfig({ [v]: 'x' }, { readYaml: false });
        assert.ok(
          warnings.some((w) => w.startsWith('set but not supported') && w.includes(v)),
          `${v} is reported as unsupported`,
        );
      } else {
        assert.ok(read.has(v), `${row.feature}: ${v} is not read by the config package`);
        assert.ok(docs.has(v), `${row.feature}: ${v} is in no package README`);
      }
    }
  }
});

test('every variable the config package reads is in some row of the parity table, or is our own', () => {
  const inTable = new Set(parityRows().flatMap((r) => r.variables));
  // Ours, with no counterpart in Datadog's extension (worker budget, checkpoints, the APM proxy base URL).
  const OWN = new Set(['DD_EXTENSION_WORKERS', 'DD_EXTENSION_CHECKPOINTS', 'DD_EXTENSION_APM_PROXY_URL']);
  const env = { AWS_LAMBDA_EXEC_WRAPPER: '/opt/datadog_wrapper', DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_HTTP_ENDPOINT: 'localhost:4318' };
  const missing = loadConfig(env, { readYaml: false }).read.filter((v) => !inTable.has(v) && !OWN.has(v));
  assert.deepEqual(missing, []);
});
