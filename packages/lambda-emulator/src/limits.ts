// What the emulator does with `limits`: the sandbox's cgroups when they can be had, the same API
// (unlimited, CPU from /proc) when not. One instance per emulator; every sandbox (a reset starts a
// new one) reuses its groups with fresh counters.
import { DEFAULT_CPU_PERIOD_US, SandboxCgroups, procCpuMs } from './cgroups.js';
import type { CgroupProbe } from './cgroups.js';
import type { LimitsOptions, LimitsStatus } from './types.js';

export interface SandboxMember {
  /** Stable across resets: `runtime`, or the extension's name. */
  name: string;
  pid: number | undefined;
}

const leafOf = (name: string, runtime: boolean): string => (runtime ? 'runtime' : `ext-${name}`);

export class SandboxLimits {
  readonly status: LimitsStatus;
  readonly #memoryMB: number;
  readonly #opts: Required<Pick<LimitsOptions, 'cpuPeriodUs' | 'initBoost' | 'cpu' | 'memory'>>;
  readonly #cg: SandboxCgroups | undefined;

  constructor(memoryMB: number, limits: boolean | LimitsOptions | undefined, warn: (message: string) => void, probe?: CgroupProbe) {
    this.#memoryMB = memoryMB;
    const o = typeof limits === 'object' ? limits : {};
    this.#opts = { cpuPeriodUs: o.cpuPeriodUs ?? DEFAULT_CPU_PERIOD_US, initBoost: o.initBoost ?? true, cpu: o.cpu ?? true, memory: o.memory ?? true };
    if (limits === undefined || limits === false) {
      this.status = { requested: false, applied: false };
      return;
    }
    const cg = SandboxCgroups.open(String(Math.floor(Math.random() * 1e9)), probe);
    if ('reason' in cg) {
      this.status = { requested: true, applied: false, reason: cg.reason };
      warn(`Lambda limits not applied, running unlimited: ${cg.reason}`);
      return;
    }
    this.#cg = cg;
    this.status = { requested: true, applied: true, cgroupVersion: cg.version, cpuPeriodUs: this.#opts.cpuPeriodUs, cpuQuotaCores: memoryMB / 1769, memoryMB };
  }

  get applied(): boolean {
    return this.#cg !== undefined;
  }

  /** A new sandbox: limits set, counters from zero; CPU unthrottled while it initializes (the boost). */
  newSandbox(): void {
    const cg = this.#cg;
    if (!cg) return;
    cg.resetCounters();
    if (this.#opts.memory) cg.setMemory(this.#memoryMB);
    if (this.#opts.cpu) cg.setCpu(this.#opts.initBoost ? null : this.#memoryMB, this.#opts.cpuPeriodUs);
  }

  /** INIT is over: from now on the sandbox gets its share of a core. */
  initDone(): void {
    if (this.#cg && this.#opts.cpu) this.#cg.setCpu(this.#memoryMB, this.#opts.cpuPeriodUs);
  }

  /** The cgroup.procs files a sandbox process joins before it runs; none when unlimited. */
  joinFiles(name: string, runtime: boolean): string[] | undefined {
    return this.#cg?.procsFiles(leafOf(name, runtime));
  }

  /** Cumulative CPU ms (user+sys) of each member: its cgroup's usage, else /proc (live processes only). */
  cpuMs(runtime: SandboxMember | undefined, extensions: readonly SandboxMember[]): Record<string, number> {
    const out: Record<string, number> = {};
    const read = (m: SandboxMember, isRuntime: boolean): void => {
      const ms = this.#cg?.cpuMs(leafOf(m.name, isRuntime)) ?? procCpuMs(m.pid);
      if (ms !== undefined) out[isRuntime ? 'runtime' : m.name] = ms;
    };
    if (runtime) read(runtime, true);
    for (const e of extensions) read(e, false);
    return out;
  }

  oomKills(): number {
    return this.#cg?.oomKills() ?? 0;
  }

  /** Whether an OOM kill was counted since `before`; the counter can trail the SIGKILL by a moment. */
  async oomSince(before: number): Promise<boolean> {
    if (!this.applied) return false;
    for (let i = 0; i < 10; i++) {
      if (this.oomKills() > before) return true;
      await new Promise((r) => setTimeout(r, 5));
    }
    return false;
  }

  /** Peak memory of the sandbox in MB, at most the limit; undefined when the cgroup does not keep one. */
  peakMB(): number | undefined {
    const bytes = this.#cg?.peakMemoryBytes();
    return bytes === undefined ? undefined : Math.min(this.#memoryMB, Math.ceil(bytes / (1024 * 1024)));
  }

  get canFreeze(): boolean {
    return this.#cg?.hasFreezer ?? false;
  }

  freeze(): Promise<boolean> {
    return this.#cg?.freeze() ?? Promise.resolve(false);
  }

  thaw(): void {
    this.#cg?.thaw();
  }

  close(): Promise<void> {
    return this.#cg?.remove() ?? Promise.resolve();
  }

  /** Best effort from a process 'exit' hook (no awaiting there). */
  closeSync(): void {
    this.#cg?.thaw();
    this.#cg?.removeSync();
  }
}

/** `b - a` per member, rounded to µs; members missing from `a` count from zero. */
export function cpuDelta(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) out[k] = Math.round((v - (a[k] ?? 0)) * 1000) / 1000;
  return out;
}
