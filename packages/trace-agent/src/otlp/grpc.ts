// OTLP/gRPC: the unary TraceService/Export over HTTP/2 cleartext (grpc/grpc doc/PROTOCOL-HTTP2.md:
// length-prefixed messages, status in trailers), served with node:http2 on the connections the
// supervisor hands over. node:http2 is loaded on the first gRPC connection, so a function that does
// not configure the gRPC endpoint never pays for it. A gRPC server library would bind its own sockets
// (the supervisor owns them here) and load far more than this one method needs.
import type { Http2Server, Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { Inflight, collectBody } from '@dd-lambda/worker-host/http';
import { TraceAgentError } from '../errors.js';
import { decodeOtlpProto } from './decode-proto.js';
import type { OtlpCounters, OtlpSink } from './http.js';
import { inflate } from './http.js';

export const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

const EMPTY = Buffer.alloc(0);

/** gRPC status codes used here (grpc/grpc doc/statuscodes.md). */
const OK = 0;
const INVALID_ARGUMENT = 3;
const RESOURCE_EXHAUSTED = 8;
const UNIMPLEMENTED = 12;
const INTERNAL = 13;
const UNAVAILABLE = 14;

/** A complete unary request body: one length-prefixed message, inflated when flagged compressed. */
export function unaryMessage(body: Buffer, encoding: string, maxBytes: number): Buffer {
  if (body.length < 5) throw new TraceAgentError('TA_ERR_OTLP_DECODE', 'gRPC: no length-prefixed message');
  const compressed = body[0] === 1;
  const len = body.readUInt32BE(1);
  if (body.length !== 5 + len) throw new TraceAgentError('TA_ERR_OTLP_DECODE', `gRPC: the message is ${body.length - 5} bytes, its prefix says ${len}`);
  const msg = body.subarray(5);
  if (!compressed) return msg;
  if (encoding === '' || encoding === 'identity') throw new TraceAgentError('TA_ERR_OTLP_DECODE', 'gRPC: a compressed message without grpc-encoding');
  return inflate(msg, encoding, maxBytes);
}

export class OtlpGrpcServer {
  readonly #sink: OtlpSink;
  readonly #counters: OtlpCounters;
  readonly #maxBytes: number;
  readonly #onBadRequest: (err: Error) => void;
  #server: Promise<Http2Server> | undefined;
  readonly #sessions = new Set<Http2Session>();
  readonly #inflight = new Inflight();

  constructor(sink: OtlpSink, counters: OtlpCounters, maxBytes: number, onBadRequest: (err: Error) => void) {
    this.#sink = sink;
    this.#counters = counters;
    this.#maxBytes = maxBytes;
    this.#onBadRequest = onBadRequest;
  }

  connection(socket: Duplex): void {
    this.#server ??= import('node:http2').then((http2) => {
      const server = http2.createServer();
      server.on('session', (s: Http2Session) => {
        this.#sessions.add(s);
        s.once('close', () => this.#sessions.delete(s));
        s.on('error', () => undefined);
      });
      server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => this.#stream(stream, headers));
      return server;
    });
    socket.on('error', () => undefined);
    this.#server.then(
      (server) => server.emit('connection', socket),
      () => socket.destroy(),
    );
  }

  #stream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    this.#inflight.enter();
    stream.once('close', () => this.#inflight.leave());
    stream.on('error', () => undefined);
    if (headers[':path'] !== EXPORT_PATH || headers[':method'] !== 'POST') {
      this.#status(stream, UNIMPLEMENTED, `unknown method ${String(headers[':path'])}`);
      stream.resume();
      return;
    }
    this.#counters.otlpRequests++;
    const tooBig = (): void => {
      this.#counters.otlpBadRequests++;
      this.#status(stream, RESOURCE_EXHAUSTED, `the message is over the ${this.#maxBytes}-byte limit (DD_OTLP_CONFIG_RECEIVER_PROTOCOLS_GRPC_MAX_RECV_MSG_SIZE_MIB)`);
    };
    // The limit is the message's; the body adds its 5-byte length prefix.
    collectBody(stream, this.#maxBytes + 5, tooBig, (body) => {
      const encoding = String(headers['grpc-encoding'] ?? '').toLowerCase();
      let accepted: boolean;
      try {
        accepted = this.#sink(decodeOtlpProto(unaryMessage(body ?? EMPTY, encoding, this.#maxBytes)));
      } catch (err) {
        this.#counters.otlpBadRequests++;
        this.#onBadRequest(err as Error);
        this.#status(stream, err instanceof TraceAgentError ? INVALID_ARGUMENT : INTERNAL, (err as Error).message);
        return;
      }
      if (!accepted) {
        this.#status(stream, UNAVAILABLE, 'trace buffer full; retry later');
        return;
      }
      // An empty ExportTraceServiceResponse (zero-length message), then OK in the trailers.
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(OK) }));
      stream.end(Buffer.alloc(5));
    });
  }

  /** A trailers-only answer carrying a non-OK status. */
  #status(stream: ServerHttp2Stream, code: number, message: string): void {
    if (stream.headersSent || stream.destroyed) return;
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeURIComponent(message) }, { endStream: true });
  }

  drain(deadline: number): Promise<void> {
    return this.#inflight.drain(deadline);
  }

  close(): void {
    for (const s of this.#sessions) s.destroy();
  }
}
