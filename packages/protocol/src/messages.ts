// Every message that crosses a thread boundary in the extension. Three kinds of channel exist:
//  - parentPort (control): supervisor <-> one worker. READY first; nothing is sent to a worker before it.
//  - a connection channel per accepted TCP connection: raw bytes both ways plus end/close frames.
//  - peer channels between two workers, wired by the supervisor, carrying unit-to-unit messages.
// Every control message carries the marker `p`; anything without it is foreign and ignored, and a
// marked message with an unknown tag is a bug that tears the worker down.
import type { MessagePort } from 'node:worker_threads';

export const PROTOCOL = 'ddl/1' as const;
export type Protocol = typeof PROTOCOL;

/** Inbound sockets the supervisor owns. Each is served by exactly one unit. */
export type Ingress = 'apm' | 'dogstatsd' | 'lifecycle' | 'telemetry' | 'otlp-http' | 'otlp-grpc';
export type TcpIngress = 'apm' | 'lifecycle' | 'otlp-http' | 'otlp-grpc';
export const INGRESSES: readonly Ingress[] = ['apm', 'dogstatsd', 'lifecycle', 'telemetry', 'otlp-http', 'otlp-grpc'];

/** What a unit may subscribe to besides its ingress. */
export type UnitEvent = 'platform' | 'invocation' | 'runtime';

/** One entry of the layer's `units.json`: a pipeline unit and what it owns. */
export interface UnitSpec {
  name: string;
  /** Path of the unit's module, relative to the directory that holds units.json (or absolute). */
  module: string;
  ingress: Ingress[];
  events: UnitEvent[];
  /** Relative CPU weight used to spread units over workers; 1 when absent. */
  weight?: number;
  /** A boolean Config field that must be true for the unit to run (e.g. `appsecEnabled`). */
  enabledBy?: string;
}

/** An error as it crosses postMessage: receivers match on `code`, never on class. */
export interface WireError {
  code: string;
  message: string;
  stack?: string;
}

export type FlushReason = 'end' | 'periodic' | 'continuous' | 'interval' | 'requested' | 'shutdown';

/** What one unit did during a flush. Counts are items (spans, points, log lines) as the unit defines them. */
export interface UnitFlushReport {
  unit: string;
  ok: boolean;
  sent: number;
  /** Items the unit gave up on (4xx from the intake, retries exhausted, buffer caps). */
  dropped: number;
  /** Items still held for a later flush (retryable failure, or a flush cut short by its deadline). */
  pending: number;
  durationMs: number;
  error?: WireError;
}

/** A Telemetry API `platform.*` event, as the platform sends it. */
export interface PlatformEvent {
  time: string;
  type: string;
  record: unknown;
}

/** A lifecycle event from the Extensions API `/next`. */
export type InvocationEvent =
  | { kind: 'invoke'; requestId: string; deadlineMs: number; invokedFunctionArn: string; receivedAt: number }
  | { kind: 'shutdown'; reason: string; deadlineMs: number; receivedAt: number };

// ---- supervisor -> worker (parentPort) ----

