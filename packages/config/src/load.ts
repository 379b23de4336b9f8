// Builds the Config from the environment and datadog.yaml. The environment wins over the file;
// `DD_X` wins over `DATADOG_X`. Nothing here throws on a bad value: it warns and uses the default.
import { arch } from 'node:process';
import { parseFlushStrategy } from './flush-strategy.js';
import { Source, isArray, isEndpointMap } from './source.js';
import type { Env } from './source.js';
import type { AwsConfig, Config, InitializationType, LoadedConfig, Ports } from './types.js';
import { workerBudget } from './workers.js';
import { readDatadogYaml } from './yaml.js';

const INIT_TYPES: readonly InitializationType[] = ['on-demand', 'provisioned-concurrency', 'snap-start', 'lambda-managed-instances'];

export interface LoadOptions {
  /** Keys (without DD_) another reader takes care of: not reported as unsupported (the mini agent's). */
  alsoRead?: readonly string[];
  /** Skip datadog.yaml (tests, or a caller that already read it). */
  readYaml?: boolean;
}

/** Trailing slashes trimmed; `https://` prepended when no scheme is given. */
export function normalizeUrl(url: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`;
  return withScheme.replace(/\/+$/, '');
}

function readAws(src: Source): AwsConfig {
  const memory = src.plain('AWS_LAMBDA_FUNCTION_MEMORY_SIZE');
  const memorySizeMB = memory !== undefined && /^\d+$/.test(memory) ? Number(memory) : undefined;
  if (memory !== undefined && memorySizeMB === undefined) src.warnings.push('AWS_LAMBDA_FUNCTION_MEMORY_SIZE: not an integer; ignored');
  const initType = src.plain('AWS_LAMBDA_INITIALIZATION_TYPE') as InitializationType | undefined;
  const concurrency = src.plain('AWS_LAMBDA_MAX_CONCURRENCY');
  return {
    runtimeApi: src.plain('AWS_LAMBDA_RUNTIME_API'),
    functionName: src.plain('AWS_LAMBDA_FUNCTION_NAME') ?? 'unknown',
    functionVersion: src.plain('AWS_LAMBDA_FUNCTION_VERSION') ?? '$LATEST',
    region: src.plain('AWS_REGION') ?? src.plain('AWS_DEFAULT_REGION') ?? 'us-east-1',
    memorySizeMB,
    initializationType: initType !== undefined && INIT_TYPES.includes(initType) ? initType : 'on-demand',
    executionEnv: src.plain('AWS_EXECUTION_ENV'),
    taskRoot: src.plain('LAMBDA_TASK_ROOT') ?? '/var/task',
    architecture: arch === 'arm64' ? 'arm64' : 'x86_64',
    maxConcurrency: concurrency !== undefined && /^\d+$/.test(concurrency) ? Number(concurrency) : undefined,
  };
}

function readPorts(src: Source): Ports {
  return {
    apm: src.int('APM_RECEIVER_PORT', 8126, 1, 65535),
    dogstatsd: src.int('DOGSTATSD_PORT', 8125, 1, 65535),
    lifecycle: src.int('EXTENSION_LIFECYCLE_PORT', 8124, 1, 65535),
    telemetry: src.int('EXTENSION_TELEMETRY_PORT', 8999, 1, 65535),
  };
}

const MiB = 1024 * 1024;

/**
 * The OTLP receiver's ports (DataDog/datadog-lambda-extension, bottlecap/src/otlp/agent.rs): an endpoint
 * turns its protocol on; the port is what follows the last `:` (the default when it does not parse),
 * and it always binds 127.0.0.1. DD_OTLP_CONFIG_TRACES_ENABLED=false turns both off.
 */
function readOtlp(src: Source): Config['otlp'] {
  const enabled = src.bool('OTLP_CONFIG_TRACES_ENABLED', true);
  const port = (key: string, def: number): number | undefined => {
    const endpoint = src.str(key);
    if (endpoint === undefined || !enabled) return undefined;
    const tail =
      endpoint
        .replace(/^https?:\/\//, '')
        .split(':')
        .pop() ?? '';
    const n = /^\d{1,5}$/.test(tail) ? Number(tail) : NaN;
    if (n >= 1 && n <= 65535) return n;
    src.warn(key, `host:port (port ${def} used)`);
    return def;
  };
  const mib = src.int('OTLP_CONFIG_RECEIVER_PROTOCOLS_GRPC_MAX_RECV_MSG_SIZE_MIB', 4, 1, 50);
  return {
    httpPort: port('OTLP_CONFIG_RECEIVER_PROTOCOLS_HTTP_ENDPOINT', 4318),
    grpcPort: port('OTLP_CONFIG_RECEIVER_PROTOCOLS_GRPC_ENDPOINT', 4317),
    grpcMaxRecvBytes: mib * MiB,
  };
}

/** `k:v` separated by commas or spaces; a bare `k` becomes `k:` as the agent keeps it. */
function readTags(src: Source): [string, string][] {
  return src.list('TAGS', [], /[,\s]+/).map((item) => {
    const i = item.indexOf(':');
    return i < 0 ? [item, ''] : [item.slice(0, i), item.slice(i + 1)];
  });
}

/**
 * Variables that are the function's libraries' business, not the extension's (the tracers, the
 * datadog-lambda libraries, the exec wrapper): the same environment reaches both, so these are never
 * reported as unsupported.
 */
const LIBRARY_PREFIXES = [
  'DD_TRACE_',
  'DD_PROFILING_',
  'DD_RUNTIME_METRICS',
  'DD_INSTRUMENTATION_',
  'DD_APPSEC_',
  'DD_IAST_',
  'DD_DBM_',
  'DD_DATA_STREAMS_',
  'DD_DYNAMIC_INSTRUMENTATION_',
  'DD_EXCEPTION_',
  'DD_CIVISIBILITY_',
  'DD_REMOTE_CONFIG',
  'DD_TELEMETRY_',
  'DD_DOTNET_',
  'DD_CLR_',
  'DD_JMXFETCH_',
  'DD_INTEGRATION',
  'DD_LAMBDA_',
  'DD_COLD_START_',
  'DD_LOGS_INJECTION',
  'DD_AGENT_',
  'DD_DOGSTATSD_URL',
  'DD_LLMOBS_',
  'DD_OPENAI_',
  'DD_LANGCHAIN_',
  'DD_SPAN_SAMPLING',
];
const LIBRARY_NAMES = new Set([
  'DD_FLUSH_TO_LOG',
  'DD_MERGE_XRAY_TRACES',
  'DD_MIN_COLD_START_DURATION',
  'DD_ENCODE_AUTHORIZER_CONTEXT',
  'DD_DECODE_AUTHORIZER_CONTEXT',
  'DD_LOCAL_TESTING',
  'DD_CREATE_INFERRED_SPANS',
  'DD_SERVERLESS_APPSEC_ENABLED',
  'DD_EXPERIMENTAL_ENABLE_PROXY',
  'DD_EXTENSION_RUNTIME_PROXY_PORT',
  'DD_HANDLER',
  'DD_TAGS_FROM_ENV',
  'DD_ENHANCED_METRICS',
  'DD_LOG_INJECTION',
  'DD_SOURCE_MAPS',
  'DD_GIT_COMMIT_SHA',
  'DD_GIT_REPOSITORY_URL',
  'DD_STARTUP_LOGS',
  'DD_PLUGIN',
  'DD_SERVERLESS_STREAMING_ENABLED',
  'DD_COLD_START_TRACING',
  'DD_CAPTURE_LAMBDA_PAYLOAD_MAX_DEPTH',
]);

/** DD_* variables that are set, that this extension never read, and that no library reads either. */
export function unsupportedVariables(env: Env, read: ReadonlySet<string>): string[] {
  return Object.keys(env)
    .filter((k) => k.startsWith('DD_') && env[k] !== undefined && env[k]?.trim() !== '')
    .filter((k) => !read.has(k.slice(3)) && !LIBRARY_NAMES.has(k) && !LIBRARY_PREFIXES.some((p) => k.startsWith(p)))
    .sort();
}

export function loadConfig(env: Env, options: LoadOptions = {}): LoadedConfig {
  const bootstrap = new Source(env);
  const aws = readAws(bootstrap);
  const yaml = options.readYaml === false ? { values: new Map<string, string>(), file: undefined, error: undefined } : readDatadogYaml(aws.taskRoot);
  const src = new Source(env, yaml.values);
  src.warnings.push(...bootstrap.warnings);
  if (yaml.error !== undefined) src.warnings.push(yaml.error);

  const site = (src.str('SITE') ?? 'datadoghq.com').replace(/\/+$/, '');
  const compressionLevel = src.int('COMPRESSION_LEVEL', 3, 0, 22);
  const rawStrategy = src.str('SERVERLESS_FLUSH_STRATEGY');
  const strategy = parseFlushStrategy(rawStrategy);
  if (strategy.invalid) src.warn('SERVERLESS_FLUSH_STRATEGY', 'end, end,<ms>, periodically,<ms> or continuously,<ms>');
  const budget = workerBudget(aws.memorySizeMB, src.optInt('EXTENSION_WORKERS', 1, 64));

  // DD_SERVERLESS_LOGS_ENABLED (default true) and DD_LOGS_ENABLED: when either is set, logs are on if either is true.
  const serverlessLogs = src.optBool('SERVERLESS_LOGS_ENABLED');
  const logs = src.optBool('LOGS_ENABLED');
  const logsEnabled = serverlessLogs === undefined && logs === undefined ? true : serverlessLogs === true || logs === true;

  const propagation = src.list('TRACE_PROPAGATION_STYLE', ['datadog', 'tracecontext']).map((s) => s.toLowerCase());
  const apiKey = src.str('API_KEY')?.replace(/\s+/g, '');
  const version = src.str('VERSION');

  const config: Config = {
    aws,
    origin: 'lambda',
    ports: readPorts(src),
    otlp: readOtlp(src),
    apmReceiverSocket: src.str('APM_RECEIVER_SOCKET'),
    apmWindowsPipeName: src.str('APM_WINDOWS_PIPE_NAME'),
    workers: budget.workers,
    workersSource: budget.source,
    checkpoints: src.str('EXTENSION_CHECKPOINTS'),

    site,
    apiKey: apiKey === '' ? undefined : apiKey,
    kmsApiKey: src.str('KMS_API_KEY'),
    apiKeySecretArn: src.str('API_KEY_SECRET_ARN'),
    apiKeySsmArn: src.str('API_KEY_SSM_ARN'),
    apiKeySecretReloadIntervalS: src.optInt('API_KEY_SECRET_RELOAD_INTERVAL', 1),
    logLevel: src.logLevel('LOG_LEVEL', 'info'),
    flushTimeoutMs: src.int('FLUSH_TIMEOUT', 30, 1, 3600) * 1000,
    compressionLevel,
    proxyHttps: src.str('PROXY_HTTPS') ?? bootstrap.plain('HTTPS_PROXY') ?? bootstrap.plain('https_proxy'),
    proxyNoProxy: src.list(
      'PROXY_NO_PROXY',
      (bootstrap.plain('NO_PROXY') ?? bootstrap.plain('no_proxy') ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
    httpProtocol: ((): 'http1' | 'http2' | undefined => {
      const v = src.str('HTTP_PROTOCOL')?.toLowerCase();
      if (v === undefined) return undefined;
      if (v === 'http1' || v === 'http2') return v;
      src.warn('HTTP_PROTOCOL', 'http1 or http2');
      return undefined;
    })(),
    tlsCertFile: src.str('TLS_CERT_FILE'),
    skipSslValidation: src.bool('SKIP_SSL_VALIDATION', false),
    additionalEndpoints: src.json('ADDITIONAL_ENDPOINTS', {}, isEndpointMap),

    urls: {
      apm: normalizeUrl(src.str('APM_DD_URL') ?? `https://trace.agent.${site}`),
      metrics: normalizeUrl(src.str('DD_URL') ?? src.str('URL') ?? `https://api.${site}`),
      logs: normalizeUrl(src.str('LOGS_CONFIG_LOGS_DD_URL') ?? `https://http-intake.logs.${site}`),
      apmProxy: ((u) => (u === undefined ? undefined : normalizeUrl(u)))(src.str('EXTENSION_APM_PROXY_URL')),
    },

    env: src.str('ENV'),
    service: src.str('SERVICE'),
    version,
    tags: readTags(src),

    logsEnabled,
    logsProcessingRules: src.json('LOGS_CONFIG_PROCESSING_RULES', [], isArray),
    logsUseCompression: src.bool('LOGS_CONFIG_USE_COMPRESSION', true),
    logsCompressionLevel: src.int('LOGS_CONFIG_COMPRESSION_LEVEL', compressionLevel, 0, 22),
    logsAdditionalEndpoints: src.json('LOGS_CONFIG_ADDITIONAL_ENDPOINTS', [], isArray),
    observabilityPipelinesWorkerLogsEnabled: src.bool('OBSERVABILITY_PIPELINES_WORKER_LOGS_ENABLED', false),
    observabilityPipelinesWorkerLogsUrl: src.str('OBSERVABILITY_PIPELINES_WORKER_LOGS_URL'),

    serviceMapping: src.pairs('SERVICE_MAPPING'),
    apmReplaceTags: src.json('APM_REPLACE_TAGS', [], isArray),
    apmObfuscationHttpRemoveQueryString: src.bool('APM_CONFIG_OBFUSCATION_HTTP_REMOVE_QUERY_STRING', false),
    apmObfuscationHttpRemovePathsWithDigits: src.bool('APM_CONFIG_OBFUSCATION_HTTP_REMOVE_PATHS_WITH_DIGITS', false),
    apmObfuscation: {
      redis: src.bool('APM_OBFUSCATION_REDIS_ENABLED', false),
      redisRemoveAllArgs: src.bool('APM_OBFUSCATION_REDIS_REMOVE_ALL_ARGS', false),
      memcached: src.bool('APM_OBFUSCATION_MEMCACHED_ENABLED', false),
      mongodb: src.bool('APM_OBFUSCATION_MONGODB_ENABLED', true),
      elasticsearch: src.bool('APM_OBFUSCATION_ELASTICSEARCH_ENABLED', true),
      opensearch: src.bool('APM_OBFUSCATION_OPENSEARCH_ENABLED', true),
      creditCards: src.bool('APM_OBFUSCATION_CREDIT_CARDS_ENABLED', true),
    },
    apmCompressionLevel: src.int('APM_CONFIG_COMPRESSION_LEVEL', compressionLevel, 0, 22),
    apmFeatures: src.list('APM_FEATURES'),
    apmAdditionalEndpoints: src.json('APM_ADDITIONAL_ENDPOINTS', {}, isEndpointMap),
    apmFilterTagsRequire: src.list('APM_FILTER_TAGS_REQUIRE', [], /\s+/),
    apmFilterTagsReject: src.list('APM_FILTER_TAGS_REJECT', [], /\s+/),
    apmFilterTagsRegexRequire: src.list('APM_FILTER_TAGS_REGEX_REQUIRE', [], /\s+/),
    apmFilterTagsRegexReject: src.list('APM_FILTER_TAGS_REGEX_REJECT', [], /\s+/),
    traceAwsServiceRepresentationEnabled: src.bool('TRACE_AWS_SERVICE_REPRESENTATION_ENABLED', true),
    tracePropagationStyle: propagation,
    tracePropagationStyleExtract: src.list('TRACE_PROPAGATION_STYLE_EXTRACT', propagation).map((s) => s.toLowerCase()),
    tracePropagationExtractFirst: src.bool('TRACE_PROPAGATION_EXTRACT_FIRST', false),
    tracePropagationHttpBaggageEnabled: src.bool('TRACE_PROPAGATION_HTTP_BAGGAGE_ENABLED', false),
    computeStats: src.bool('LAMBDA_EXTENSION_COMPUTE_STATS', false),
    spanDedupTimeoutS: src.optInt('SPAN_DEDUP_TIMEOUT', 1),

    metricsCompressionLevel: src.int('METRICS_CONFIG_COMPRESSION_LEVEL', compressionLevel, 0, 22),
    statsdMetricNamespace: src.str('STATSD_METRIC_NAMESPACE'),
    dogstatsdSoRcvbuf: src.optInt('DOGSTATSD_SO_RCVBUF', 1),
    dogstatsdBufferSize: src.int('DOGSTATSD_BUFFER_SIZE', 8192, 512, 1 << 20),
    dogstatsdQueueSize: src.int('DOGSTATSD_QUEUE_SIZE', 1024, 1, 1 << 20),
    customerMetricsExcludeTags: src.list('LAMBDA_CUSTOMER_METRICS_EXCLUDE_TAGS'),

    flushStrategy: strategy.strategy,
    enhancedMetrics: src.bool('ENHANCED_METRICS', true),
    procEnhancedMetrics: src.bool('LAMBDA_PROC_ENHANCED_METRICS', true),
    captureLambdaPayload: src.bool('CAPTURE_LAMBDA_PAYLOAD', false),
    captureLambdaPayloadMaxDepth: src.int('CAPTURE_LAMBDA_PAYLOAD_MAX_DEPTH', 10, 0, 100),
    appsecEnabled: src.bool('SERVERLESS_APPSEC_ENABLED', false),
    runtimeProxy: {
      // bottlecap checks for /opt/datadog_wrapper; the basename lets a layer mounted elsewhere (tests) count too.
      enabled:
        (src.plain('AWS_LAMBDA_EXEC_WRAPPER') ?? '').split('/').pop() === 'datadog_wrapper' &&
        (src.bool('SERVERLESS_APPSEC_ENABLED', false) || src.bool('EXPERIMENTAL_ENABLE_PROXY', false)),
      port: src.int('EXTENSION_RUNTIME_PROXY_PORT', 9000, 1, 65535),
    },
    appsecRules: src.str('APPSEC_RULES'),
    appsecWafTimeoutUs: src.int('APPSEC_WAF_TIMEOUT', 5000, 1),
    apiSecurityEnabled: src.bool('API_SECURITY_ENABLED', true),
    apiSecuritySampleDelayS: src.num('API_SECURITY_SAMPLE_DELAY', 30),
    durableFunctionLogBufferSize: src.int('LAMBDA_DURABLE_FUNCTION_LOG_BUFFER_SIZE', 0, 0),
  };
  const unsupported = unsupportedVariables(env, new Set([...src.read, ...bootstrap.read, ...(options.alsoRead ?? [])]));
  if (unsupported.length > 0) src.warnings.push(`set but not supported by this extension, so ignored: ${unsupported.join(', ')}`);
  const read = [...new Set([...src.read, ...bootstrap.read])].map((k) => `DD_${k}`).sort();
  return { config: deepFreeze(config), warnings: src.warnings, yamlFile: yaml.file, read };
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
