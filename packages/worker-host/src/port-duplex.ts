// A connection the supervisor accepted, seen from a worker: bytes arrive on a MessagePort as
// transferred ArrayBuffers. Servers (node:http, fastify's server) accept it through
// `server.emit('connection', stream)`, so request parsing and keep-alive work as on a real socket.
import { Duplex } from 'node:stream';
import type { MessagePort } from 'node:worker_threads';
import { ownArrayBuffer } from '@dd-lambda/protocol';
import type { ConnectionFrame } from '@dd-lambda/protocol';

export class PortDuplex extends Duplex {
  readonly remoteAddress = '127.0.0.1';
  readonly remoteFamily = 'IPv4';
  readonly #port: MessagePort;
  #closed = false;

  constructor(port: MessagePort) {
    super({ allowHalfOpen: true });
    this.#port = port;
    port.on('message', (frame: ConnectionFrame) => {
      if (frame instanceof ArrayBuffer) this.push(Buffer.from(frame));
      else if (frame.c === 'end') this.push(null);
      else if (frame.c === 'close') {
        this.#closed = true;
        this.destroy(frame.error !== undefined ? Object.assign(new Error(frame.error), { code: 'ECONNRESET' }) : undefined);
      }
    });
    // The supervisor's side went away (its socket closed, or the port was closed on restart).
    port.on('close', () => {
      this.#closed = true;
      this.destroy();
    });
  }

  // Socket methods servers call; timeouts are the supervisor's socket's business.
  setTimeout(_ms: number, cb?: () => void): this {
    if (cb) this.once('timeout', cb);
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  override _read(): void {
    // Bytes are pushed as they arrive; the supervisor's socket is the one that can pause.
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#closed) return cb(Object.assign(new Error('connection closed'), { code: 'EPIPE' }));
    const ab = ownArrayBuffer(chunk);
    this.#port.postMessage(ab, [ab]);
    cb();
  }

  // node:http writes an answer's head and body back to back: one message for all of them.
  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    if (this.#closed) return cb(Object.assign(new Error('connection closed'), { code: 'EPIPE' }));
    const total = chunks.reduce((n, c) => n + c.chunk.length, 0);
    const ab = new ArrayBuffer(total);
    const view = new Uint8Array(ab);
    let at = 0;
    for (const { chunk } of chunks) {
      view.set(chunk, at);
      at += chunk.length;
    }
    this.#port.postMessage(ab, [ab]);
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.#closed) this.#port.postMessage({ c: 'end' } satisfies ConnectionFrame);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#port.postMessage({ c: 'close' } satisfies ConnectionFrame);
    }
    this.#port.close();
    cb(err);
  }
}
