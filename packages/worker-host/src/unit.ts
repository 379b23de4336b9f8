// The contract every pipeline (trace agent, DogStatsD, logs, AppSec, lifecycle) implements. A unit
// module exports `createUnit(ctx)`; the worker host calls it once, then feeds it what it owns. Units
// never import each other: they talk through `ctx.send`, which the host routes in-process or over
// a peer channel the supervisor wired.
import type { Duplex } from 'node:stream';
import type { Config } from '@dd-lambda/config';
import type { Logger } from '@dd-lambda/logger';
import type { FlushReason, InvocationEvent, PlatformEvent, SendToUnit, TcpIngress, UnitMessage } from '@dd-lambda/protocol';

export interface UnitContext {
  readonly name: string;
  readonly worker: number;
  readonly config: Readonly<Config>;
  readonly tags: Readonly<Record<string, string>>;
  readonly accountId: string | undefined;
  readonly logger: Logger;
  /**
   * Deliver a message to another unit; ArrayBuffers in `transfer` move rather than copy. Typed by the
   * protocol's unit table: a unit that does not exist, or a message it does not take, does not compile.
   */
  readonly send: SendToUnit;
  /** Ask the supervisor for a flush now (the tracer's POST /lambda/flush); the supervisor decides. */
  requestFlush(blocking: boolean): void;
  /** The intake answered 403 to this unit: the supervisor may resolve the API key again. */
  keyRejected(): void;
}

export interface FlushSignal {
  reason: FlushReason;
  /** Epoch ms by which the flush must be over; work left is reported as pending. */
  deadline: number;
}

export interface FlushResult {
  sent: number;
  dropped: number;
  pending: number;
}

export interface PipelineUnit {
  /** A TCP connection on an ingress the unit owns, as a duplex stream (serve it with `server.emit('connection', s)`). */
  connection?(ingress: TcpIngress, socket: Duplex): void;
  /** DogStatsD datagrams, packed back to back in `data`. */
  datagrams?(data: Buffer, lengths: readonly number[]): void;
  /** One Telemetry API POST body, unparsed. */
  telemetry?(body: Buffer): void;
  platform?(events: readonly PlatformEvent[]): void;
  invocation?(event: InvocationEvent): void;
  /** The runtime-API proxy's copy of an invocation's event or result (units with the `runtime` event). */
  runtime?(requestId: string, kind: 'event' | 'response' | 'error', body: Buffer): void;
  message?(from: string, msg: UnitMessage): void;
  /** Ship what is buffered. Called again only after the previous call settled. */
  flush(signal: FlushSignal): Promise<FlushResult>;
  /** SHUTDOWN: stop taking input and finish in-flight work, so the final flush sees everything. */
  drain?(deadline: number): Promise<void>;
}

export type UnitFactory = (ctx: UnitContext) => PipelineUnit | Promise<PipelineUnit>;
