// Public types of the emulator's programmatic API.

export type InitializationType = 'on-demand' | 'provisioned-concurrency' | 'snap-start' | 'lambda-managed-instances';
export type ShutdownReason = 'spindown' | 'timeout' | 'failure';
export type LogFormat = 'Text' | 'JSON';
export type EventType = 'INVOKE' | 'SHUTDOWN';

export interface RuntimeSpec {
  /** `file.export`, resolved in taskRoot (`.js`, `.mjs`, `.cjs`), as `_HANDLER`. */
  handler: string;
  /** The function's code folder (`LAMBDA_TASK_ROOT`). */
  taskRoot: string;
  /** Node binary for the built-in Node runtime; defaults to the one running the emulator. */
  nodePath?: string;
  /** A custom runtime instead of the built-in Node one: the command and its arguments. */
  command?: string;
  args?: string[];
  /** AWS_EXECUTION_ENV the runtime sees (e.g. `AWS_Lambda_java21` for a Java-style command); the Node one by default. */
  executionEnv?: string;
}

export interface EmulatorOptions {
  /** The layer root (`/opt`): every file in `<optDir>/extensions/` is launched as an extension. */
  optDir?: string;
  /** External extensions the caller runs itself (e.g. under a debugger or in a test); not launched. */
  attachExtensions?: string[];
  /** The function runtime; without one, invocations answer `null` at once (extension-only tests). */
  runtime?: RuntimeSpec;
  functionName?: string;
  functionVersion?: string;
  memoryMB?: number;
  /** Function timeout (the whole invoke phase, extensions included). Default 3000 ms as in Lambda. */
  timeoutMs?: number;
  region?: string;
  accountId?: string;
  architecture?: 'x86_64' | 'arm64';
  initializationType?: InitializationType;
  logFormat?: LogFormat;
  /** Customer environment variables (DD_*, AWS_LAMBDA_EXEC_WRAPPER, ...), visible to all processes. */
  env?: Record<string, string>;
  /** SIGSTOP every sandbox process between invocations, as Lambda freezes the environment. */
  freeze?: boolean;
  /** Where the Lambda APIs listen (AWS_LAMBDA_RUNTIME_API); an ephemeral port by default. */
  port?: number;
  /** Init phase limit, 10 s as in Lambda. */
  initTimeoutMs?: number;
  /** Managed instances: the runtime's concurrency (AWS_LAMBDA_MAX_CONCURRENCY). */
  maxConcurrency?: number;
  /**
   * platform.initStart's runtimeVersion (default `nodejs:<major>.v1`); a durable function's names
   * `DurableFunction` (e.g. `nodejs:22.DurableFunction.v3`).
   */
  runtimeVersion?: string;
  /** Receives every log line of the sandbox, as CloudWatch would show it. */
  onLog?: (entry: SandboxLog) => void;
  /**
   * Lambda's resource limits from `memoryMB` (Linux cgroups v1 or v2): CPU quota, memory limit (OOM),
   * and the freezer between invocations (`freeze` defaults to on with limits). Where cgroups cannot be
   * made, one warning says why and the sandbox runs unlimited. Off by default.
   */
  limits?: boolean | LimitsOptions;
  /** Where the emulator's own warnings go (limits not applied); process.emitWarning by default. */
  onWarning?: (message: string) => void;
}

export interface LimitsOptions {
  /** CFS period in µs; the quota is period × memoryMB / 1769. Default 100,000. */
  cpuPeriodUs?: number;
  /** INIT runs unthrottled, as Lambda boosts it. Default true. */
  initBoost?: boolean;
  /** Apply the CPU quota. Default true. */
  cpu?: boolean;
  /** Apply the memory limit. Default true. */
  memory?: boolean;
}

export interface LimitsStatus {
  requested: boolean;
  applied: boolean;
  /** Why they were not applied. */
  reason?: string;
  cgroupVersion?: 1 | 2;
  cpuPeriodUs?: number;
  /** The CPU share after INIT, in cores. */
  cpuQuotaCores?: number;
  memoryMB?: number;
}

/** CPU ms (user + sys) per sandbox process over one phase: `runtime` and each extension by name. */
export type CpuByProcess = Record<string, number>;

export interface SandboxLog {
  source: 'function' | 'extension';
  /** The extension's name (its file name) or the function name. */
  name: string;
  stream: 'stdout' | 'stderr' | 'telemetry';
  text: string;
  time: Date;
}

export interface ExtensionTimings {
  name: string;
  /** ms from the start of the init phase to the spawn (launched extensions only). */
  spawnMs: number | undefined;
  /** ms from spawn (or init start, for attached and internal extensions) to each step. */
  registerMs: number | undefined;
  subscribeMs: number | undefined;
  readyMs: number | undefined;
}

export interface InitResult {
  status: 'success' | 'error' | 'timeout' | 'failure';
  phase: 'init' | 'invoke';
  errorType?: string;
  durationMs: number;
  extensions: ExtensionTimings[];
  /** CPU each process used from its start to the end of init. */
  cpuMs: CpuByProcess;
}

export interface InvokeOptions {
  requestId?: string;
  /** X-Ray trace header; one is generated when omitted. */
  traceId?: string;
  clientContext?: string;
  cognitoIdentity?: string;
  tenantId?: string;
  /** Called as soon as the runtime answers, before extensions finish (Lambda replies then). */
  onResponse?: (r: InvokeResponse) => void;
}

export interface InvokeResponse {
  requestId: string;
  /** The runtime's response body, or the error body. */
  payload: Buffer;
  error?: { errorType: string; errorMessage: string };
}

export interface InvokeResult extends InvokeResponse {
  status: 'success' | 'error' | 'timeout' | 'failure';
  /** start → every extension back in /next (or the timeout). */
  durationMs: number;
  /** start → the runtime's response. */
  runtimeMs: number | undefined;
  /** runtime response → every extension back in /next: the extensions' cost to the caller. */
  postRuntimeMs: number | undefined;
  /** Set when this invocation ran the (suppressed or first) init. */
  init?: InitResult;
  /** True when the sandbox was reset (timeout, crash) after this invocation. */
  reset: boolean;
  /** CPU each process used from the invoke to the end of the invocation (extensions back in /next). */
  cpuMs: CpuByProcess;
}

export interface ExtensionShutdown {
  name: string;
  /** ms from SHUTDOWN delivery to exit; undefined when it did not exit by itself. */
  exitMs: number | undefined;
  killed: boolean;
  exitCode: number | null;
}

export interface ShutdownResult {
  reason: ShutdownReason;
  durationMs: number;
  budgetMs: number;
  extensions: ExtensionShutdown[];
  runtimeKilled: boolean;
  /** CPU each process used during the shutdown phase. */
  cpuMs: CpuByProcess;
}
