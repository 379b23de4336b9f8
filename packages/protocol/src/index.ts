export { PROTOCOL, INGRESSES } from './messages.js';
export type {
  Protocol,
  Ingress,
  TcpIngress,
  UnitEvent,
  UnitSpec,
  WireError,
  FlushReason,
  UnitFlushReport,
  PlatformEvent,
  InvocationEvent,
  RuntimeMessage,
  AppSecMessage,
  FlushCommand,
  ShutdownCommand,
  ConnectionMessage,
  DatagramsMessage,
  TelemetryMessage,
  PlatformMessage,
  InvocationMessage,
  PeerMessage,
  ApiKeyMessage,
  KeyRejectedMessage,
  BarrierCommand,
  BarrierDoneMessage,
  PeerBarrier,
  ToWorker,
  ReadyMessage,
  ErrorMessage,
  FlushedMessage,
  DrainedMessage,
  FlushRequestMessage,
  FromWorker,
  DogStatsDLines,
  MetricPoints,
  SpanData,
  SpansMessage,
  TracerSpanMessage,
  OutOfMemoryMessage,
  DurableContextMessage,
  UnitMessage,
  PeerEnvelope,
  ConnectionFrame,
  WorkerInit,
} from './messages.js';
export { classifyToWorker, classifyFromWorker, toWireError, ownArrayBuffer } from './wire.js';
export type { Classified } from './wire.js';
export { randomSpanId } from './ids.js';
export { UNIT_TABLE, UNIT_NAMES, isUnitName, accepts } from './units.js';
export type { UnitInbox, UnitName, MessageFor, UnitMessageTag, UnitTableEntry, SendToUnit } from './units.js';
export { codedError } from './errors.js';
export type { CodedError } from './errors.js';
export type { ProtocolErrorCode } from './errors.js';
