// The OTLP receiver as the trace agent uses it: the HTTP app and the gRPC server behind one
// connection entry, decoded requests mapped to Datadog batches and handed to the agent's enqueue.
// Loaded only when an OTLP endpoint is configured (agent.ts imports it dynamically).
import type { Duplex } from 'node:stream';
import type { Config } from '@dd-lambda/config';
import type { TcpIngress } from '@dd-lambda/protocol';
import type { Span, TracerInfo } from '../span.js';
import { OtlpGrpcServer } from './grpc.js';
import { buildOtlpHttpApp } from './http.js';
import type { OtlpCounters, OtlpSink } from './http.js';
import { otlpToBatches } from './transform.js';

export interface OtlpReceiver {
  connection(socket: Duplex, ingress: TcpIngress): void;
  drain(deadline: number): Promise<void>;
  close(): Promise<void>;
}

export function buildOtlpReceiver(
  otlp: Readonly<Config['otlp']>,
  counters: OtlpCounters,
  enqueue: (traces: Span[][], info: TracerInfo) => boolean,
  onBadRequest: (err: Error) => void,
): OtlpReceiver {
  const sink: OtlpSink = (request) => {
    const { batches, spans } = otlpToBatches(request);
    counters.otlpSpans += spans;
    let held = true;
    for (const b of batches) held = enqueue(b.traces, b.info) && held;
    return held;
  };
  const http = otlp.httpPort !== undefined ? buildOtlpHttpApp(sink, counters, onBadRequest) : undefined;
  const grpc = otlp.grpcPort !== undefined ? new OtlpGrpcServer(sink, counters, otlp.grpcMaxRecvBytes, onBadRequest) : undefined;
  return {
    connection(socket, ingress) {
      if (ingress === 'otlp-http' && http !== undefined) http.connection(socket);
      else if (ingress === 'otlp-grpc' && grpc !== undefined) grpc.connection(socket);
      else socket.destroy();
    },
    async drain(deadline) {
      await Promise.all([http?.drain(deadline), grpc?.drain(deadline)]);
    },
    async close() {
      await http?.close();
      grpc?.close();
    },
  };
}
