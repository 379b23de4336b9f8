import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ProcSampler, sampleIntervalMs } from '../src/proc.js';
import { resolveRuntime } from '../src/runtime.js';
import { PID_LIST_TTL_MS } from '../src/proc.js';
import { T0, harness, invocationEvents } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.resolve(here, '../../test/fixtures/proc');

function copy(): { root: string; done: () => void } {
  const root = mkdtempSync(path.join(tmpdir(), 'ddl-proc-'));
  cpSync(FIXTURE, root, { recursive: true });
  return { root, done: () => rmSync(root, { recursive: true, force: true }) };
}

/** The invocation's activity: 1 s of wall time on 2 cores, CPU used, bytes moved, one more fd. */
function advance(root: string): void {
  writeFileSync(path.join(root, 'stat'), 'cpu  1030 0 520 21000 10 0 5 0 0 0\ncpu0 620 0 310 10400 5 0 3 0 0 0\ncpu1 410 0 210 10600 5 0 2 0 0 0\n');
  writeFileSync(path.join(root, 'uptime'), '310.00 610.00\n');
  writeFileSync(
    path.join(root, 'net', 'dev'),
    'h1\nh2\nvinternal_1:  502048    400    0    0    0     0          0         0   201024     300    0    0    0     0       0          0\n',
  );
  writeFileSync(path.join(root, '101', 'fd', '3'), '');
}

test('deltas over an invocation: network, CPU times and utilisation; peaks of fds and threads; limits', () => {
  const { root, done } = copy();
  try {
    const s = new ProcSampler({ root, tmp: tmpdir(), iface: 'vinternal_1' });
    s.begin();
    assert.ok(s.running);
    advance(root);
    s.sample();
    rmSync(path.join(root, '101', 'fd', '3'));
    const v = s.end();
    assert.ok(!s.running, 'sampling stops with the invocation');
    assert.deepEqual([v['rx_bytes'], v['tx_bytes'], v['total_network']], [2048, 1024, 3072]);
    assert.deepEqual([v['cpu_user_time'], v['cpu_system_time'], v['cpu_total_time'], v['num_cores']], [300, 200, 500, 2]);
    // 10 s of uptime; idle 4 s on cpu0 and 6 s on cpu1 -> 60 % and 40 % busy, 50 % overall.
    assert.deepEqual([v['cpu_max_utilization'], v['cpu_min_utilization'], v['cpu_total_utilization_pct'], v['cpu_total_utilization']], [60, 40, 50, 1]);
    assert.deepEqual([v['fd_use'], v['fd_max'], v['threads_use'], v['threads_max']], [5, 1024, 3, 1024], 'the peak (5 fds) is kept after one was closed');
    assert.ok((v['tmp_max'] ?? 0) > 0 && (v['tmp_used'] ?? -1) >= 0 && (v['tmp_free'] ?? -1) >= 0);
  } finally {
    done();
  }
});

test('the process list is read again only after its TTL, so back-to-back invocations share it', () => {
  const { root, done } = copy();
  try {
    let now = 0;
    const s = new ProcSampler({ root, tmp: tmpdir(), iface: 'vinternal_1', now: () => now });
    s.begin();
    const before = s.end()['threads_use'];
    // A new sandbox process (its own fd and task dirs, the sandbox variable in its environment).
    cpSync(path.join(root, '101'), path.join(root, '404'), { recursive: true });
    now += PID_LIST_TTL_MS - 1;
    s.begin();
    assert.equal(s.end()['threads_use'], before, 'within the TTL the old list is used');
    now += 1;
    s.begin();
    assert.ok((s.end()['threads_use'] ?? 0) > (before ?? 0), 'after the TTL the new process counts');
  } finally {
    done();
  }
});

test('the tick stretches with the CPU share below one vCPU', () => {
  assert.equal(sampleIntervalMs(1769), 10);
  assert.equal(sampleIntervalMs(10240), 10);
  assert.equal(sampleIntervalMs(512), 35);
  assert.equal(sampleIntervalMs(128), 138);
});

