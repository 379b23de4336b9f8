// One worker thread's slot as the supervisor tracks it (its units, its queue before READY, held
// connections, pending requests), the byte pipe between a socket and its connection channel, and
// the thread's heap limits.
import type { MessageChannel, MessagePort, Worker } from 'node:worker_threads';
import type { Socket } from 'node:net';
import { PROTOCOL, ownArrayBuffer } from '@dd-lambda/protocol';
import type { TcpIngress, ToWorker, UnitFlushReport, UnitSpec } from '@dd-lambda/protocol';

/** Bytes a slot may hold before READY (datagrams, telemetry); beyond that input is dropped and counted. */
export const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** Connections held, paused, before READY; beyond that new ones are closed (the kernel holds their bytes). */
export const MAX_QUEUED_CONNECTIONS = 256;
export interface Pending {
  kind: 'FLUSH' | 'SHUTDOWN';
  resolve: (reports: UnitFlushReport[]) => void;
}

export interface Queued {
  msg: ToWorker;
  transfer: ArrayBuffer[];
  bytes: number;
}

export class Slot {
  readonly index: number;
  readonly units: UnitSpec[];
  worker: Worker | undefined;
  ready = false;
  /** Units that actually started in the current thread (READY lists them). */
  started: string[] = [];
  queue: Queued[] = [];
  queuedBytes = 0;
  heldConnections: { socket: Socket; start: () => void }[] = [];
  connections = new Set<Socket>();
  pending = new Map<number, Pending>();
  /** Flush barriers this thread has not answered yet. */
  barriers = new Map<number, () => void>();
  restarts = 0;
  dead = false;
  spawnedAt = 0;

  constructor(index: number, units: UnitSpec[]) {
    this.index = index;
    this.units = units;
  }

  /** Queues a message until READY; false when the queue's bytes would pass MAX_QUEUED_BYTES. */
  enqueue(msg: ToWorker, transfer: ArrayBuffer[], bytes: number): boolean {
    if (this.queuedBytes + bytes > MAX_QUEUED_BYTES) return false;
    this.queue.push({ msg, transfer, bytes });
    this.queuedBytes += bytes;
    return true;
  }

  /** Holds a connection, paused, until READY; false past MAX_QUEUED_CONNECTIONS. */
  hold(socket: Socket, start: () => void): boolean {
    if (this.heldConnections.length >= MAX_QUEUED_CONNECTIONS) return false;
    socket.pause();
    this.heldConnections.push({ socket, start });
    return true;
  }

  /**
   * Hands a connection to this thread over a new channel once READY (held, paused, until then);
   * false when too many are held already.
   */
  connect(unit: string, ingress: TcpIngress, socket: Socket, connId: number, channel: () => MessageChannel): boolean {
    const start = (): void => {
      const w = this.worker;
      if (!w) return void socket.destroy();
      const { port1, port2 } = channel();
      bridge(socket, port1);
      this.connections.add(socket);
      socket.once('close', () => this.connections.delete(socket));
      w.postMessage({ p: PROTOCOL, t: 'CONNECTION', unit, ingress, connId, port: port2 } satisfies ToWorker, [port2]);
      socket.resume();
    };
    if (this.ready && this.worker) {
      start();
      return true;
    }
    return this.hold(socket, start);
  }

  /** The thread is gone for good: queued input is dropped and held connections closed. */
  dropQueued(): { bytes: number; connections: number } {
    const d = { bytes: this.queuedBytes, connections: this.heldConnections.length };
    this.queue = [];
    this.queuedBytes = 0;
    for (const h of this.heldConnections) h.socket.destroy();
    this.heldConnections = [];
    return d;
  }
}

/** Pipes a supervisor-side socket to a connection channel, both directions, ends and resets included. */
export function bridge(socket: Socket, p: MessagePort): void {
  let open = true;
  const closePort = (error?: string): void => {
    if (!open) return;
    open = false;
    p.postMessage(error === undefined ? { c: 'close' } : { c: 'close', error });
    p.close();
  };
  socket.on('data', (b: Buffer) => {
    if (!open) return;
    const ab = ownArrayBuffer(b);
    p.postMessage(ab, [ab]);
  });
  socket.on('end', () => open && p.postMessage({ c: 'end' }));
  socket.on('error', (err) => closePort(err.message));
  socket.on('close', () => closePort());
  p.on('message', (f: ArrayBuffer | { c: 'end' } | { c: 'close' }) => {
    if (f instanceof ArrayBuffer) socket.write(Buffer.from(f));
    else if (f.c === 'end') socket.end();
    else {
      open = false;
      socket.destroy();
    }
  });
  p.on('close', () => {
    open = false;
    socket.destroy();
  });
}

/**
 * V8 heap limits for workers: a small young generation keeps each idle thread's RSS down; the old
 * generation gets a share of the function's memory so a runaway pipeline dies (and restarts)
 * before the sandbox runs out.
 */
export function workerHeapLimits(memorySizeMB: number | undefined): { maxYoungGenerationSizeMb: number; maxOldGenerationSizeMb: number } {
  const mem = memorySizeMB ?? 1024;
  return { maxYoungGenerationSizeMb: mem <= 512 ? 4 : 8, maxOldGenerationSizeMb: Math.max(48, Math.min(512, Math.floor(mem / 4))) };
}
