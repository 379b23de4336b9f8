import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { flattenYaml } from '../src/yaml.js';
import { functionTags } from '../src/tags.js';
import { loadConfig } from '../src/load.js';
import { parseFlushStrategy } from '../src/flush-strategy.js';
import { workerBudget } from '../src/workers.js';

const noYaml = { readYaml: false };

test('flush strategy parser: every documented form, and anything else is the default', () => {
  assert.deepEqual(parseFlushStrategy('end').strategy, { kind: 'end' });
  assert.deepEqual(parseFlushStrategy(' END ').strategy, { kind: 'end' });
  assert.deepEqual(parseFlushStrategy('end,5000').strategy, { kind: 'end-periodically', intervalMs: 5000 });
  assert.deepEqual(parseFlushStrategy('periodically,60000').strategy, { kind: 'periodically', intervalMs: 60000 });
  assert.deepEqual(parseFlushStrategy('continuously,100').strategy, { kind: 'continuously', intervalMs: 100 });
  for (const bad of ['periodically', 'periodically,', 'periodically,abc', 'continuously,-5', 'continuously,0', 'sometimes,10', 'end,1.5']) {
    const r = parseFlushStrategy(bad);
    assert.deepEqual(r.strategy, { kind: 'default' }, bad);
    assert.equal(r.invalid, true, bad);
  }
  assert.deepEqual(parseFlushStrategy(undefined), { strategy: { kind: 'default' }, invalid: false });
  assert.deepEqual(parseFlushStrategy('default'), { strategy: { kind: 'default' }, invalid: false });
});

test('worker budget: memory / 1769 rounded, clamped to 1..4, 2 when unknown, env override wins', () => {
  assert.deepEqual(workerBudget(undefined, undefined), { workers: 2, source: 'default' });
  assert.equal(workerBudget(128, undefined).workers, 1);
  assert.equal(workerBudget(1024, undefined).workers, 1);
  assert.equal(workerBudget(1769, undefined).workers, 1);
  assert.equal(workerBudget(2700, undefined).workers, 2);
  assert.equal(workerBudget(3008, undefined).workers, 2);
  assert.equal(workerBudget(5308, undefined).workers, 3);
  assert.equal(workerBudget(10240, undefined).workers, 4);
  assert.deepEqual(workerBudget(128, 3), { workers: 3, source: 'DD_EXTENSION_WORKERS' });
  const c = loadConfig({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '10240', DD_EXTENSION_WORKERS: '1' }, noYaml).config;
  assert.equal(c.workers, 1);
  const bad = loadConfig({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3008', DD_EXTENSION_WORKERS: 'many' }, noYaml);
  assert.equal(bad.config.workers, 2);
  assert.equal(bad.config.workersSource, 'memory');
  assert.ok(bad.warnings.some((w) => w.startsWith('DD_EXTENSION_WORKERS')));
});

test('defaults follow Datadog: ports, site URLs, levels, logs on', () => {
  const { config, warnings } = loadConfig({}, noYaml);
  assert.deepEqual(warnings, []);
  assert.deepEqual(config.ports, { apm: 8126, dogstatsd: 8125, lifecycle: 8124, telemetry: 8999 });
  assert.deepEqual(config.urls, {
    apm: 'https://trace.agent.datadoghq.com',
    metrics: 'https://api.datadoghq.com',
    logs: 'https://http-intake.logs.datadoghq.com',
    apmProxy: undefined,
  });
  assert.equal(config.apmObfuscation.mongodb, true);
  assert.equal(config.apmObfuscation.redis, false);
  assert.equal(config.logLevel, 'info');
  assert.equal(config.flushTimeoutMs, 30000);
  assert.equal(config.logsEnabled, true);
  assert.deepEqual(config.flushStrategy, { kind: 'default' });
  assert.deepEqual(config.tracePropagationStyle, ['datadog', 'tracecontext']);
  assert.equal(config.aws.region, 'us-east-1');
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.urls) && Object.isFrozen(config.tags));
  assert.deepEqual(structuredClone(config), config);
});

test('URLs: DD_DD_URL beats DD_URL, http:// is kept, slashes trimmed, https:// added', () => {
  const { config } = loadConfig(
    {
      DD_SITE: 'datadoghq.eu/',
      DD_APM_DD_URL: 'http://127.0.0.1:9000/',
      DD_URL: 'https://ignored.example',
      DD_DD_URL: 'http://127.0.0.1:9001',
      DD_LOGS_CONFIG_LOGS_DD_URL: 'logs.example:443',
    },
    noYaml,
  );
  assert.equal(config.site, 'datadoghq.eu');
  assert.equal(config.urls.apm, 'http://127.0.0.1:9000');
  assert.equal(config.urls.metrics, 'http://127.0.0.1:9001');
  assert.equal(config.urls.logs, 'https://logs.example:443');
  assert.equal(loadConfig({ DD_URL: 'http://m' }, noYaml).config.urls.metrics, 'http://m');
});

