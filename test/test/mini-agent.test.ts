// The serverless mini agent end to end: the built dd-serverless-agent with the real dd-trace on TCP and
// on the Unix socket at once, DogStatsD over UDP and through /dogstatsd/v2/proxy, SIGTERM with
// requests in flight on both transports, and a lost listener.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import dgram from 'node:dgram';
import { buildFakeIntake } from '@dd-lambda/fake-intake';
import { API_KEY, fixtures, portEnv, root, v04TraceBody } from './helpers.js';

const AGENT = path.join(root, 'layer', 'dist', 'agent', 'dd-serverless-agent.cjs');

interface Agent {
  proc: ChildProcess;
  lines: string[];
  exit: Promise<number | null>;
}

async function startAgent(env: Record<string, string>): Promise<Agent> {
  const proc = spawn(process.execPath, [AGENT], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  const onData = (d: Buffer): void => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const exit = once(proc, 'exit').then(([code]) => code as number | null);
  const t0 = Date.now();
  while (!lines.some((l) => l.includes('serverless mini agent listening'))) {
    if (Date.now() - t0 > 10_000 || proc.exitCode !== null) throw new Error(`the mini agent did not start:\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { proc, lines, exit };
}

function runApp(url: string, service: string): Promise<string[]> {
  const app = spawn(process.execPath, [path.join(fixtures, 'mini-agent-app', 'app.cjs')], {
    env: {
      PATH: process.env['PATH'] ?? '',
      DD_TRACE_AGENT_URL: url,
      APP_SERVICE: service,
      DD_TRACE_STARTUP_LOGS: 'false',
      DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
      NODE_PATH: path.join(root, 'test', 'node_modules'),
    },
    cwd: path.join(root, 'test'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  app.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return once(app, 'exit').then(() => (JSON.parse(out.trim().split('\n').pop() ?? '{}') as { ids: string[] }).ids);
}

/** A v0.4 trace request whose body is sent in two halves: the second after `gate` resolves. */
function slowTrace(target: { port: number } | { socketPath: string }, traceId: number, gate: Promise<void>): Promise<number> {
  const body = v04TraceBody(traceId, 'inflight.op');
  return new Promise((resolve) => {
    const req = http.request(
      { ...target, method: 'PUT', path: '/v0.4/traces', headers: { 'content-type': 'application/msgpack', 'content-length': String(body.length), 'x-datadog-trace-count': '1' } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', () => resolve(-1));
    req.write(body.subarray(0, 10));
    void gate.then(() => req.end(body.subarray(10)));
  });
}

test('mini agent: dd-trace on TCP and on the Unix socket at once, DogStatsD both ways, SIGTERM with requests in flight drains and final-flushes, exit 0, no socket left', async () => {
  const intake = buildFakeIntake({ apiKey: API_KEY });
  const url = await intake.listen();
  const dir = mkdtempSync(path.join(tmpdir(), 'ddl-mini-'));
  const sock = path.join(dir, 'apm.socket');
  const ports = await portEnv();
  // Google Cloud's metadata server, as the agent asks it at start (project and region tags).
  const metadata = http.createServer((req, res) => {
    const body =
      req.url === '/computeMetadata/v1/project/project-id' ? 'shop-project' : req.url === '/computeMetadata/v1/instance/region' ? 'projects/123/regions/europe-west1' : undefined;
    if (body === undefined || req.headers['metadata-flavor'] !== 'Google') return void res.writeHead(404).end();
    res.writeHead(200, { 'metadata-flavor': 'Google' }).end(body);
  });
  await new Promise<void>((r) => metadata.listen(0, '127.0.0.1', r));
  const env = {
    GCE_METADATA_HOST: `127.0.0.1:${(metadata.address() as { port: number }).port}`,
    DD_API_KEY: API_KEY,
    DD_APM_DD_URL: url,
    DD_DD_URL: url,
    DD_APM_RECEIVER_PORT: ports['DD_APM_RECEIVER_PORT'] as string,
    DD_DOGSTATSD_PORT: ports['DD_DOGSTATSD_PORT'] as string,
    DD_APM_RECEIVER_SOCKET: sock,
    DD_SERVERLESS_FLUSH_INTERVAL: '1',
    DD_SERVERLESS_SHUTDOWN_TIMEOUT: '5',
    K_SERVICE: 'orders',
    FUNCTION_TARGET: 'handle',
  };
  const agent = await startAgent(env);
  try {
    const [tcpIds, sockIds] = await Promise.all([runApp(`http://127.0.0.1:${env.DD_APM_RECEIVER_PORT}`, 'tcp-app'), runApp(`unix://${sock}`, 'socket-app')]);
    assert.equal(tcpIds.length + sockIds.length, 6);
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.send('mini.udp:1|c|#via:udp', Number(env.DD_DOGSTATSD_PORT), '127.0.0.1', () => r()));
    udp.close();
    const proxied = await new Promise<number>((resolve) => {
      const req = http.request({ port: Number(env.DD_APM_RECEIVER_PORT), method: 'POST', path: '/dogstatsd/v2/proxy' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.end('mini.proxy:2|c|#via:proxy');
    });
    assert.equal(proxied, 200);
    // Both apps' traces arrive with the periodic flush, with the platform's origin.
    await intake.waitFor((i) => [...tcpIds, ...sockIds].every((id) => i.spans().some((s) => s.span.traceID.toString() === id)), 15_000);
    const spans = intake.spans().filter((s) => s.span.service === 'tcp-app' || s.span.service === 'socket-app');
    assert.ok(
      spans.every((s) => s.span.meta['_dd.origin'] === 'cloudfunction'),
      'origin of the platform',
    );
    await intake.waitFor((i) => i.stats().length > 0, 15_000);

    // Requests in flight on both transports when SIGTERM arrives: they finish and are in the final flush.
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const inflight = [slowTrace({ port: Number(env.DD_APM_RECEIVER_PORT) }, 424242, gate), slowTrace({ socketPath: sock }, 434343, gate)];
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    agent.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
    open();
    assert.deepEqual(await Promise.all(inflight), [200, 200]);
    const code = await agent.exit;
    assert.equal(code, 0, agent.lines.join('\n'));
    assert.ok(Date.now() - t0 < 5000, 'exits within DD_SERVERLESS_SHUTDOWN_TIMEOUT');
    for (const id of ['424242', '434343'])
      assert.ok(
        intake.spans().some((s) => s.span.traceID.toString() === id),
        `in-flight trace ${id} is in the final flush`,
      );
    const points = intake.metricPoints();
    assert.ok(
      points.some((p) => p.metric === 'mini.udp' && p.tags.includes('via:udp')),
      'DogStatsD over UDP',
    );
    assert.ok(
      points.some((p) => p.metric === 'mini.proxy' && p.tags.includes('via:proxy')),
      'DogStatsD through the proxy route',
    );
    assert.equal(existsSync(sock), false, 'the socket file is gone');
  } finally {
    agent.proc.kill('SIGKILL');
    await intake.close();
    metadata.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mini agent: a lost accept loop (its socket file removed) ends the process non-zero, naming the transport', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ddl-mini-'));
  const sock = path.join(dir, 'apm.socket');
  const ports = await portEnv();
  const agent = await startAgent({ DD_API_KEY: API_KEY, DD_APM_RECEIVER_PORT: ports['DD_APM_RECEIVER_PORT'] as string, DD_DOGSTATSD_PORT: '0', DD_APM_RECEIVER_SOCKET: sock });
  try {
    unlinkSync(sock);
    const code = await Promise.race([agent.exit, new Promise((r) => setTimeout(() => r('timeout'), 8000))]);
    assert.equal(code, 1, agent.lines.join('\n'));
    const fatal = agent.lines.find((l) => l.includes('SV_ERR_LISTENER_LOST'));
    assert.ok(fatal?.includes(sock), `a line names the transport: ${fatal ?? agent.lines.join('\n')}`);
  } finally {
    agent.proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
