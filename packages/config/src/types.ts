// The configuration every thread shares. Plain data only: it is frozen on the main thread and
// structured-cloned into each worker's workerData.

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** DD_SERVERLESS_FLUSH_STRATEGY (DataDog/datadog-lambda-extension, bottlecap/src/lifecycle/flush_control.rs). */
export type FlushStrategy =
  | { kind: 'default' }
  | { kind: 'end' }
  | { kind: 'end-periodically'; intervalMs: number }
  | { kind: 'periodically'; intervalMs: number }
  | { kind: 'continuously'; intervalMs: number };

export type InitializationType = 'on-demand' | 'provisioned-concurrency' | 'snap-start' | 'lambda-managed-instances';

export interface AwsConfig {
  /** host:port of the Lambda APIs (AWS_LAMBDA_RUNTIME_API). */
  runtimeApi: string | undefined;
  functionName: string;
  functionVersion: string;
  region: string;
  memorySizeMB: number | undefined;
  initializationType: InitializationType;
  /** AWS_EXECUTION_ENV, e.g. AWS_Lambda_nodejs20.x; absent on custom runtimes. */
  executionEnv: string | undefined;
  taskRoot: string;
  architecture: 'x86_64' | 'arm64';
  /** Managed instances only: the runtime's concurrency. */
  maxConcurrency: number | undefined;
}

export interface Ports {
  apm: number;
  dogstatsd: number;
  lifecycle: number;
  telemetry: number;
}

/** Where the worker budget came from, for the assignment log line. */
export type WorkerBudgetSource = 'DD_EXTENSION_WORKERS' | 'memory' | 'default';

export interface Config {
  aws: AwsConfig;
  /**
   * The `_dd.origin` and `origin` of spans and proxied payloads: `lambda` in the extension; the mini
   * agent sets its platform's (`cloudfunction`, `azurefunction`, `appservice`).
   */
  origin: string;
  ports: Ports;
  /**
   * The OTLP trace receiver on 127.0.0.1, off unless an endpoint is configured
   * (DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_{HTTP,GRPC}_ENDPOINT; only the port is used, as bottlecap does).
   */
  otlp: { httpPort: number | undefined; grpcPort: number | undefined; grpcMaxRecvBytes: number };
  /** DD_APM_RECEIVER_SOCKET: also serve traces on this Unix socket. */
  apmReceiverSocket: string | undefined;
  /** DD_APM_WINDOWS_PIPE_NAME: on Windows, the named pipe served instead of the Unix socket. */
  apmWindowsPipeName: string | undefined;
  workers: number;
  workersSource: WorkerBudgetSource;
  /** DD_EXTENSION_CHECKPOINTS: `1`/`true`/`stdout` prints a line, an absolute path appends JSON lines there. */
  checkpoints: string | undefined;

  site: string;
  apiKey: string | undefined;
  kmsApiKey: string | undefined;
  apiKeySecretArn: string | undefined;
  apiKeySsmArn: string | undefined;
  apiKeySecretReloadIntervalS: number | undefined;
  logLevel: LogLevel;
  flushTimeoutMs: number;
  compressionLevel: number;
  proxyHttps: string | undefined;
  proxyNoProxy: string[];
  httpProtocol: 'http1' | 'http2' | undefined;
  tlsCertFile: string | undefined;
  skipSslValidation: boolean;
  additionalEndpoints: Record<string, string[]>;

  /** Base URLs (no trailing slash); pipelines append their paths. */
  urls: {
    apm: string;
    metrics: string;
    logs: string;
    /** DD_EXTENSION_APM_PROXY_URL: one base for every APM proxy route instead of each product's host (relays, tests). */
    apmProxy: string | undefined;
  };

  env: string | undefined;
  service: string | undefined;
  version: string | undefined;
  /** DD_TAGS pairs, in order; they override function tags of the same key. */
  tags: [string, string][];

  logsEnabled: boolean;
  logsProcessingRules: unknown[];
  logsUseCompression: boolean;
  logsCompressionLevel: number;
  logsAdditionalEndpoints: unknown[];
  observabilityPipelinesWorkerLogsEnabled: boolean;
  observabilityPipelinesWorkerLogsUrl: string | undefined;

  serviceMapping: Record<string, string>;
  apmReplaceTags: unknown[];
  apmObfuscationHttpRemoveQueryString: boolean;
  apmObfuscationHttpRemovePathsWithDigits: boolean;
  /** DD_APM_OBFUSCATION_*: the obfuscators beyond SQL, redis resources and URLs (always on). */
  apmObfuscation: {
    redis: boolean;
    redisRemoveAllArgs: boolean;
    memcached: boolean;
    mongodb: boolean;
    elasticsearch: boolean;
    opensearch: boolean;
    creditCards: boolean;
  };
  apmCompressionLevel: number;
  apmFeatures: string[];
  apmAdditionalEndpoints: Record<string, string[]>;
  apmFilterTagsRequire: string[];
  apmFilterTagsReject: string[];
  apmFilterTagsRegexRequire: string[];
  apmFilterTagsRegexReject: string[];
  traceAwsServiceRepresentationEnabled: boolean;
  tracePropagationStyle: string[];
  tracePropagationStyleExtract: string[];
  tracePropagationExtractFirst: boolean;
  tracePropagationHttpBaggageEnabled: boolean;
  computeStats: boolean;
  spanDedupTimeoutS: number | undefined;

  metricsCompressionLevel: number;
  statsdMetricNamespace: string | undefined;
  dogstatsdSoRcvbuf: number | undefined;
  dogstatsdBufferSize: number;
  dogstatsdQueueSize: number;
  customerMetricsExcludeTags: string[];

  flushStrategy: FlushStrategy;
  enhancedMetrics: boolean;
  procEnhancedMetrics: boolean;
  captureLambdaPayload: boolean;
  captureLambdaPayloadMaxDepth: number;
  appsecEnabled: boolean;
  /**
   * The runtime-API proxy: on when AWS_LAMBDA_EXEC_WRAPPER is the layer's datadog_wrapper and AppSec
   * or DD_EXPERIMENTAL_ENABLE_PROXY is on; DD_EXTENSION_RUNTIME_PROXY_PORT (9000), as the wrapper reads it.
   */
  runtimeProxy: { enabled: boolean; port: number };
  appsecRules: string | undefined;
  appsecWafTimeoutUs: number;
  apiSecurityEnabled: boolean;
  apiSecuritySampleDelayS: number;
  durableFunctionLogBufferSize: number;
}

export interface LoadedConfig {
  config: Readonly<Config>;
  /** Values that could not be parsed and fell back to their default; never contains secrets. */
  warnings: string[];
  /** Where datadog.yaml was read from, if it was. */
  yamlFile: string | undefined;
  /** Every `DD_*` variable the extension reads (set or not): what the README's parity table is checked against. */
  read: string[];
}