test('a missing or malformed /proc gives no values rather than errors', () => {
  const s = new ProcSampler({ root: path.join(tmpdir(), 'no-such-proc'), tmp: path.join(tmpdir(), 'no-such-tmp'), iface: 'vinternal_1' });
  s.begin();
  assert.deepEqual(s.end(), {});
  const { root, done } = copy();
  try {
    writeFileSync(path.join(root, 'stat'), 'garbage\n');
    const bad = new ProcSampler({ root, tmp: path.join(tmpdir(), 'no-such-tmp'), iface: 'eth9' });
    bad.begin();
    const v = bad.end();
    assert.equal(v['cpu_total_time'], undefined);
    assert.equal(v['rx_bytes'], undefined, 'the interface is not there');
    assert.equal(v['fd_use'], 4);
  } finally {
    done();
  }
});

test('the processor samples from INVOKE to runtimeDone and tags the values like the other enhanced metrics', () => {
  const { root, done } = copy();
  try {
    const h = harness({ proc: { root, tmp: tmpdir(), iface: 'vinternal_1' } });
    h.p.invoke('r1', T0);
    advance(root);
    const e = invocationEvents('r1', T0, { runtimeMs: 5, reportMs: 6 });
    h.p.platform([e.start, e.done]);
    assert.deepEqual(
      h.named('rx_bytes').map((p) => [p.value, p.tags.join(',')]),
      [[2048, 'cold_start:true']],
    );
    assert.equal(h.named('cpu_total_utilization_pct')[0]?.value, 50);
    assert.equal(h.named('threads_use')[0]?.value, 3);
  } finally {
    done();
  }
});

test('runtime for custom runtimes: AWS_EXECUTION_ENV of a sandbox process, else the OS image', () => {
  assert.equal(resolveRuntime(FIXTURE, '/nonexistent'), 'java21');
  const dir = mkdtempSync(path.join(tmpdir(), 'ddl-os-'));
  try {
    writeFileSync(path.join(dir, 'al2023'), 'NAME="Amazon Linux"\nVERSION="2023"\nVERSION_ID="2023"\n');
    writeFileSync(path.join(dir, 'al2'), 'NAME="Amazon Linux"\nVERSION="2"\nVERSION_ID="2"\n');
    writeFileSync(path.join(dir, 'debian'), 'NAME="Debian GNU/Linux"\nVERSION_ID="12"\n');
    const empty = path.join(dir, 'no-proc');
    assert.deepEqual(
      ['al2023', 'al2', 'debian'].map((f) => resolveRuntime(empty, path.join(dir, f))),
      ['provided.al2023', 'provided.al2', undefined],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('managed instances: one sampling while any invocation runs; sandbox-wide peaks and limits at SHUTDOWN, no per-invocation values', () => {
  const { root, done } = copy();
  try {
    const h = harness({ managed: true, proc: { root, tmp: tmpdir(), iface: 'vinternal_1' } });
    h.p.platform([{ time: new Date(T0).toISOString(), type: 'platform.start', record: { requestId: 'm1' } }]);
    h.p.platform([{ time: new Date(T0 + 1).toISOString(), type: 'platform.start', record: { requestId: 'm2' } }]);
    advance(root);
    for (const id of ['m1', 'm2'])
      h.p.platform([{ time: new Date(T0 + 10).toISOString(), type: 'platform.report', record: { requestId: id, status: 'success', metrics: { durationMs: 9 } } }]);
    assert.equal(h.named('rx_bytes').length + h.named('fd_use').length, 0, 'nothing per invocation');
    h.p.shutdown(T0 + 100);
    const fd = h.named('fd_use');
    assert.equal(fd.length, 1);
    assert.deepEqual(fd[0]?.tags, []);
    assert.ok((h.named('threads_use')[0]?.value ?? 0) > 0);
    assert.ok(h.named('fd_max').length === 1 && h.named('tmp_max').length === 1);
  } finally {
    done();
  }
});
