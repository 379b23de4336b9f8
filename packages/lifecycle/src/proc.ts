// /proc enhanced metrics (DataDog/datadog-lambda-extension, bottlecap/src/metrics/enhanced/, DD_LAMBDA_PROC_ENHANCED_METRICS): network and CPU as deltas
// over one invocation, /tmp, file descriptors and threads as peaks sampled every 10 ms while it runs.
// Every read is synchronous and small (a few KiB of procfs); a file that is missing or malformed
// makes its metrics absent, never an error. The root is injectable so tests use fixture files.
import { readFileSync, readdirSync, statfsSync } from 'node:fs';
import path from 'node:path';

/** bottlecap's tick at one vCPU and more (1,769 MB); smaller functions tick slower, see below. */
export const SAMPLE_INTERVAL_MS = 10;
const MB_PER_VCPU = 1769;

/**
 * The tick for a memory size: 10 ms at a full vCPU, stretched by the CPU share below it (138 ms at
 * 128 MB), so sampling costs the same fraction of the function's CPU at every size. At a fixed 10 ms,
 * a tick's ~30 µs would be ~4 % of a 128 MB function's share while it runs, and the number of ticks
 * grows with the throttled invocation's wall time. Peaks are still read when the invocation ends.
 */
export function sampleIntervalMs(memorySizeMB: number | undefined): number {
  if (memorySizeMB === undefined || !(memorySizeMB > 0)) return SAMPLE_INTERVAL_MS;
  return Math.round(SAMPLE_INTERVAL_MS * Math.max(1, MB_PER_VCPU / memorySizeMB));
}
/**
 * Process fds and threads are counted on every Nth tick and when the invocation ends (not when it
 * starts: the runtime has not opened anything yet): each count is two directory reads per process,
 * ~70 µs for a three-process sandbox, which every 10 ms would be ~10 % of a 128 MB function's CPU
 * share. /tmp (one statfs) is sampled on every tick.
 */
export const PROCESS_SAMPLE_EVERY = 5;
/**
 * The sandbox's process list is read again after this long: listing /proc costs ~60 µs, and a sandbox
 * rarely starts processes, so back-to-back invocations share one listing.
 */
export const PID_LIST_TTL_MS = 1000;
/** At most this many processes are watched for fds and threads (a sandbox has a handful). */
export const MAX_PIDS = 64;
/** Every process Lambda starts in the sandbox (runtime, extensions) has this in its environment. */
const SANDBOX_VAR = 'AWS_LAMBDA_RUNTIME_API=';

function inSandbox(environ: string | undefined): boolean {
  return environ !== undefined && (environ.startsWith(SANDBOX_VAR) || environ.includes(`\0${SANDBOX_VAR}`));
}
/** USER_HZ: /proc/stat counts in 1/100 s on every Linux Lambda runs. */
const TICK_MS = 10;

export interface ProcOptions {
  /** `/proc` */
  root: string;
  /** `/tmp` */
  tmp: string;
  /** The network interface Lambda gives the function (`vinternal_1`; managed instances: `Ceth1`). */
  iface: string;
  /** The tick; SAMPLE_INTERVAL_MS when absent (`sampleIntervalMs(memory)` in the extension). */
  intervalMs?: number;
  now?: () => number;
}

interface CpuSample {
  userMs: number;
  systemMs: number;
  idleMs: number[];
  uptimeMs: number;
}

interface NetSample {
  rx: number;
  tx: number;
}

interface Peaks {
  tmpMax: number;
  tmpUsed: number;
  tmpFree: number;
  fdMax: number;
  fdUse: number;
  threadsMax: number;
  threadsUse: number;
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function readNet(o: ProcOptions): NetSample | undefined {
  const text = read(path.join(o.root, 'net', 'dev'));
  if (text === undefined) return undefined;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim() !== o.iface) continue;
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    const rx = f[0];
    const tx = f[8];
    if (rx === undefined || tx === undefined || !Number.isFinite(rx) || !Number.isFinite(tx)) return undefined;
    return { rx, tx };
  }
  return undefined;
}

