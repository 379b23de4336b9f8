// Ending a sandbox as Lambda does: SIGTERM to the runtime, the platform's pending telemetry, SHUTDOWN
// to each external extension within the budget (2 s with external extensions, 500 ms with internal
// ones only), then SIGKILL for whatever is left.

import { cpuDelta } from './limits.js';
import type { Extension, Sandbox } from './sandbox.js';
import type { CpuByProcess, ExtensionShutdown, ShutdownReason, ShutdownResult } from './types.js';
import { sleep } from './http-util.js';

export async function teardown(sb: Sandbox, reason: ShutdownReason, cpuMs: () => CpuByProcess): Promise<ShutdownResult> {
  const t0 = performance.now();
  const cpu0 = cpuMs();
  const registered = sb.extensions.filter((e) => e.id !== undefined);
  const externals = registered.filter((e) => e.external);
  const budgetMs = sb.managed || externals.length > 0 ? 2000 : registered.length > 0 ? 500 : 0;
  const deadline = t0 + budgetMs;
  const deadlineMs = Date.now() + budgetMs;
  const runtimeShare = sb.managed ? 600 : registered.some((e) => !e.external) ? 500 : 300;
  let runtimeKilled = false;
  const rt = sb.runtime;
  if (rt?.alive) {
    rt.signal('SIGTERM');
    await Promise.race([rt.exited, sleep(Math.min(runtimeShare, budgetMs))]);
    if (rt.alive) {
      rt.signal('SIGKILL');
      runtimeKilled = true;
      await Promise.race([rt.exited, sleep(500)]);
    }
  }
  for (const res of sb.runtimePending) res.destroy();
  sb.runtimePending = [];
  // Records produced so far reach subscribers before SHUTDOWN, as the platform flushes them first.
  await sb.telemetry.flush(Math.min(Date.now() + 250, deadlineMs));

  const event = { eventType: 'SHUTDOWN', shutdownReason: reason, deadlineMs };
  const waiting: Extension[] = [];
  for (const e of externals) {
    // An extension that reported init/exit error was told to exit: no SHUTDOWN for it.
    if (!sb.extAlive(e) || e.state === 'init-error') continue;
    if (e.events.has('SHUTDOWN')) {
      e.shutdownAt = performance.now();
      e.doneAt = undefined;
      sb.deliver(e, event);
      waiting.push(e);
    } else {
      e.proc?.signal('SIGKILL');
    }
  }
  await sb.until(() => waiting.every((e) => !sb.extAlive(e) || (e.attached && e.doneAt !== undefined)), deadline);
  const results: ExtensionShutdown[] = [];
  for (const e of sb.extensions) {
    let killed = false;
    if (e.proc?.alive) {
      e.proc.signal('SIGKILL');
      killed = true;
      await Promise.race([e.proc.exited, sleep(500)]);
    }
    if (e.shutdownAt !== undefined || e.proc) {
      const endedAt = e.proc ? e.proc.exitedAt : e.doneAt;
      results.push({
        name: e.name,
        exitMs: !killed && e.shutdownAt !== undefined && endedAt !== undefined ? endedAt - e.shutdownAt : undefined,
        killed,
        exitCode: e.proc?.exitInfo?.code ?? null,
      });
    }
    if (e.pending && !e.pending.writableEnded) e.pending.destroy();
  }
  const cpu = cpuDelta(cpu0, cpuMs());
  for (const inv of sb.active.values()) inv.status ??= 'failure';
  sb.active.clear();
  sb.runtimeQueue = [];
  sb.runtime = undefined;
  sb.runtimeReadyAt = undefined;
  sb.extensions = [];
  sb.telemetry.resetSandbox();
  return { reason, durationMs: performance.now() - t0, budgetMs, extensions: results, runtimeKilled, cpuMs: cpu };
}