export interface FlushCommand {
  p: Protocol;
  t: 'FLUSH';
  id: number;
  reason: FlushReason;
  deadline: number;
}
/** Stop inputs, finish in-flight work, flush everything, then answer DRAINED. */
export interface ShutdownCommand {
  p: Protocol;
  t: 'SHUTDOWN';
  id: number;
  deadline: number;
}
/** A TCP connection accepted by the supervisor; its bytes travel over `port`. */
export interface ConnectionMessage {
  p: Protocol;
  t: 'CONNECTION';
  unit: string;
  ingress: TcpIngress;
  connId: number;
  port: MessagePort;
}
/** A batch of datagrams packed back to back; `lengths[i]` is the size of datagram i. */
export interface DatagramsMessage {
  p: Protocol;
  t: 'DATAGRAMS';
  unit: string;
  data: ArrayBuffer;
  lengths: number[];
}
/** One Telemetry API POST body, unparsed. */
export interface TelemetryMessage {
  p: Protocol;
  t: 'TELEMETRY';
  unit: string;
  data: ArrayBuffer;
}
/** The runtime-API proxy's copy of one invocation's event (from /next) or result (/response, /error). */
export interface RuntimeMessage {
  p: Protocol;
  t: 'RUNTIME';
  unit: string;
  requestId: string;
  kind: 'event' | 'response' | 'error';
  /** The body, transferred. */
  data: ArrayBuffer;
}
export interface PlatformMessage {
  p: Protocol;
  t: 'PLATFORM';
  unit: string;
  events: PlatformEvent[];
}
export interface InvocationMessage {
  p: Protocol;
  t: 'INVOCATION';
  unit: string;
  event: InvocationEvent;
}
/** A channel to another worker, carrying UnitMessages for the units it hosts. */
export interface PeerMessage {
  p: Protocol;
  t: 'PEER';
  worker: number;
  units: string[];
  port: MessagePort;
}
/**
 * Before a FLUSH when units sit on several threads: each thread sends a marker down every peer channel
 * and answers BARRIER_DONE once it holds every peer's marker. Channels are FIFO, so every unit message
 * sent before the barrier (an invocation's spans and metrics) has been handled by then.
 */
export interface BarrierCommand {
  p: Protocol;
  t: 'BARRIER';
  id: number;
}
/** The Datadog API key, resolved (or rotated) by the supervisor from KMS, Secrets Manager or SSM. */
export interface ApiKeyMessage {
  p: Protocol;
  t: 'API_KEY';
  key: string;
}

export type ToWorker =
  | FlushCommand
  | ShutdownCommand
  | ConnectionMessage
  | DatagramsMessage
  | TelemetryMessage
  | PlatformMessage
  | InvocationMessage
  | RuntimeMessage
  | PeerMessage
  | ApiKeyMessage
  | BarrierCommand;

// ---- worker -> supervisor (parentPort) ----

export interface ReadyMessage {
  p: Protocol;
  t: 'READY';
  worker: number;
  units: string[];
  startMs: number;
}
export interface ErrorMessage {
  p: Protocol;
  t: 'ERROR';
  worker: number;
  unit?: string;
  error: WireError;
  fatal: boolean;
}
export interface FlushedMessage {
  p: Protocol;
  t: 'FLUSHED';
  id: number;
  reports: UnitFlushReport[];
}
export interface DrainedMessage {
  p: Protocol;
  t: 'DRAINED';
  id: number;
  reports: UnitFlushReport[];
}
/** A unit asks the supervisor for a flush (e.g. the tracer's POST /lambda/flush). */
export interface FlushRequestMessage {
  p: Protocol;
  t: 'FLUSH_REQUEST';
  unit: string;
  blocking: boolean;
}

/** Every peer channel of this thread delivered the barrier's marker. */
export interface BarrierDoneMessage {
  p: Protocol;
  t: 'BARRIER_DONE';
  id: number;
}
/** The intake refused the key (403): the supervisor may resolve it again (a rotated secret). */
export interface KeyRejectedMessage {
  p: Protocol;
  t: 'KEY_REJECTED';
  unit: string;
}

export type FromWorker = ReadyMessage | ErrorMessage | FlushedMessage | DrainedMessage | FlushRequestMessage | KeyRejectedMessage | BarrierDoneMessage;

// ---- unit -> unit (peer channels, or a direct call inside one worker) ----

