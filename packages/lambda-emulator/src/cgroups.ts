// Lambda's resource limits for the sandbox, applied with Linux cgroups (v1 or v2, detected):
//   - a CPU quota of memoryMB/1769 of a core per period (Lambda gives one vCPU at 1,769 MB, per the
//     "Configuring Lambda function memory" page of the AWS docs), lifted during INIT (boost);
//   - a memory limit of memoryMB for every sandbox process together (the kernel OOM-kills past it);
//   - the freezer, so nothing runs between invocations;
//   - CPU accounting per sandbox process (one leaf group each), so results report user+sys per phase.
// Groups are made under the emulator's own cgroup (nested, never beside it), named after the emulator,
// and removed on close. Where no hierarchy is writable, `openSandboxCgroups` says why and the caller
// runs unlimited.
import { mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type Controller = 'cpu' | 'memory' | 'freezer' | 'cpuacct';

/** One Lambda vCPU per this many MB. */
export const MB_PER_VCPU = 1769;
/** CFS period; Lambda's is not published, so it stays a parameter. */
export const DEFAULT_CPU_PERIOD_US = 100_000;
const GROUP_PREFIX = 'dd-lambda-emulator';

interface Hierarchy {
  version: 1 | 2;
  /** The directory of the emulator's own cgroup in this hierarchy. */
  base: string;
  controllers: Controller[];
}

export interface CgroupProbe {
  /** Where /proc and /sys are; tests point it at a fixture tree. */
  root?: string;
}

/** Finds a writable place for each controller the limits need, or explains why there is none. */
export function detectHierarchies(probe: CgroupProbe = {}): { hierarchies: Hierarchy[] } | { reason: string } {
  const root = probe.root ?? '/';
  let mountinfo: string;
  let own: string;
  try {
    mountinfo = readFileSync(path.join(root, 'proc/self/mountinfo'), 'utf8');
    own = readFileSync(path.join(root, 'proc/self/cgroup'), 'utf8');
  } catch {
    return { reason: 'no /proc/self/mountinfo or /proc/self/cgroup (not Linux?)' };
  }
  const ownPath = new Map<string, string>();
  for (const line of own.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[2] === '') ownPath.set('', m[3] ?? '/');
    else for (const c of (m[2] ?? '').split(',')) ownPath.set(c, m[3] ?? '/');
  }
  const found: Hierarchy[] = [];
  const have = new Set<Controller>();
  let v2: { mount: string } | undefined;
  for (const line of mountinfo.split('\n')) {
    // id parent major:minor root mountpoint opts [optional...] - fstype source superopts
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const mount = path.join(root, left[4] ?? '');
    if (right[0] === 'cgroup2') {
      v2 ??= { mount };
      continue;
    }
    if (right[0] !== 'cgroup') continue;
    const opts = (right[2] ?? '').split(',');
    const ctrls = (['cpu', 'cpuacct', 'memory', 'freezer'] as const).filter((c) => opts.includes(c) && !have.has(c));
    if (ctrls.length === 0) continue;
    const mountRoot = left[3] ?? '/';
    const rel = path.relative(mountRoot, ownPath.get(ctrls[0] ?? 'cpu') ?? '/');
    const base = path.join(mount, rel.startsWith('..') ? '' : rel);
    if (!writable(base)) continue;
    for (const c of ctrls) have.add(c);
    found.push({ version: 1, base, controllers: [...ctrls] });
  }
  if (!have.has('cpu') || !have.has('memory')) {
    // cgroup v2: the unified hierarchy, when it delegates cpu and memory to us.
    if (v2) {
      const base = path.join(v2.mount, ownPath.get('') ?? '/');
      let controllers: string[] = [];
      try {
        controllers = readFileSync(path.join(v2.mount, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
      } catch {
        // none
      }
      if (controllers.includes('cpu') && controllers.includes('memory') && writable(base)) {
        return { hierarchies: [{ version: 2, base, controllers: ['cpu', 'memory', 'freezer', 'cpuacct'] }] };
      }
    }
    return { reason: 'no writable cgroup hierarchy with the cpu and memory controllers (run as root, or delegate a cgroup v2 subtree)' };
  }
  return { hierarchies: found };
}

function writable(dir: string): boolean {
  const probe = path.join(dir, `${GROUP_PREFIX}-probe-${process.pid}`);
  try {
    mkdirSync(probe);
  } catch {
    return false;
  }
  try {
    rmdirSync(probe);
  } catch {
    // a v1 group just made may linger a moment; harmless
  }
  return true;
}

const safeLeaf = (name: string): string => name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64) || 'proc';

/**
 * The cgroups of one emulator's sandbox. Layout in every hierarchy: `<own>/<name>/` holds the limits
 * and the freezer, `<own>/<name>/<leaf>/` one sandbox process each (cgroup v2 allows processes only in
 * leaves, and a leaf's usage is that process's CPU, dead threads included).
 */
export class SandboxCgroups {
  readonly version: 1 | 2;
  readonly #dirs: { h: Hierarchy; dir: string }[];
  readonly #leaves = new Set<string>();
  #oomBase = 0;

  private constructor(hierarchies: Hierarchy[], name: string) {
    this.version = hierarchies[0]?.version ?? 1;
    this.#dirs = hierarchies.map((h) => ({ h, dir: path.join(h.base, name) }));
    for (const { h, dir } of this.#dirs) {
      mkdirSync(dir, { recursive: true });
      if (h.version === 2) {
        // Let the sandbox group's children be limited and accounted.
        tryWrite(path.join(h.base, 'cgroup.subtree_control'), '+cpu +memory');
        tryWrite(path.join(dir, 'cgroup.subtree_control'), '+cpu');
      }
    }
  }

  static open(name: string, probe: CgroupProbe = {}): SandboxCgroups | { reason: string } {
    sweepStale(probe);
    const d = detectHierarchies(probe);
    if ('reason' in d) return d;
    try {
      return new SandboxCgroups(d.hierarchies, `${GROUP_PREFIX}-${process.pid}-${name}`);
    } catch (err) {
      return { reason: `cannot create the sandbox cgroup: ${(err as Error).message}` };
    }
  }

  #dir(c: Controller): { h: Hierarchy; dir: string } | undefined {
    return this.#dirs.find((d) => d.h.controllers.includes(c));
  }

  get hasFreezer(): boolean {
    return this.#dir('freezer') !== undefined;
  }

  /** The `cgroup.procs` files a new sandbox process must write its pid into before it execs. */
  procsFiles(leafName: string): string[] {
    const leaf = safeLeaf(leafName);
    this.#leaves.add(leaf);
    const files: string[] = [];
    for (const { dir } of this.#dirs) {
      const d = path.join(dir, leaf);
      mkdirSync(d, { recursive: true });
      files.push(path.join(d, 'cgroup.procs'));
    }
    return files;
  }

  /** CPU share of `memoryMB` (null: unlimited, the INIT boost). */
  setCpu(memoryMB: number | null, periodUs = DEFAULT_CPU_PERIOD_US): void {
    const c = this.#dir('cpu');
    if (!c) return;
    const quota = memoryMB === null ? -1 : Math.max(1000, Math.round((periodUs * memoryMB) / MB_PER_VCPU));
    if (c.h.version === 2) {
      writeFileSync(path.join(c.dir, 'cpu.max'), `${quota < 0 ? 'max' : quota} ${periodUs}`);
    } else {
      // The period first: a quota is checked against the current period.
      writeFileSync(path.join(c.dir, 'cpu.cfs_quota_us'), '-1');
      writeFileSync(path.join(c.dir, 'cpu.cfs_period_us'), String(periodUs));
      writeFileSync(path.join(c.dir, 'cpu.cfs_quota_us'), String(quota));
    }
  }

  setMemory(memoryMB: number): void {
    const m = this.#dir('memory');
    if (!m) return;
    const bytes = String(memoryMB * 1024 * 1024);
    if (m.h.version === 2) {
      writeFileSync(path.join(m.dir, 'memory.max'), bytes);
      tryWrite(path.join(m.dir, 'memory.swap.max'), '0');
    } else {
      // memsw (memory + swap) must be raised after and lowered before memory itself; Lambda has no swap.
      tryWrite(path.join(m.dir, 'memory.memsw.limit_in_bytes'), '-1');
      writeFileSync(path.join(m.dir, 'memory.limit_in_bytes'), bytes);
      tryWrite(path.join(m.dir, 'memory.memsw.limit_in_bytes'), bytes);
      tryWrite(path.join(m.dir, 'memory.swappiness'), '0');
    }
  }

  /** OOM kills in the sandbox since the last `resetCounters()`. */
  oomKills(): number {
    return this.#oomTotal() - this.#oomBase;
  }

  #oomTotal(): number {
    const m = this.#dir('memory');
    if (!m) return 0;
    const count = (dir: string, file: string): number => Number(/^oom_kill (\d+)/m.exec(tryRead(path.join(dir, file)) ?? '')?.[1] ?? 0);
    // v2's memory.events counts the subtree; v1 counts a kill in the killed task's own group (a leaf).
    if (m.h.version === 2) return count(m.dir, 'memory.events');
    let n = count(m.dir, 'memory.oom_control');
    for (const leaf of this.#leaves) n += count(path.join(m.dir, leaf), 'memory.oom_control');
    return n;
  }

  /** Peak memory of the whole sandbox since the last reset, in bytes (undefined when not kept). */
  peakMemoryBytes(): number | undefined {
    const m = this.#dir('memory');
    if (!m) return undefined;
    const text = tryRead(path.join(m.dir, m.h.version === 2 ? 'memory.peak' : 'memory.max_usage_in_bytes'));
    const n = Number(text?.trim());
    return text !== undefined && Number.isFinite(n) ? n : undefined;
  }

  /** A new sandbox (after a reset) starts its counters at zero. */
  resetCounters(): void {
    this.#oomBase = this.#oomTotal();
    const m = this.#dir('memory');
    if (m?.h.version === 1) tryWrite(path.join(m.dir, 'memory.max_usage_in_bytes'), '0');
  }

  /** Cumulative CPU (user+sys) of the processes of one leaf, in ms; undefined without accounting. */
  cpuMs(leafName: string): number | undefined {
    const a = this.#dir('cpuacct');
    if (!a) return undefined;
    const dir = path.join(a.dir, safeLeaf(leafName));
    if (a.h.version === 2) {
      const usec = /^usage_usec (\d+)/m.exec(tryRead(path.join(dir, 'cpu.stat')) ?? '')?.[1];
      return usec === undefined ? undefined : Number(usec) / 1000;
    }
    const ns = tryRead(path.join(dir, 'cpuacct.usage'));
    return ns === undefined ? undefined : Number(ns.trim()) / 1e6;
  }

  /** Freezes every sandbox process; resolves once the kernel says the group is frozen. */
  async freeze(timeoutMs = 1000): Promise<boolean> {
    const f = this.#dir('freezer');
    if (!f) return false;
    const v2 = f.h.version === 2;
    writeFileSync(path.join(f.dir, v2 ? 'cgroup.freeze' : 'freezer.state'), v2 ? '1' : 'FROZEN');
    const end = performance.now() + timeoutMs;
    for (;;) {
      const state = v2 ? /^frozen (\d)/m.exec(tryRead(path.join(f.dir, 'cgroup.events')) ?? '')?.[1] === '1' : tryRead(path.join(f.dir, 'freezer.state'))?.trim() === 'FROZEN';
      if (state) return true;
      if (performance.now() > end) return false;
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  thaw(): void {
    const f = this.#dir('freezer');
    if (!f) return;
    const v2 = f.h.version === 2;
    tryWrite(path.join(f.dir, v2 ? 'cgroup.freeze' : 'freezer.state'), v2 ? '0' : 'THAWED');
  }

  /** Removes the groups (the processes in them must be gone). Retries briefly: dying tasks linger. */
  async remove(): Promise<void> {
    this.thaw();
    for (let i = 0; i < 50; i++) {
      if (this.removeSync()) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** One removal attempt; true when nothing is left. */
  removeSync(): boolean {
    let left = false;
    for (const { dir } of this.#dirs) {
      for (const leaf of this.#leaves) left = !rmdirQuiet(path.join(dir, leaf)) || left;
      left = !rmdirQuiet(dir) || left;
    }
    return !left;
  }
}

function rmdirQuiet(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function tryRead(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function tryWrite(file: string, value: string): boolean {
  try {
    writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
}

/** Groups left by an emulator process that died without closing (its pid is gone) are removed. */
function sweepStale(probe: CgroupProbe): void {
  const d = detectHierarchies(probe);
  if ('reason' in d) return;
  for (const h of d.hierarchies) {
    let names: string[];
    try {
      names = readdirSync(h.base).filter((n) => n.startsWith(`${GROUP_PREFIX}-`));
    } catch {
      continue;
    }
    for (const n of names) {
      const pid = Number(/^dd-lambda-emulator-(\d+)-/.exec(n)?.[1]);
      if (!Number.isInteger(pid) || pid === process.pid || pidAlive(pid)) continue;
      const dir = path.join(h.base, n);
      try {
        for (const leaf of readdirSync(dir, { withFileTypes: true })) if (leaf.isDirectory()) rmdirQuiet(path.join(dir, leaf.name));
      } catch {
        // already gone
      }
      rmdirQuiet(dir);
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** CPU ms (user+sys, including waited-for children) of one process from /proc: the fallback without accounting. */
export function procCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const stat = tryRead(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14-17 (utime, stime, cutime, cstime) are at 11-14 after the command.
  const ticks = [11, 12, 13, 14].reduce((s, i) => s + Number(f[i] ?? 0), 0);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}
