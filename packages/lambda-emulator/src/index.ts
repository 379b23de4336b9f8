export { LambdaEmulator } from './emulator.js';
export { listExtensionFiles } from './environment.js';
export { newTraceHeader } from './invocations.js';
export { MAX_RESPONSE_BYTES } from './runtime-api.js';
export { EmulatorError, ErrorType } from './errors.js';
export type { EmulatorErrorCode, ErrorTypeName } from './errors.js';
export { TelemetryHub, Subscriber } from './telemetry.js';
export { validateSubscription, BUFFERING_LIMITS, SCHEMA_VERSIONS } from './subscription.js';
export type { TelemetryEvent, TelemetryType, DeliveryStats } from './telemetry.js';
export type { SchemaVersion, SubscriptionRequest } from './subscription.js';
export { detectHierarchies, SandboxCgroups, MB_PER_VCPU, DEFAULT_CPU_PERIOD_US } from './cgroups.js';
export { buildFrontDoor, toEvent, fromResult } from './front-door.js';
export type { FrontDoorOptions, EventSource, HttpRequestLike, HttpResponseLike } from './front-door.js';
export type {
  EmulatorOptions,
  RuntimeSpec,
  InitializationType,
  ShutdownReason,
  LogFormat,
  EventType,
  SandboxLog,
  ExtensionTimings,
  InitResult,
  InvokeOptions,
  InvokeResponse,
  InvokeResult,
  ExtensionShutdown,
  ShutdownResult,
  LimitsOptions,
  LimitsStatus,
  CpuByProcess,
} from './types.js';
