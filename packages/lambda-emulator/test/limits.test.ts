// Lambda's limits through cgroups: CPU share, memory limit with Lambda's OOM report, freezer, CPU
// accounting per process, and the fallback where no cgroup can be made. The cgroup tests need a
// writable hierarchy (root here and in CI); elsewhere they are skipped with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LambdaEmulator } from '../src/emulator.js';
import { detectHierarchies } from '../src/cgroups.js';
import { SandboxLimits } from '../src/limits.js';
import { fnDir, optDir, recorded, telemetryOf, tempFile } from './helpers.js';

const detected = detectHierarchies();
const skip = 'reason' in detected ? `cgroups not writable here: ${detected.reason}` : false;

function emulator(opts: ConstructorParameters<typeof LambdaEmulator>[0] = {}, out = tempFile('rec.jsonl')): LambdaEmulator {
  return new LambdaEmulator({ optDir, runtime: { handler: 'index.handler', taskRoot: fnDir }, timeoutMs: 8000, ...opts, env: { RECORDER_OUT: out } });
}

function ourGroups(): string[] {
  if ('reason' in detected) return [];
  return detected.hierarchies.flatMap((h) => readdirSync(h.base).filter((n) => n.startsWith(`dd-lambda-emulator-${process.pid}-`)));
}

test('at N MB a CPU-bound function takes ~1769/N times its unlimited wall time; INIT is boosted', { skip }, async () => {
  const free = emulator({ memoryMB: 442 });
  await free.invoke({ action: 'burn', ms: 10 }); // warm up the JIT outside the measure
  const a = await free.invoke({ action: 'burn', ms: 200 });
  await free.close();
  const limited = emulator({ memoryMB: 442, limits: true });
  assert.equal(limited.limits.applied, true, JSON.stringify(limited.limits));
  const init = await limited.init();
  const warm = await limited.invoke({ action: 'burn', ms: 10 });
  const b = await limited.invoke({ action: 'burn', ms: 200 });
  await limited.close();
  const wallA = (JSON.parse(a.payload.toString()) as { wallMs: number }).wallMs;
  const wallB = (JSON.parse(b.payload.toString()) as { wallMs: number }).wallMs;
  const ratio = wallB / wallA;
  // 1769/442 = 4.0; the bounds leave room for a shared machine, not for a missing throttle (ratio ~1).
  assert.ok(ratio > 2.5 && ratio < 6.5, `throttled ${wallB} ms vs unlimited ${wallA} ms: ratio ${ratio.toFixed(2)}`);
  // CPU per process is accounted per phase; the runtime's matches what the function measured itself.
  assert.ok((b.cpuMs['runtime'] ?? 0) >= 195, JSON.stringify(b.cpuMs));
  assert.ok(typeof b.cpuMs['recorder'] === 'number', JSON.stringify(b.cpuMs));
  assert.ok((init.cpuMs['runtime'] ?? 0) > 10 && (init.cpuMs['recorder'] ?? 0) > 10, JSON.stringify(init.cpuMs));
  assert.equal(warm.status, 'success');
  // Unthrottled INIT: the same start-up with the boost off takes several times as long.
  const unboosted = emulator({ memoryMB: 442, limits: { initBoost: false } });
  const slow = await unboosted.init();
  await unboosted.close();
  assert.equal(slow.status, 'success');
  assert.ok(slow.durationMs > 1.8 * init.durationMs, `INIT ${init.durationMs.toFixed(0)} ms boosted, ${slow.durationMs.toFixed(0)} ms throttled`);
  assert.deepEqual(ourGroups(), [], 'cgroups removed on close');
});

test('an allocation past the memory limit is an OOM reported as Lambda reports it, and the sandbox is reset', { skip }, async () => {
  const out = tempFile('rec.jsonl');
  const emu = emulator({ memoryMB: 128, limits: true }, out);
  const ok = await emu.invoke({ action: 'alloc', mb: 8 });
  const oom = await emu.invoke({ action: 'alloc', mb: 400 });
  const after = await emu.invoke({ action: 'none' });
  await emu.shutdown();
  await emu.close();
  assert.equal(ok.status, 'success');
  assert.equal(oom.status, 'error');
  assert.equal(oom.error?.errorType, 'Runtime.OutOfMemory');
  assert.match(oom.error?.errorMessage ?? '', /Runtime exited with error: signal: killed/);
  assert.equal(oom.reset, true);
  assert.equal(after.status, 'success', 'the next invocation runs in a new sandbox');
  const events = telemetryOf(recorded(out));
  const done = events.find((e) => e.type === 'platform.runtimeDone' && e.record.requestId === oom.requestId);
  assert.equal(done?.record['status'], 'error');
  assert.equal(done?.record['errorType'], 'Runtime.OutOfMemory');
  const report = events.find((e) => e.type === 'platform.report' && e.record.requestId === oom.requestId);
  assert.equal((report?.record['metrics'] as { maxMemoryUsedMB: number }).maxMemoryUsedMB, 128);
  const first = events.find((e) => e.type === 'platform.report' && e.record.requestId === ok.requestId);
  const used = (first?.record['metrics'] as { maxMemoryUsedMB: number }).maxMemoryUsedMB;
  assert.ok(used > 8 && used < 128, `max memory used ${used} MB`);
});