/** DogStatsD lines, newline separated (from the trace agent's /dogstatsd/v2/proxy). */
export interface DogStatsDLines {
  t: 'DSD_LINES';
  data: ArrayBuffer;
}
/** Metric points computed by a unit (enhanced metrics) for the metrics pipeline. */
export interface MetricPoints {
  t: 'METRICS';
  points: { name: string; kind: 'count' | 'gauge' | 'distribution'; value: number; tags: string[]; timestamp: number }[];
}
/** A span as the trace agent models it (the agent's pb.Span); 64-bit fields are bigint, times in ns. */
export interface SpanData {
  service: string;
  name: string;
  resource: string;
  /** Low 64 bits; the high 64 bits of a 128-bit id travel in meta `_dd.p.tid` (16 hex digits). */
  traceId: bigint;
  spanId: bigint;
  parentId: bigint;
  start: bigint;
  duration: bigint;
  error: number;
  meta: Record<string, string>;
  metrics: Record<string, number>;
  type: string;
}
/** Spans made outside the trace agent (aws.lambda, cold start, inferred spans). */
export interface SpansMessage {
  t: 'SPANS';
  spans: SpanData[];
}
/**
 * Trace agent -> lifecycle: a tracer span the invocation span depends on. `placeholder` is the
 * Java/Go/.NET stand-in (resource `dd-tracer-serverless-span`): its ids, meta and metrics belong to
 * the extension's aws.lambda span. `cold-start-parent` reports an `aws.lambda.load` span whose parent
 * the trace agent set to `spanId`: the cold-start span takes that id, the trace id and `parentId`.
 */
export interface TracerSpanMessage {
  t: 'TRACER_SPAN';
  kind: 'placeholder' | 'cold-start-parent';
  requestId: string | undefined;
  traceId: bigint;
  spanId: bigint;
  parentId: bigint;
  meta: Record<string, string>;
  metrics: Record<string, number>;
}
/** Logs -> lifecycle: a function or extension log line said the runtime ran out of memory. */
export interface OutOfMemoryMessage {
  t: 'OOM';
  requestId: string | undefined;
  timestamp: number;
}

/**
 * AppSec → trace agent, per request id: `pending` when the event reached the WAF (the invocation's
 * aws.lambda span waits, bounded, for the verdict), `done` with the tags for aws.lambda and its inferred span.
 */
export interface AppSecMessage {
  t: 'APPSEC';
  requestId: string;
  state: 'pending' | 'done';
  meta: Record<string, string>;
  metrics: Record<string, number>;
}

/**
 * Trace agent -> logs: a tracer's aws.lambda span named the durable execution of its request
 * (meta `aws.durable.*`), so that request's held logs can go, tagged.
 */
export interface DurableContextMessage {
  t: 'DURABLE_CONTEXT';
  requestId: string;
  executionId: string;
  executionName: string;
  firstInvocation: boolean | undefined;
  executionStatus: string | undefined;
}

export type UnitMessage = DogStatsDLines | MetricPoints | SpansMessage | TracerSpanMessage | OutOfMemoryMessage | AppSecMessage | DurableContextMessage;

/** Envelope on a peer channel. */
export interface PeerEnvelope {
  p: Protocol;
  t: 'UNIT';
  to: string;
  from: string;
  msg: UnitMessage;
}
/** A flush barrier's marker on a peer channel (see BarrierCommand). */
export interface PeerBarrier {
  p: Protocol;
  t: 'BARRIER';
  id: number;
}

// ---- connection channel frames ----

/** Bytes are sent as bare ArrayBuffers (transferred); these are the only other frames. */
export type ConnectionFrame = ArrayBuffer | { c: 'end' } | { c: 'close'; error?: string };

// ---- worker start-up data ----

export interface WorkerInit<C> {
  p: Protocol;
  worker: number;
  units: UnitSpec[];
  /** Units hosted by other workers: messages to them wait for the PEER channel instead of being dropped. */
  remoteUnits: string[];
  /** Directory units' relative module paths are resolved from. */
  unitsDir: string;
  config: C;
  /** Function tags, computed once by the supervisor (DataDog/datadog-lambda-extension, bottlecap/src/tags/lambda/tags.rs). */
  tags: Record<string, string>;
  accountId: string | undefined;
}