export function readCpu(o: ProcOptions): CpuSample | undefined {
  const stat = read(path.join(o.root, 'stat'));
  const uptime = read(path.join(o.root, 'uptime'));
  if (stat === undefined || uptime === undefined) return undefined;
  const up = Number(uptime.trim().split(/\s+/)[0]);
  let userMs: number | undefined;
  let systemMs: number | undefined;
  const idleMs: number[] = [];
  for (const line of stat.split('\n')) {
    if (!line.startsWith('cpu')) continue;
    const f = line.trim().split(/\s+/);
    const user = Number(f[1]);
    const system = Number(f[3]);
    const idle = Number(f[4]);
    if (![user, system, idle].every(Number.isFinite)) return undefined;
    if (f[0] === 'cpu') {
      userMs = user * TICK_MS;
      systemMs = system * TICK_MS;
    } else {
      idleMs.push(idle * TICK_MS);
    }
  }
  if (userMs === undefined || systemMs === undefined || idleMs.length === 0 || !Number.isFinite(up)) return undefined;
  return { userMs, systemMs, idleMs, uptimeMs: up * 1000 };
}

function limit(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const line = text.split('\n').find((l) => l.startsWith(name));
  const soft = line?.slice(name.length).trim().split(/\s+/)[0];
  if (soft === undefined || soft === 'unlimited') return undefined;
  const n = Number(soft);
  return Number.isFinite(n) ? n : undefined;
}

function count(dir: string): number | undefined {
  try {
    return readdirSync(dir).length;
  } catch {
    return undefined;
  }
}

/** The metric values of one invocation, named without the `aws.lambda.enhanced.` prefix. */
export type ProcValues = Record<string, number>;

/** Starts at INVOKE (`begin`), samples peaks until `end`, then reports the invocation's values. */
export class ProcSampler {
  readonly #o: ProcOptions;
  #cpu: CpuSample | undefined;
  #net: NetSample | undefined;
  #pids: string[] = [];
  /** pid -> whether it belongs to the sandbox, so each environment is read once. */
  readonly #members = new Map<string, boolean>();
  #listedAt = Number.NEGATIVE_INFINITY;
  /** /proc/<pid>/limits by pid: read once (only setrlimit changes it). */
  readonly #limits = new Map<string, string | undefined>();
  #peaks: Peaks | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(o: ProcOptions) {
    this.#o = o;
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  begin(): void {
    this.stop();
    this.#cpu = readCpu(this.#o);
    this.#net = readNet(this.#o);
    this.#refreshPids();
    this.#peaks = undefined;
    this.sample(false);
    this.#startTimer();
  }

  #refreshPids(): void {
    const now = (this.#o.now ?? Date.now)();
    if (now - this.#listedAt < PID_LIST_TTL_MS) return;
    this.#pids = this.#listPids();
    this.#listedAt = now;
  }

  #startTimer(): void {
    let tick = 0;
    this.#timer = setInterval(() => this.sample(++tick % PROCESS_SAMPLE_EVERY === 0), this.#o.intervalMs ?? SAMPLE_INTERVAL_MS);
    this.#timer.unref();
  }

