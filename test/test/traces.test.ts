// The trace agent end to end: the real dd-trace 5.x inside a function under the emulator, the
// built extension on TCP and on a Unix socket, and the fake intake decoding AgentPayload strictly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Unpackr } from 'msgpackr';
import type { SpanRecord } from '@dd-lambda/fake-intake';
import { fixtures, portEnv, rig } from './helpers.js';

const FUNCTION = { runtime: { handler: 'index.handler', taskRoot: path.join(fixtures, 'dd-trace-function') } };
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

interface Ids {
  trace: string;
  root: string;
  child: string;
}

/** One raw request to the extension's trace port; `content-length` may lie (the oversize case). */
function put(port: number, path: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: 'PUT', headers: { 'content-type': 'application/msgpack', 'content-length': String(body.length), ...headers } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function tracerEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const ports = await portEnv();
  return {
    ...ports,
    DD_TRACE_EXPERIMENTAL_EXPORTER: 'agent',
    DD_TRACE_AGENT_PORT: ports['DD_APM_RECEIVER_PORT'] as string,
    DD_TRACE_STARTUP_LOGS: 'false',
    ...extra,
  };
}

function checkSpans(spans: SpanRecord[], ids: Ids, metaStruct: boolean): void {
  const root = spans.find((r) => r.span.spanID === BigInt(ids.root));
  const child = spans.find((r) => r.span.spanID === BigInt(ids.child));
  assert.ok(root && child, `spans ${ids.root} and ${ids.child} reached the intake`);
  for (const r of [root, child]) {
    assert.equal(r.span.traceID, BigInt(ids.trace));
    assert.equal(r.span.meta['_dd.origin'], 'lambda');
    assert.equal(r.span.meta['functionname'], 'test_function');
    assert.ok(r.tracerPayload.tags['_dd.tags.function']?.includes('functionname:test_function'));
    assert.equal(r.tracerPayload.languageName, 'nodejs');
    assert.match(r.tracerPayload.tracerVersion, /^5\./);
  }
  assert.deepEqual(
    [root.span.name, root.span.resource, root.span.service, root.span.type, root.span.parentID, root.span.error],
    ['handler.root', 'GET /orders', 'orders-api', 'web', 0n, 0],
  );
  assert.equal(root.span.meta['customer.tier'], 'gold');
  assert.equal(root.span.meta['http.method'], 'GET');
  assert.match(root.span.meta['_dd.p.tid'] ?? '', /^[0-9a-f]{16}$/);
  assert.equal(typeof root.span.metrics['_sampling_priority_v1'], 'number');
  assert.equal(root.span.metrics['_top_level'], 1);
  assert.equal(root.chunk.priority, root.span.metrics['_sampling_priority_v1']);
  assert.deepEqual([child.span.name, child.span.service, child.span.type, child.span.parentID, child.span.error], ['db.query', 'orders-db', 'sql', BigInt(ids.root), 1]);
  assert.equal(child.span.resource, 'SELECT * FROM orders WHERE id = ?', 'SQL obfuscated');
  assert.equal(child.span.meta['sql.query'], 'SELECT * FROM orders WHERE id = ?');
  assert.deepEqual([child.span.meta['error.type'], child.span.meta['error.message']], ['TypeError', 'query failed']);
  assert.match(child.span.meta['error.stack'] ?? '', /TypeError: query failed/);
  assert.equal(child.span.metrics['db.rows'], 3);
  assert.ok(child.span.start >= root.span.start && child.span.duration <= root.span.duration);
  const stack = root.span.meta_struct['_dd.stack'];
  if (metaStruct) {
    assert.ok(stack, 'meta_struct reached the intake');
    assert.deepEqual(unpackr.unpack(stack), { exploit: [{ language: 'nodejs', id: 'stack-1', frames: [{ id: 0, function: 'handler', line: 12 }] }] });
  } else {
    assert.equal(stack, undefined, 'v0.5 has no meta_struct');
  }
}

for (const version of ['0.4', '0.5']) {
  test(`dd-trace over v${version}: ids, names, resources, meta, metrics and errors arrive with the function tags`, async () => {
    const r = await rig(undefined, await tracerEnv({ DD_TRACE_AGENT_PROTOCOL_VERSION: version }), FUNCTION);
    try {
      assert.equal((await r.emu.init()).status, 'success');
      // Bad input on the real socket first: answered with an error, nothing else lost.
      const port = Number(r.env['DD_APM_RECEIVER_PORT']);
      const garbage = await put(port, `/v${version}/traces`, Buffer.from([0x92, 0xc1, 0xff]), {});
      assert.deepEqual([garbage.status, /msgpack|expected/.test(garbage.body)], [400, true], garbage.body);
      const oversize = await put(port, `/v${version}/traces`, Buffer.alloc(8), { 'content-length': String(60 * 1024 * 1024) });
      assert.equal(oversize.status, 413);
      const all: Ids[] = [];
      for (let i = 0; i < 2; i++) {
        const res = await r.emu.invoke({});
        assert.equal(res.status, 'success', res.payload?.toString());
        all.push(JSON.parse(res.payload?.toString() ?? '{}') as Ids);
      }
      await r.emu.shutdown();
      const spans = r.intake.spans();
      for (const ids of all) checkSpans(spans, ids, version === '0.4');
      assert.equal(spans.length, 4);
      const rec = r.intake.requests({ kind: 'traces', accepted: true })[0];
      assert.equal(rec?.headers['datadog-meta-lang'], 'nodejs');
      assert.equal(r.intake.requests({ accepted: false }).length, 0, 'the intake rejected nothing');
    } finally {
      await r.done();
    }
  });
}

test('dd-trace over DD_APM_RECEIVER_SOCKET (Unix socket) reaches the same pipeline', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ddl-apm-'));
  const sock = path.join(dir, 'apm.socket');
  const r = await rig(undefined, await tracerEnv({ DD_APM_RECEIVER_SOCKET: sock, DD_TRACE_AGENT_URL: `unix://${sock}` }), FUNCTION);
  try {
    assert.equal((await r.emu.init()).status, 'success');
    const res = await r.emu.invoke({});
    assert.equal(res.status, 'success', res.payload?.toString());
    await r.emu.shutdown();
    checkSpans(r.intake.spans(), JSON.parse(res.payload?.toString() ?? '{}') as Ids, true);
  } finally {
    await r.done();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("dd-trace's DogStatsD goes through /dogstatsd/v2/proxy and each point arrives exactly once", async () => {
  const env = await tracerEnv();
  env['DD_TRACE_AGENT_URL'] = `http://127.0.0.1:${env['DD_APM_RECEIVER_PORT']}`;
  const r = await rig(undefined, env, FUNCTION);
  try {
    assert.equal((await r.emu.init()).status, 'success');
    for (let i = 0; i < 3; i++) assert.equal((await r.emu.invoke({ dogstatsd: true })).status, 'success');
    await r.emu.shutdown();
    const points = r.intake.metricPoints('tracer.custom.count');
    assert.equal(
      points.reduce((n, p) => n + p.value, 0),
      3,
    );
    assert.ok(points.every((p) => p.tags.includes('via:dd-trace') && p.tags.includes('functionname:test_function')));
    // They came over HTTP: had the route answered 404, dd-trace would have switched to UDP.
    const down = r.logs.find('shutdown complete') as { ingress?: { datagrams?: number } } | undefined;
    assert.equal(down?.ingress?.datagrams, 0);
  } finally {
    await r.done();
  }
});