test('forgiving parsing: bad values warn by name, never echo the value, and fall back', () => {
  const { config, warnings } = loadConfig(
    {
      DD_APM_RECEIVER_PORT: '99999',
      DD_DOGSTATSD_PORT: 'abc',
      DD_LOG_LEVEL: 'loud',
      DD_ENHANCED_METRICS: 'perhaps',
      DD_SERVERLESS_FLUSH_STRATEGY: 'periodically,soon',
      DD_APM_REPLACE_TAGS: '{not json secret-value',
      DD_FLUSH_TIMEOUT: '-1',
    },
    noYaml,
  );
  assert.equal(config.ports.apm, 8126);
  assert.equal(config.ports.dogstatsd, 8125);
  assert.equal(config.logLevel, 'info');
  assert.equal(config.enhancedMetrics, true);
  assert.deepEqual(config.flushStrategy, { kind: 'default' });
  assert.deepEqual(config.apmReplaceTags, []);
  assert.equal(config.flushTimeoutMs, 30000);
  assert.equal(warnings.length, 7);
  assert.ok(!warnings.join('\n').includes('secret-value'));
});

test('DD_ wins over DATADOG_, log levels map, logs enablement follows both switches', () => {
  assert.equal(loadConfig({ DATADOG_ENV: 'a', DD_ENV: 'b' }, noYaml).config.env, 'b');
  assert.equal(loadConfig({ DATADOG_ENV: 'a' }, noYaml).config.env, 'a');
  assert.equal(loadConfig({ DD_LOG_LEVEL: 'CRITICAL' }, noYaml).config.logLevel, 'fatal');
  assert.equal(loadConfig({ DD_LOG_LEVEL: 'off' }, noYaml).config.logLevel, 'silent');
  assert.equal(loadConfig({ DD_SERVERLESS_LOGS_ENABLED: 'false' }, noYaml).config.logsEnabled, false);
  assert.equal(loadConfig({ DD_SERVERLESS_LOGS_ENABLED: 'false', DD_LOGS_ENABLED: 'true' }, noYaml).config.logsEnabled, true);
  assert.equal(loadConfig({ DD_LOGS_ENABLED: 'false' }, noYaml).config.logsEnabled, false);
});

test('API key whitespace is removed; tags parse with commas or spaces', () => {
  const { config } = loadConfig({ DD_API_KEY: ' abc def\n', DD_TAGS: 'team:a, tier:1 solo' }, noYaml);
  assert.equal(config.apiKey, 'abcdef');
  assert.deepEqual(config.tags, [
    ['team', 'a'],
    ['tier', '1'],
    ['solo', ''],
  ]);
  assert.deepEqual(loadConfig({ DD_SERVICE_MAPPING: 'lambda_sqs:q, bad' }, noYaml).config.serviceMapping, { lambda_sqs: 'q' });
});

test('datadog.yaml in LAMBDA_TASK_ROOT is read; the environment wins over it; bad YAML is a warning', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ddcfg-'));
  writeFileSync(
    path.join(dir, 'datadog.yaml'),
    [
      'site: datadoghq.eu',
      'env: from-yaml',
      'service: yaml-svc',
      'enhanced_metrics: false',
      'tags: ["a:1", "b:2"]',
      'apm_config:',
      '  apm_dd_url: http://apm.example',
      '  compression_level: 7',
      '  obfuscation:',
      '    http:',
      '      remove_query_string: true',
      '  replace_tags:',
      '    - name: http.url',
      '      pattern: secret',
      '      repl: x',
      'logs_config:',
      '  logs_dd_url: http://logs.example',
      '  processing_rules:',
      '    - type: exclude_at_match',
      '      name: drop',
      '      pattern: healthcheck',
      'proxy:',
      '  https: http://proxy:3128',
    ].join('\n'),
  );
  const { config, warnings, yamlFile } = loadConfig({ LAMBDA_TASK_ROOT: dir, DD_SERVICE: 'env-svc' });
  assert.equal(yamlFile, path.join(dir, 'datadog.yaml'));
  assert.deepEqual(warnings, []);
  assert.equal(config.site, 'datadoghq.eu');
  assert.equal(config.env, 'from-yaml');
  assert.equal(config.service, 'env-svc');
  assert.equal(config.enhancedMetrics, false);
  assert.deepEqual(config.tags, [
    ['a', '1'],
    ['b', '2'],
  ]);
  assert.equal(config.urls.apm, 'http://apm.example');
  assert.equal(config.apmCompressionLevel, 7);
  assert.equal(config.apmObfuscationHttpRemoveQueryString, true);
  assert.deepEqual(config.apmReplaceTags, [{ name: 'http.url', pattern: 'secret', repl: 'x' }]);
  assert.equal(config.urls.logs, 'http://logs.example');
  assert.equal(config.logsProcessingRules.length, 1);
  assert.equal(config.proxyHttps, 'http://proxy:3128');
  assert.equal(config.urls.metrics, 'https://api.datadoghq.eu');

  writeFileSync(path.join(dir, 'datadog.yaml'), 'site: [unclosed');
  const broken = loadConfig({ LAMBDA_TASK_ROOT: dir });
  assert.equal(broken.config.site, 'datadoghq.com');
  assert.equal(broken.warnings.length, 1);
  assert.match(broken.warnings[0] ?? '', /not valid YAML/);
});