  /** One peak sample (`processes`: fds and threads too); public so tests and the bench drive it. */
  sample(processes = true): void {
    const p = (this.#peaks ??= { tmpMax: -1, tmpUsed: -1, tmpFree: -1, fdMax: -1, fdUse: -1, threadsMax: -1, threadsUse: -1 });
    try {
      const s = statfsSync(this.#o.tmp);
      p.tmpMax = Math.max(p.tmpMax, s.blocks * s.bsize);
      p.tmpUsed = Math.max(p.tmpUsed, (s.blocks - s.bfree) * s.bsize);
      const free = s.bavail * s.bsize;
      p.tmpFree = p.tmpFree < 0 ? free : Math.min(p.tmpFree, free);
    } catch {
      // no /tmp statfs: no tmp metrics
    }
    if (!processes) return;
    let fds = 0;
    let threads = 0;
    let seen = false;
    for (const pid of this.#pids) {
      const dir = path.join(this.#o.root, pid);
      const f = count(path.join(dir, 'fd'));
      const t = count(path.join(dir, 'task'));
      if (f === undefined && t === undefined) continue;
      seen = true;
      fds += f ?? 0;
      threads += t ?? 0;
    }
    if (seen) {
      p.fdUse = Math.max(p.fdUse, fds);
      p.threadsUse = Math.max(p.threadsUse, threads);
    }
  }

  /** Stops sampling and returns this invocation's values (empty when /proc is unreadable). */
  end(): ProcValues {
    this.sample();
    this.stop();
    const out: ProcValues = {};
    const net = readNet(this.#o);
    if (net !== undefined && this.#net !== undefined) {
      out['rx_bytes'] = net.rx - this.#net.rx;
      out['tx_bytes'] = net.tx - this.#net.tx;
      out['total_network'] = out['rx_bytes'] + out['tx_bytes'];
    }
    const cpu = readCpu(this.#o);
    const base = this.#cpu;
    if (cpu !== undefined && base !== undefined && cpu.idleMs.length === base.idleMs.length) {
      const user = cpu.userMs - base.userMs;
      const system = cpu.systemMs - base.systemMs;
      const wall = cpu.uptimeMs - base.uptimeMs;
      const cores = cpu.idleMs.length;
      out['cpu_user_time'] = user;
      out['cpu_system_time'] = system;
      out['cpu_total_time'] = user + system;
      out['num_cores'] = cores;
      if (wall > 0) {
        const perCore = cpu.idleMs.map((idle, i) => 100 * (1 - Math.min(wall, Math.max(0, idle - (base.idleMs[i] as number))) / wall));
        const idleTotal = cpu.idleMs.reduce((a, idle, i) => a + Math.max(0, idle - (base.idleMs[i] as number)), 0);
        const pct = 100 * (1 - Math.min(1, idleTotal / (wall * cores)));
        out['cpu_total_utilization_pct'] = pct;
        out['cpu_total_utilization'] = (pct / 100) * cores;
        out['cpu_max_utilization'] = Math.max(...perCore);
        out['cpu_min_utilization'] = Math.min(...perCore);
      }
    }
    Object.assign(out, this.#peakValues());
    return out;
  }

  /**
   * Managed instances: invocations overlap, so one sampling runs while any is active (`resume` at the
   * first, `pause` after the last) and its peaks cover the whole sandbox life, read at SHUTDOWN (`usage`).
   */
  resume(): void {
    if (this.#timer !== undefined) return;
    this.#refreshPids();
    this.sample();
    this.#startTimer();
  }

  pause(): void {
    this.stop();
  }

  /** The sandbox-wide peaks sampled so far (tmp, fds, threads and their limits). */
  usage(): ProcValues {
    this.stop();
    return this.#peakValues();
  }

  #peakValues(): ProcValues {
    const out: ProcValues = {};
    const p = this.#peaks;
    if (p !== undefined) {
      if (p.tmpMax >= 0) {
        out['tmp_max'] = p.tmpMax;
        out['tmp_used'] = p.tmpUsed;
        out['tmp_free'] = p.tmpFree;
      }
      const first = this.#pids[0];
      let limits: string | undefined;
      if (first !== undefined) {
        if (!this.#limits.has(first)) this.#limits.set(first, read(path.join(this.#o.root, first, 'limits')));
        limits = this.#limits.get(first);
      }
      if (p.fdUse >= 0) {
        out['fd_use'] = p.fdUse;
        const max = limit(limits, 'Max open files');
        if (max !== undefined) out['fd_max'] = max;
      }
      if (p.threadsUse >= 0) {
        out['threads_use'] = p.threadsUse;
        const max = limit(limits, 'Max processes');
        if (max !== undefined) out['threads_max'] = max;
      }
    }
    return out;
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * The sandbox's processes: those whose environment has AWS_LAMBDA_RUNTIME_API (the runtime and every
   * extension; on a dev host this leaves out everything else). Each pid's environment is read once.
   */
  #listPids(): string[] {
    let pids: string[];
    try {
      pids = readdirSync(this.#o.root)
        .filter((d) => /^\d+$/.test(d))
        .sort((a, b) => Number(a) - Number(b));
    } catch {
      return [];
    }
    const live = new Set(pids);
    for (const pid of this.#members.keys()) if (!live.has(pid)) this.#members.delete(pid);
    for (const pid of this.#limits.keys()) if (!live.has(pid)) this.#limits.delete(pid);
    const out: string[] = [];
    for (const pid of pids) {
      if (out.length === MAX_PIDS) break;
      let member = this.#members.get(pid);
      if (member === undefined) {
        member = inSandbox(read(path.join(this.#o.root, pid, 'environ')));
        this.#members.set(pid, member);
      }
      if (member) out.push(pid);
    }
    return out;
  }
}