test('between invocations the sandbox is frozen: a timer left running by the function burns nothing', { skip }, async () => {
  const idleCpu = async (emu: LambdaEmulator): Promise<number> => {
    await emu.invoke({ action: 'spin' });
    const before = emu.cpuMs()['runtime'] ?? 0;
    await new Promise((r) => setTimeout(r, 400));
    const spent = (emu.cpuMs()['runtime'] ?? 0) - before;
    await emu.close();
    return spent;
  };
  const frozen = await idleCpu(emulator({ memoryMB: 1769, limits: true }));
  const running = await idleCpu(emulator({ memoryMB: 1769, limits: true, freeze: false }));
  assert.ok(frozen < 5, `frozen sandbox used ${frozen} ms of CPU`);
  assert.ok(running > 50, `the control (not frozen) used only ${running} ms: the spin fixture is broken`);
});

test('without a writable hierarchy the limits say why once and the sandbox runs unlimited', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'cg-none-'));
  mkdirSync(path.join(root, 'proc/self'), { recursive: true });
  writeFileSync(path.join(root, 'proc/self/mountinfo'), '22 1 0:20 / /sys rw - sysfs sysfs rw\n');
  writeFileSync(path.join(root, 'proc/self/cgroup'), '0::/\n');
  const warnings: string[] = [];
  const limits = new SandboxLimits(
    128,
    true,
    (m) => {
      warnings.push(m);
    },
    { root },
  );
  assert.equal(limits.applied, false);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /running unlimited: no writable cgroup hierarchy/);
  assert.equal(limits.joinFiles('x', false), undefined);
  limits.newSandbox();
  assert.equal(limits.oomKills(), 0);
  const off = new SandboxLimits(
    128,
    undefined,
    (m) => {
      warnings.push(m);
    },
    { root },
  );
  assert.deepEqual(off.status, { requested: false, applied: false });
  assert.equal(warnings.length, 1);
});

test('detects cgroup v1 per controller and v2 delegation from mountinfo, nested under our own group', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'cg-'));
  const mk = (p: string): void => {
    mkdirSync(path.join(root, p), { recursive: true });
  };
  mk('proc/self');
  mk('sys/fs/cgroup/cpu,cpuacct/job');
  mk('sys/fs/cgroup/memory/job/sub');
  mk('sys/fs/cgroup/freezer');
  writeFileSync(
    path.join(root, 'proc/self/mountinfo'),
    [
      '30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct',
      '31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory',
      '32 25 0:28 / /sys/fs/cgroup/freezer rw,nosuid - cgroup cgroup rw,freezer',
      '',
    ].join('\n'),
  );
  writeFileSync(path.join(root, 'proc/self/cgroup'), '3:freezer:/\n2:memory:/job/sub\n1:cpu,cpuacct:/job\n0::/\n');
  const v1 = detectHierarchies({ root });
  assert.ok(!('reason' in v1));
  assert.deepEqual(
    v1.hierarchies.map((h) => [h.version, path.relative(root, h.base), h.controllers.join('+')]),
    [
      [1, 'sys/fs/cgroup/cpu,cpuacct/job', 'cpu+cpuacct'],
      [1, 'sys/fs/cgroup/memory/job/sub', 'memory'],
      [1, 'sys/fs/cgroup/freezer', 'freezer'],
    ],
  );

  const root2 = mkdtempSync(path.join(tmpdir(), 'cg2-'));
  mkdirSync(path.join(root2, 'proc/self'), { recursive: true });
  mkdirSync(path.join(root2, 'sys/fs/cgroup/user.slice/me'), { recursive: true });
  writeFileSync(path.join(root2, 'sys/fs/cgroup/cgroup.controllers'), 'cpuset cpu io memory pids\n');
  writeFileSync(path.join(root2, 'proc/self/mountinfo'), '25 1 0:24 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n');
  writeFileSync(path.join(root2, 'proc/self/cgroup'), '0::/user.slice/me\n');
  const v2 = detectHierarchies({ root: root2 });
  assert.ok(!('reason' in v2));
  assert.equal(v2.hierarchies[0]?.version, 2);
  assert.equal(path.relative(root2, v2.hierarchies[0]?.base ?? ''), 'sys/fs/cgroup/user.slice/me');
});
