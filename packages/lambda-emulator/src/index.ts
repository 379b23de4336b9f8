export { LambdaEmulator, listExtensionFiles, newTraceHeader, MAX_RESPONSE_BYTES } from './emulator.js';
export { EmulatorError, ErrorType } from './errors.js';
export type { EmulatorErrorCode, ErrorTypeName } from './errors.js';
export { TelemetryHub, Subscriber, validateSubscription, BUFFERING_LIMITS, SCHEMA_VERSIONS } from './telemetry.js';
export type { TelemetryEvent, TelemetryType, SchemaVersion, SubscriptionRequest, DeliveryStats } from './telemetry.js';
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
