// Decoder tables for the protobuf payloads the intake accepts. They mirror proto/*.proto field
// for field; test/roundtrip.test.ts encodes with protobufjs from those files and decodes with
// these tables, so the two cannot drift apart silently.

import type { MessageSchema } from './protobuf.js';

export const SpanLinkSchema: MessageSchema = {
  name: 'SpanLink',
  fields: [
    { no: 1, name: 'traceID', type: 'uint64' },
    { no: 2, name: 'traceID_high', type: 'uint64' },
    { no: 3, name: 'spanID', type: 'uint64' },
    { no: 4, name: 'attributes', map: ['string', 'string'] },
    { no: 5, name: 'tracestate', type: 'string' },
    { no: 6, name: 'flags', type: 'uint32' },
  ],
};

export const SpanSchema: MessageSchema = {
  name: 'Span',
  fields: [
    { no: 1, name: 'service', type: 'string' },
    { no: 2, name: 'name', type: 'string' },
    { no: 3, name: 'resource', type: 'string' },
    { no: 4, name: 'traceID', type: 'uint64' },
    { no: 5, name: 'spanID', type: 'uint64' },
    { no: 6, name: 'parentID', type: 'uint64' },
    { no: 7, name: 'start', type: 'int64' },
    { no: 8, name: 'duration', type: 'int64' },
    { no: 9, name: 'error', type: 'int32' },
    { no: 10, name: 'meta', map: ['string', 'string'] },
    { no: 11, name: 'metrics', map: ['string', 'double'] },
    { no: 12, name: 'type', type: 'string' },
    { no: 13, name: 'meta_struct', map: ['string', 'bytes'] },
    { no: 14, name: 'spanLinks', message: SpanLinkSchema, repeated: true },
  ],
};

export const TraceChunkSchema: MessageSchema = {
  name: 'TraceChunk',
  fields: [
    { no: 1, name: 'priority', type: 'int32' },
    { no: 2, name: 'origin', type: 'string' },
    { no: 3, name: 'spans', message: SpanSchema, repeated: true },
    { no: 4, name: 'tags', map: ['string', 'string'] },
    { no: 5, name: 'droppedTrace', type: 'bool' },
  ],
};

export const TracerPayloadSchema: MessageSchema = {
  name: 'TracerPayload',
  fields: [
    { no: 1, name: 'containerID', type: 'string' },
    { no: 2, name: 'languageName', type: 'string' },
    { no: 3, name: 'languageVersion', type: 'string' },
    { no: 4, name: 'tracerVersion', type: 'string' },
    { no: 5, name: 'runtimeID', type: 'string' },
    { no: 6, name: 'chunks', message: TraceChunkSchema, repeated: true },
    { no: 7, name: 'tags', map: ['string', 'string'] },
    { no: 8, name: 'env', type: 'string' },
    { no: 9, name: 'hostname', type: 'string' },
    { no: 10, name: 'appVersion', type: 'string' },
    { no: 11, name: 'APMMode', type: 'string' },
  ],
};

export const AgentPayloadSchema: MessageSchema = {
  name: 'AgentPayload',
  fields: [
    { no: 1, name: 'hostName', type: 'string' },
    { no: 2, name: 'env', type: 'string' },
    { no: 5, name: 'tracerPayloads', message: TracerPayloadSchema, repeated: true },
    { no: 6, name: 'tags', map: ['string', 'string'] },
    { no: 7, name: 'agentVersion', type: 'string' },
    { no: 8, name: 'targetTPS', type: 'double' },
    { no: 9, name: 'errorTPS', type: 'double' },
    { no: 10, name: 'rareSamplerEnabled', type: 'bool' },
    { no: 12, name: 'APMMode', type: 'string' },
  ],
};

export const CommonMetadataSchema: MessageSchema = {
  name: 'CommonMetadata',
  fields: [
    { no: 1, name: 'agent_version', type: 'string' },
    { no: 2, name: 'timezone', type: 'string' },
    { no: 3, name: 'current_epoch', type: 'double' },
    { no: 4, name: 'internal_ip', type: 'string' },
    { no: 5, name: 'public_ip', type: 'string' },
    { no: 6, name: 'api_key', type: 'string' },
  ],
};

const sketchSummary = [
  { no: 1, name: 'ts', type: 'int64' },
  { no: 2, name: 'cnt', type: 'int64' },
  { no: 3, name: 'min', type: 'double' },
  { no: 4, name: 'max', type: 'double' },
  { no: 5, name: 'avg', type: 'double' },
  { no: 6, name: 'sum', type: 'double' },
] as const;

export const DistributionSchema: MessageSchema = {
  name: 'Distribution',
  fields: [
    ...sketchSummary,
    { no: 7, name: 'v', type: 'double', repeated: true },
    { no: 8, name: 'g', type: 'uint32', repeated: true },
    { no: 9, name: 'delta', type: 'uint32', repeated: true },
    { no: 10, name: 'buf', type: 'double', repeated: true },
  ],
};

export const DogsketchSchema: MessageSchema = {
  name: 'Dogsketch',
  fields: [...sketchSummary, { no: 7, name: 'k', type: 'sint32', repeated: true }, { no: 8, name: 'n', type: 'uint32', repeated: true }],
};

/** Metrics origin metadata (DataDog/agent-payload proto/metrics/agent_payload.proto: Origin, Metadata). */
export const OriginSchema: MessageSchema = {
  name: 'Origin',
  reserved: [1, 2, 3],
  fields: [
    { no: 4, name: 'origin_product', type: 'uint32' },
    { no: 5, name: 'origin_category', type: 'uint32' },
    { no: 6, name: 'origin_service', type: 'uint32' },
  ],
};

export const MetricsMetadataSchema: MessageSchema = {
  name: 'Metadata',
  fields: [{ no: 1, name: 'origin', message: OriginSchema }],
};

export const SketchSchema: MessageSchema = {
  name: 'Sketch',
  reserved: [5, 6],
  fields: [
    { no: 1, name: 'metric', type: 'string' },
    { no: 2, name: 'host', type: 'string' },
    { no: 3, name: 'distributions', message: DistributionSchema, repeated: true },
    { no: 4, name: 'tags', type: 'string', repeated: true },
    { no: 7, name: 'dogsketches', message: DogsketchSchema, repeated: true },
    { no: 8, name: 'metadata', message: MetricsMetadataSchema },
  ],
};

export const SketchPayloadSchema: MessageSchema = {
  name: 'SketchPayload',
  fields: [
    { no: 1, name: 'sketches', message: SketchSchema, repeated: true },
    { no: 2, name: 'metadata', message: CommonMetadataSchema },
  ],
};
