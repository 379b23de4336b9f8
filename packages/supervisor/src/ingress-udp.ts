// The DogStatsD socket (UDP): datagrams are handed to the DogStatsD unit in batches, once per
// event-loop turn or sooner at 64 KiB; drops the kernel counted (receive buffer full) go into the
// pipeline as a metric before each flush.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { Logger } from '@dd-lambda/logger';
import { SupervisorError } from './errors.js';
import type { SupervisorErrorCode } from './errors.js';

/** Datagrams are handed over once per event-loop turn, or sooner when a batch reaches this size. */
export const DATAGRAM_BATCH_BYTES = 64 * 1024;

/** The metric the kernel's drops of DogStatsD datagrams are counted in (a count, with the function's tags). */
export const UDP_DROPS_METRIC = 'datadog.serverless.dogstatsd.packets_dropped';

/**
 * Datagrams the kernel dropped for the socket bound to 127.0.0.1:`port` (its receive buffer was full):
 * the `drops` column of /proc/net/udp. Undefined where the file or the socket is not found.
 */
export function kernelUdpDrops(port: number, file = '/proc/net/udp'): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local) {
      const drops = Number(f[f.length - 1]);
      return Number.isFinite(drops) ? drops : undefined;
    }
  }
  return undefined;
}

export interface UdpCounters {
  datagrams: number;
  /** Datagrams over DD_DOGSTATSD_BUFFER_SIZE: cut at their last whole line within it (the rest dropped). */
  truncatedDatagrams: number;
  /** Datagrams we could not hand to the DogStatsD unit. */
  droppedDatagrams: number;
  /** Datagrams the kernel dropped before we could read them (receive buffer full), per /proc/net/udp. */
  kernelDroppedDatagrams: number;
}

export class DogStatsDSocket {
  readonly #counters: UdpCounters;
  /** Hands a batch on (packed bytes and each datagram's length); false when it could not be taken. */
  readonly #forward: (packed: Buffer, lengths: number[]) => boolean;
  #sock: dgram.Socket | undefined;
  #port = 0;
  #batch: Buffer[] = [];
  #batchBytes = 0;
  #batchScheduled = false;
  #closed = false;
  /** The kernel's drop count at the last read, and how many datagrams we had read by then. */
  #kernelDropsBase = 0;
  #datagramsAtRead = 0;

  readonly #bufferSize: number;
  readonly #queueSize: number;
  #warnedTruncation = false;
  #logger: Logger | undefined;

  /**
   * `bufferSize` (DD_DOGSTATSD_BUFFER_SIZE): the largest datagram read whole, as the agent's read buffer
   * is; `queueSize` (DD_DOGSTATSD_QUEUE_SIZE): the most datagrams queued before they are handed over.
   */
  constructor(o: { counters: UdpCounters; forward: (packed: Buffer, lengths: number[]) => boolean; bufferSize?: number; queueSize?: number }) {
    this.#counters = o.counters;
    this.#forward = o.forward;
    this.#bufferSize = o.bufferSize ?? 8192;
    this.#queueSize = o.queueSize ?? 1024;
  }

  bind(port: number, recvBufferSize: number | undefined, logger: Logger, onLost: (err: Error) => void): Promise<void> {
    this.#port = port;
    this.#logger = logger;
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket({ type: 'udp4', ...(recvBufferSize !== undefined ? { recvBufferSize } : {}) });
      this.#sock = sock;
      const onError = (err: NodeJS.ErrnoException): void =>
        reject(new SupervisorError('SV_ERR_BIND', `cannot bind DogStatsD on 127.0.0.1:${port}/udp: ${err.code ?? err.message}`, { cause: err }));
      sock.once('error', onError);
      sock.on('message', (msg) => this.#onDatagram(msg));
      sock.bind({ port, address: '127.0.0.1', exclusive: true }, () => {
        sock.off('error', onError);
        sock.on('error', (err) => logger.error({ err }, 'DogStatsD socket error'));
        sock.on('close', () => {
          if (!this.#closed) onLost(new Error('the DogStatsD socket closed'));
        });
        resolve();
      });
    });
  }

  /** The bound port (0 before bind). */
  get port(): number {
    return this.#sock === undefined ? 0 : this.#sock.address().port;
  }

  #onDatagram(datagram: Buffer): void {
    this.#counters.datagrams++;
    const msg = datagram.length > this.#bufferSize ? this.#truncate(datagram) : datagram;
    if (msg.length === 0) return;
    this.#batch.push(msg);
    this.#batchBytes += msg.length;
    if (this.#batchBytes >= DATAGRAM_BATCH_BYTES || this.#batch.length >= this.#queueSize) this.#sendBatch();
    else if (!this.#batchScheduled) {
      this.#batchScheduled = true;
      setImmediate(() => this.#sendBatch());
    }
  }

  /**
   * The agent reads at most its buffer size of a datagram and parses a cut last line as garbage; here
   * the cut falls after the last whole line within the size, so no partial metric is ever parsed.
   */
  #truncate(msg: Buffer): Buffer {
    this.#counters.truncatedDatagrams++;
    if (!this.#warnedTruncation) {
      this.#warnedTruncation = true;
      this.#logger?.warn(
        { code: 'SV_ERR_DATAGRAM_TRUNCATED' satisfies SupervisorErrorCode, bytes: msg.length, bufferSize: this.#bufferSize },
        'a DogStatsD datagram is larger than DD_DOGSTATSD_BUFFER_SIZE; lines past it are dropped (counted; raise DD_DOGSTATSD_BUFFER_SIZE or lower the client buffer)',
      );
    }
    const cut = msg.lastIndexOf(0x0a, this.#bufferSize - 1);
    return cut < 0 ? Buffer.alloc(0) : msg.subarray(0, cut);
  }

  #sendBatch(): void {
    this.#batchScheduled = false;
    if (this.#batch.length === 0) return;
    const lengths = this.#batch.map((b) => b.length);
    const packed = Buffer.concat(this.#batch, this.#batchBytes);
    this.#batch = [];
    this.#batchBytes = 0;
    if (!this.#forward(packed, lengths)) this.#counters.droppedDatagrams += lengths.length;
  }

  /**
   * Reads the kernel's drop counter; the drops since the last call are counted and sent into the
   * DogStatsD pipeline as one more line (so they reach Datadog with this flush's metrics). Returns that number.
   */
  collectKernelDrops(): number {
    // A full receive buffer means datagrams arrived and some were read: without any since the last
    // read there is nothing to look up (this saves the /proc read on invocations without DogStatsD).
    if (this.#sock === undefined || this.#closed || this.#counters.datagrams === this.#datagramsAtRead) return 0;
    this.#datagramsAtRead = this.#counters.datagrams;
    const total = kernelUdpDrops(this.#port);
    if (total === undefined) return 0;
    const delta = Math.max(0, total - this.#kernelDropsBase);
    this.#kernelDropsBase = total;
    if (delta > 0) {
      this.#counters.kernelDroppedDatagrams += delta;
      this.#onDatagram(Buffer.from(`${UDP_DROPS_METRIC}:${delta}|c`));
      this.#sendBatch();
    }
    return delta;
  }

  /** Stops reading; what was received is handed over. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sock?.close();
    this.#sendBatch();
  }
}
