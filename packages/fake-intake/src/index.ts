export { FakeIntake, buildFakeIntake, jsonReplacer, ROUTES, PROXY_PATHS } from './intake.js';
export type { FakeIntakeOptions, FaultRule, Fault, SpanRecord, MetricPoint, MetricKind, SketchPoint } from './intake.js';
export { IntakeError } from './errors.js';
export type { IntakeErrorCode } from './errors.js';
export { decodeMessage } from './protobuf.js';
export type { MessageSchema, FieldSchema, ScalarType, Decoded } from './protobuf.js';
export { AgentPayloadSchema, SketchPayloadSchema } from './schemas.js';
export { decompress, decodeTraces, decodeStats, decodeSeries, decodeSketches, decodeLogs, decodeEvent, decodeCheckRuns } from './decode.js';
export type {
  AgentPayload,
  TracerPayload,
  TraceChunk,
  Span,
  SpanLink,
  SketchPayload,
  Sketch,
  MetricOrigin,
  Dogsketch,
  Series,
  SeriesPayload,
  LogEntry,
  EventPayload,
  CheckRun,
  StatsObject,
  StatsValue,
  PayloadKind,
  RecordedRequest,
} from './types.js';
