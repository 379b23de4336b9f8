// The shipped layer, exactly as Lambda would run it: the zips (built by `pnpm layer`, which `pnpm test`
// runs first) unzipped into a fresh opt/, each full one started with its own Node through INIT,
// invocations with traces, metrics and logs, and SHUTDOWN (the arm64 one under qemu-user on an x86_64
// host); the slim one with the runtime's Node, and refusing where there is none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildFakeIntake } from '@dd-lambda/fake-intake';
import { LambdaEmulator } from '@dd-lambda/lambda-emulator';
import { API_KEY, ExtensionLogs, fixtures, portEnv, root } from './helpers.js';

const zip = (name: string): string => path.join(root, 'layer', 'dist', name);

function unzip(file: string): { opt: string; done: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'ddl-layer-'));
  const opt = path.join(dir, 'opt');
  execFileSync(process.execPath, [path.join(root, 'layer', 'src', 'unzip.mjs'), file, opt], { stdio: 'ignore' });
  return { opt, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Where the arm64 layer's Node can run on an x86_64 host: Debian's qemu-user-static and the arm64 C/C++ runtime. */
const QEMU = '/usr/bin/qemu-aarch64-static';
const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';
const qemuMissing =
  process.arch === 'arm64'
    ? false
    : !existsSync(QEMU) || !existsSync(path.join(ARM64_SYSROOT, 'lib', 'libstdc++.so.6'))
      ? `needs ${QEMU} and ${ARM64_SYSROOT} (apt-get install qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross; .ci/run does)`
      : false;

/**
 * A full layer through INIT, 3 invocations with dd-trace spans, hot-shots metrics and logs, one error,
 * and SHUTDOWN; `prepare` adapts the unzipped opt/ (the arm64 one runs its Node under qemu).
 */
async function fullLayerRun(zipName: string, prepare: (opt: string) => string, timeoutMs = 3000): Promise<void> {
  assert.ok(existsSync(zip(zipName)), 'run `pnpm layer` (pnpm test does) first');
  const { opt, done } = unzip(zip(zipName));
  const expectedExe = prepare(opt);
  const intake = buildFakeIntake({ apiKey: API_KEY });
  const url = await intake.listen();
  const logs = new ExtensionLogs();
  const ports = await portEnv();
  const emu = new LambdaEmulator({
    optDir: opt,
    runtime: { handler: 'index.handler', taskRoot: path.join(fixtures, 'sample-function') },
    timeoutMs,
    initTimeoutMs: Math.max(10_000, timeoutMs),
    env: {
      ...ports,
      DD_API_KEY: API_KEY,
      DD_DD_URL: url,
      DD_APM_DD_URL: url,
      DD_LOGS_CONFIG_LOGS_DD_URL: url,
      DD_LOG_LEVEL: 'debug',
      // dd-trace decides on the agent exporter from /opt/extensions/datadog-agent; this opt/ is elsewhere.
      DD_TRACE_AGENT_PORT: ports['DD_APM_RECEIVER_PORT'] as string,
      DD_TRACE_EXPERIMENTAL_EXPORTER: 'agent',
    },
    onLog: logs.onLog,
  });
  try {
    const init = await emu.init();
    assert.equal(init.status, 'success');
    const pid = emu.sandboxPids().extensions['datadog-agent'];
    assert.equal(readlinkSync(`/proc/${pid}/exe`), expectedExe, "the launcher chose the layer's Node");
    const results = [];
    for (const [i, fail] of [
      [1, false],
      [2, false],
      [3, true],
    ] as const)
      results.push(await emu.invoke({ orderId: i, fail }));
    assert.deepEqual(
      results.map((r) => r.status),
      ['success', 'success', 'error'],
    );
    const sd = await emu.shutdown();
    assert.equal(sd.extensions.find((e) => e.name === 'datadog-agent')?.killed, false, 'exited before the deadline');

    const assignment = logs.find('worker assignment');
    assert.equal(String(assignment?.['node']).split('.')[0], '22', "the supervisor runs on Node 22 (the layer's)");
    assert.equal(logs.find('msgpack decoder')?.['nativeAddon'], true, 'msgpackr found the prebuilt addon in the layer');
    const spans = intake.spans().map((s) => s.span);
    assert.equal(spans.filter((s) => s.name === 'order.process').length, 3);
    const db = spans.filter((s) => s.name === 'db.query');
    assert.equal(db.length, 3);
    assert.ok(
      db.every((s) => s.resource === 'SELECT * FROM orders WHERE id = ?'),
      'SQL obfuscated',
    );
    assert.equal(
      intake.metricPoints('orders.processed').reduce((n, p) => n + p.value, 0),
      3,
    );
    assert.equal(
      intake.sketchPoints('aws.lambda.enhanced.invocations').reduce((n, p) => n + p.count, 0),
      3,
    );
    assert.equal(
      intake.sketchPoints('aws.lambda.enhanced.errors').reduce((n, p) => n + p.count, 0),
      1,
    );
    const lines = intake.logs();
    for (const r of results)
      assert.ok(
        lines.some((l) => String(l['message']).includes('processing order') && (l['lambda'] as { request_id: string }).request_id === r.requestId),
        `logs of ${r.requestId}`,
      );
    const shutdown = logs.find('shutdown complete');
    assert.ok(shutdown, 'SHUTDOWN finished');
    assert.equal(shutdown['pending'], 0);
    assert.equal(intake.requests({ accepted: false }).length, 0);
  } finally {
    await emu.close();
    await intake.close();
    done();
  }
}

test('the full x86_64 layer runs on its own Node (22 LTS): traces, metrics and logs through INIT, 3 invocations and SHUTDOWN', async () => {
  await fullLayerRun('datadog-extension-x86_64.zip', (opt) => path.join(opt, 'datadog-lambda', 'bin', 'node'));
});

test('the full arm64 layer runs on its own Node (arm64, under qemu-user here) with its arm64 addon: traces, metrics, logs, SHUTDOWN', { skip: qemuMissing }, async () => {
  await fullLayerRun(
    'datadog-extension-arm64.zip',
    (opt) => {
      if (process.arch === 'arm64') return path.join(opt, 'datadog-lambda', 'bin', 'node');
      // The launcher still picks datadog-lambda/bin/node; here that is a two-line shim running the real
      // (arm64) binary under qemu with the arm64 C/C++ runtime.
      const bin = path.join(opt, 'datadog-lambda', 'bin');
      renameSync(path.join(bin, 'node'), path.join(bin, 'node.arm64'));
      writeFileSync(path.join(bin, 'node'), `#!/bin/sh\nexec ${QEMU} -L ${ARM64_SYSROOT} "$(dirname "$0")/node.arm64" "$@"\n`, { mode: 0o755 });
      return QEMU;
    },
    30_000,
  );
});

test("the slim layer runs on the runtime's Node, and refuses through init/error where there is none", async () => {
  const { opt, done } = unzip(zip('datadog-extension-x86_64-slim.zip'));
  try {
    assert.ok(!existsSync(path.join(opt, 'datadog-lambda', 'bin', 'node')), 'slim ships no Node');
    const logs = new ExtensionLogs();
    const ok = new LambdaEmulator({
      optDir: opt,
      env: { ...(await portEnv()), DD_API_KEY: API_KEY, DD_DD_URL: 'http://127.0.0.1:9', DD_APM_DD_URL: 'http://127.0.0.1:9', DD_LOGS_CONFIG_LOGS_DD_URL: 'http://127.0.0.1:9' },
      onLog: logs.onLog,
    });
    try {
      assert.equal((await ok.init()).status, 'success');
      assert.equal((await ok.invoke({})).status, 'success');
      await ok.shutdown();
      assert.equal(logs.find('worker assignment')?.['node'], process.versions.node, "the Node on PATH (here: the test's)");
    } finally {
      await ok.close();
    }
    const text: string[] = [];
    const none = new LambdaEmulator({ optDir: opt, env: { PATH: '/nonexistent' }, onLog: (l) => text.push(l.text) });
    try {
      const init = await none.init();
      assert.deepEqual([init.status, init.errorType], ['error', 'Extension.NodeNotFound']);
      assert.ok(
        text.some((t) => t.includes('use the full layer')),
        'the log says what to do',
      );
    } finally {
      await none.close();
    }
  } finally {
    done();
  }
});

test('the zips are deterministic (same bytes twice), keep Unix modes, and are within their budgets', () => {
  const dirs = [mkdtempSync(path.join(tmpdir(), 'ddl-zip-a-')), mkdtempSync(path.join(tmpdir(), 'ddl-zip-b-'))];
  try {
    for (const d of dirs) execFileSync(process.execPath, [path.join(root, 'layer', 'src', 'package.mjs'), '--arch', 'arm64', '--flavor', 'slim', '--out', d], { stdio: 'ignore' });
    const [a, b] = dirs.map((d) => readFileSync(path.join(d, 'datadog-extension-arm64-slim.zip')));
    assert.ok(a && b && a.length > 0);
    assert.ok(a.equals(b), 'two builds of one commit are byte-identical');
    const { opt, done } = unzip(path.join(dirs[0] as string, 'datadog-extension-arm64-slim.zip'));
    try {
      const mode = (p: string): number => statSync(path.join(opt, p)).mode & 0o777;
      assert.deepEqual(
        [mode('extensions/datadog-agent'), mode('datadog_wrapper'), mode('datadog-lambda/refuse.sh'), mode('datadog-lambda/supervisor.cjs')],
        [0o755, 0o755, 0o755, 0o644],
      );
      // The arm64 addon, not this machine's: an aarch64 ELF.
      const addon = readFileSync(path.join(opt, 'datadog-lambda/node_modules/msgpackr-extract/msgpackr-extract.node'));
      assert.equal(addon.readUInt16LE(18), 183, 'e_machine EM_AARCH64');
    } finally {
      done();
    }
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  const size = (n: string): number => statSync(zip(n)).size;
  for (const arch of ['x86_64', 'arm64']) {
    assert.ok(size(`datadog-extension-${arch}.zip`) <= 45_000_000, `${arch} full ≤ 45 MB`);
    assert.ok(size(`datadog-extension-${arch}-slim.zip`) <= 3_000_000, `${arch} slim ≤ 3 MB`);
  }
});