test('YAML keys map onto env names, including apm_config irregulars', () => {
  const m = flattenYaml({ apm_config: { apm_dd_url: 'u', features: ['a', 'b'], filter_tags: { require: ['x:1'] } }, metrics_config: { compression_level: 1 } });
  assert.equal(m.get('APM_DD_URL'), 'u');
  assert.equal(m.get('APM_FEATURES'), 'a,b');
  assert.equal(m.get('APM_FILTER_TAGS_REQUIRE'), 'x:1');
  assert.equal(m.get('METRICS_CONFIG_COMPRESSION_LEVEL'), '1');
});

test('function tags: ARN, partitions, qualifier, unified tags lowercased service, DD_TAGS override', () => {
  const { config } = loadConfig(
    {
      AWS_LAMBDA_FUNCTION_NAME: 'My-Fn',
      AWS_REGION: 'us-gov-west-1',
      AWS_LAMBDA_FUNCTION_VERSION: '7',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
      DD_SERVICE: 'Checkout',
      DD_ENV: 'prod',
      DD_VERSION: '1.2',
      DD_TAGS: 'team:pay,region:override',
    },
    noYaml,
  );
  const tags = functionTags(config, '123456789012');
  assert.equal(tags['function_arn'], 'arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:my-fn');
  assert.equal(tags['functionname'], 'My-Fn');
  assert.equal(tags['resource'], 'My-Fn:7');
  assert.equal(tags['executedversion'], '7');
  assert.equal(tags['service'], 'checkout');
  assert.equal(tags['memorysize'], '512');
  assert.equal(tags['runtime'], 'AWS_Lambda_nodejs20.x');
  assert.equal(tags['team'], 'pay');
  assert.equal(tags['region'], 'override');
  assert.equal(tags['init_type'], 'on-demand');
  const latest = functionTags(loadConfig({ AWS_LAMBDA_FUNCTION_NAME: 'f', AWS_REGION: 'cn-north-1' }, noYaml).config, undefined);
  assert.equal(latest['function_arn'], 'arn:aws-cn:lambda:cn-north-1:none:function:f');
  assert.equal(latest['resource'], 'f');
  assert.equal(latest['executedversion'], undefined);
});

test('one warning names every DD_* variable that is set but that neither the extension nor a library reads', () => {
  const { warnings } = loadConfig(
    {
      DD_API_KEY: 'k',
      DD_SITE: 'datadoghq.eu',
      DD_TRACE_ENABLED: 'true',
      DD_LAMBDA_HANDLER: 'app.handler',
      DD_MERGE_XRAY_TRACES: 'false',
      DD_OTLP_CONFIG_METRICS_ENABLED: 'localhost:4318',
      DD_NOT_A_THING: '1',
      DD_EMPTY: ' ',
    },
    { readYaml: false },
  );
  const line = warnings.filter((w) => w.startsWith('set but not supported'));
  assert.deepEqual(line, ['set but not supported by this extension, so ignored: DD_NOT_A_THING, DD_OTLP_CONFIG_METRICS_ENABLED']);
  assert.ok(!line[0]?.includes('localhost:4318'), 'names only, never values');
});

test('dd_extension_version is the package version, not a placeholder', async () => {
  const { readFileSync } = await import('node:fs');
  const { EXTENSION_VERSION } = await import('../src/index.js');
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(EXTENSION_VERSION, pkg.version);
  assert.match(EXTENSION_VERSION, /^\d+\.\d+\.\d+/);
});

test('OTLP receiver: off by default; an endpoint turns its protocol on (port after the last colon); traces off wins; bad ports warn', () => {
  const load = (env: Record<string, string>) => loadConfig(env, { readYaml: false });
  assert.deepEqual(load({}).config.otlp, { httpPort: undefined, grpcPort: undefined, grpcMaxRecvBytes: 4 * 1024 * 1024 });
  const on = load({
    DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_HTTP_ENDPOINT: 'http://0.0.0.0:14318',
    DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_GRPC_ENDPOINT: 'localhost:14317',
    DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_GRPC_MAX_RECV_MSG_SIZE_MIB: '8',
  });
  assert.deepEqual(on.config.otlp, { httpPort: 14318, grpcPort: 14317, grpcMaxRecvBytes: 8 * 1024 * 1024 });
  assert.deepEqual(on.warnings, []);
  const bad = load({ DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_HTTP_ENDPOINT: 'localhost:http' });
  assert.equal(bad.config.otlp.httpPort, 4318);
  assert.match(bad.warnings.join('\n'), /DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_HTTP_ENDPOINT: expected host:port/);
  const off = load({ DD_OTLP_CONFIG_TRACES_ENABLED: 'false', DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_HTTP_ENDPOINT: 'localhost:4318' });
  assert.equal(off.config.otlp.httpPort, undefined);
});
