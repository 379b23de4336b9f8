// Sandbox processes: the runtime and each extension run in their own process group so that
// freeze (SIGSTOP), thaw (SIGCONT) and SIGKILL reach everything they started, as in Lambda where
// the whole sandbox is frozen. Output is split into log records: stdout/stderr per line, and the
// runtime's telemetry fd (framed records, so multi-line messages stay one record).

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';

/** Frame header on the telemetry fd: u32 type, u32 length, u64 timestamp (µs), all big-endian. */
export const FRAME_HEADER_BYTES = 16;
export const FRAME_TYPE_TEXT = 0xa55a0003;
export const FRAME_TYPE_JSON = 0xa55a0002;
/** The fd number the runtime writes frames to (passed as `_LAMBDA_TELEMETRY_LOG_FD`). */
export const TELEMETRY_FD = 3;

export interface SpawnSpec {
  name: string;
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd: string;
  /** Open a pipe on fd 3 for framed log records (the runtime). */
  telemetryFd?: boolean;
  /**
   * cgroup.procs files the process joins before it runs (the sandbox's limits): a shell writes its own
   * pid into each, then execs the command, so every thread and child starts inside the groups.
   */
  cgroupProcs?: readonly string[];
}

// Joins the cgroups named in its arguments, then execs the rest: `sh -c JOIN sh N file... cmd args...`.
const JOIN = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 126; shift; n=$((n-1)); done; exec "$@"';

export interface LogRecord {
  stream: 'stdout' | 'stderr' | 'telemetry';
  text: string;
  /** When the record was produced (frames carry their own timestamp). */
  time: Date;
  /** For telemetry frames: whether the payload is a JSON log object. */
  json?: boolean;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT, EACCES, exec format error). */
  spawnError?: string;
}

const live = new Set<SandboxProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Detached process groups outlive us unless killed: never leave a sandbox behind.
  process.on('exit', () => {
    for (const p of live) p.signal('SIGKILL');
  });
}

export class SandboxProcess {
  readonly child: ChildProcess;
  readonly startedAt = performance.now();
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  /** performance.now() at exit. */
  exitedAt: number | undefined;
  #frozen = false;

  constructor(
    readonly spec: SpawnSpec,
    onRecord: (r: LogRecord) => void,
  ) {
    installExitHook();
    const stdio: ('ignore' | 'pipe')[] = ['ignore', 'pipe', 'pipe'];
    if (spec.telemetryFd) stdio.push('pipe');
    const join = spec.cgroupProcs ?? [];
    const [command, args] = join.length === 0 ? [spec.command, spec.args] : ['/bin/sh', ['-c', JOIN, 'sh', String(join.length), ...join, spec.command, ...spec.args]];
    this.child = spawn(command, args, { env: spec.env, cwd: spec.cwd, stdio, detached: true });
    live.add(this);
    this.exited = new Promise((resolve) => {
      let settled = false;
      const done = (info: ExitInfo): void => {
        if (settled) return;
        settled = true;
        live.delete(this);
        this.exitedAt = performance.now();
        this.exitInfo = info;
        resolve(info);
      };
      this.child.once('error', (err) => done({ code: null, signal: null, spawnError: err.message }));
      this.child.once('close', (code, signal) => done({ code, signal }));
    });
    splitLines(this.child.stdout!, (text) => onRecord({ stream: 'stdout', text, time: new Date() }));
    splitLines(this.child.stderr!, (text) => onRecord({ stream: 'stderr', text, time: new Date() }));
    const fd = this.child.stdio[TELEMETRY_FD] as Readable | undefined;
    if (fd) readFrames(fd, onRecord);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exitInfo === undefined && this.pid !== undefined;
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  /** Signals the whole process group; a no-op once the process has exited. */
  signal(sig: NodeJS.Signals): void {
    if (!this.alive || this.pid === undefined) return;
    try {
      process.kill(-this.pid, sig);
    } catch {
      try {
        this.child.kill(sig);
      } catch {
        // already gone
      }
    }
  }

  freeze(): void {
    if (this.#frozen || !this.alive) return;
    this.signal('SIGSTOP');
    this.#frozen = true;
  }

  /** Resolves once /proc shows the process stopped (SIGSTOP is delivered asynchronously). */
  async waitStopped(timeoutMs: number): Promise<boolean> {
    const end = performance.now() + timeoutMs;
    while (this.alive && this.pid !== undefined) {
      let state: string | undefined;
      try {
        state = readFileSync(`/proc/${this.pid}/stat`, 'utf8').split(') ')[1]?.[0];
      } catch {
        return false; // no /proc: nothing to wait on
      }
      if (state === 'T' || state === 't') return true;
      if (performance.now() > end) return false;
      await new Promise((r) => setTimeout(r, 1));
    }
    return false;
  }

  thaw(): void {
    if (!this.#frozen) return;
    this.#frozen = false;
    this.signal('SIGCONT');
  }

  /** Peak resident set size in MB (VmHWM), 0 where /proc is not available. */
  peakRssMB(): number {
    if (this.pid === undefined) return 0;
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const m = /VmHWM:\s+(\d+) kB/.exec(status);
      return m ? Number(m[1]) / 1024 : 0;
    } catch {
      return 0;
    }
  }
}

function splitLines(stream: Readable, onLine: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) onLine(p.endsWith('\r') ? p.slice(0, -1) : p);
  });
  stream.on('end', () => {
    if (rest !== '') onLine(rest);
    rest = '';
  });
  stream.on('error', () => undefined);
}

function readFrames(stream: Readable, onRecord: (r: LogRecord) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= FRAME_HEADER_BYTES) {
      const type = buf.readUInt32BE(0);
      const len = buf.readUInt32BE(4);
      if (buf.length < FRAME_HEADER_BYTES + len) break;
      const micros = buf.readBigUInt64BE(8);
      const text = buf.toString('utf8', FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + len);
      buf = buf.subarray(FRAME_HEADER_BYTES + len);
      onRecord({ stream: 'telemetry', text, time: new Date(Number(micros / 1000n)), json: type === FRAME_TYPE_JSON });
    }
  });
  stream.on('error', () => undefined);
}
