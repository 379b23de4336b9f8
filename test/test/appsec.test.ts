// AppSec end to end on the shipped slim layer (unzipped as Lambda would mount it, with its WAF addon and
// ruleset): the wrapper points the runtime at the extension's proxy, the WAF sees each API Gateway event
// and response, and the invocation's aws.lambda span carries the verdict; the function is unaffected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { buildFrontDoor } from '@dd-lambda/lambda-emulator';
import type { EventSource } from '@dd-lambda/lambda-emulator';
import { ensureExtensionFile, fixtures, freeTcpPort, portEnv, rig, root } from './helpers.js';

function apiGatewayEvent(userAgent: string, query: string): Record<string, unknown> {
  const e = {
    resource: '/orders/{id}',
    path: '/orders/7',
    httpMethod: 'GET',
    headers: { 'User-Agent': userAgent, Host: 'api.example.com', 'X-Forwarded-For': '203.0.113.50' },
    queryStringParameters: { q: query },
    pathParameters: { id: '7' },
    requestContext: { stage: 'prod', identity: { sourceIp: '203.0.113.50' }, requestId: 'gw-1' },
    body: null,
    isBase64Encoded: false,
  };
  // The universal-instrumentation fixture passes `event` to start-invocation.
  return { ...e, event: e };
}

function unzipSlim(): { opt: string; done: () => void } {
  const slim = path.join(root, 'layer', 'dist', 'datadog-extension-x86_64-slim.zip');
  assert.ok(existsSync(slim), 'run `pnpm layer` (pnpm test does) first');
  const dir = mkdtempSync(path.join(tmpdir(), 'ddl-appsec-'));
  const opt = path.join(dir, 'opt');
  execFileSync(process.execPath, [path.join(root, 'layer', 'src', 'unzip.mjs'), slim, opt], { stdio: 'ignore' });
  return { opt, done: () => rmSync(dir, { recursive: true, force: true }) };
}

function request(base: string, method: string, pathAndQuery: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${pathAndQuery}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('AppSec through the HTTP front door (API Gateway v1, v2, ALB, function URL) with datadog-lambda-js and dd-trace: scanner, SQL injection and XSS are tagged with their rules, clean requests are not, a 5 MB response passes intact', async () => {
  const removeFile = ensureExtensionFile();
  const { opt, done } = unzipSlim();
  const ports = await portEnv();
  const r = await rig(
    undefined,
    {
      ...ports,
      AWS_LAMBDA_EXEC_WRAPPER: path.join(opt, 'datadog_wrapper'),
      DD_SERVERLESS_APPSEC_ENABLED: 'true',
      DD_EXTENSION_RUNTIME_PROXY_PORT: String(await freeTcpPort()),
      DD_TRACE_AGENT_PORT: ports['DD_APM_RECEIVER_PORT'] as string,
      DD_LAMBDA_HANDLER: 'app.handler',
      DD_TRACE_STARTUP_LOGS: 'false',
      DD_SERVERLESS_FLUSH_STRATEGY: 'end',
    },
    { optDir: opt, runtime: { handler: 'datadog.handler', taskRoot: path.join(fixtures, 'lambda-js-appsec') }, timeoutMs: 15_000 },
  );
  try {
    assert.equal((await r.emu.init()).status, 'success');
    const sources: EventSource[] = ['apigw-v1', 'apigw-v2', 'alb', 'function-url'];
    const seen: { source: EventSource; kind: string; rule?: RegExp; tag: string }[] = [];
    for (const source of sources) {
      const door = buildFrontDoor({ emulator: r.emu, source });
      const base = await door.listen();
      try {
        const json = { 'content-type': 'application/json' };
        const runs: [string, string, string, Record<string, string>, string | undefined, RegExp | undefined][] = [
          ['scanner', 'GET', '/orders/1?', { 'user-agent': 'Arachni/v1.5.1' }, undefined, /^ua0-600-/],
          ['sqli', 'GET', `/orders?id=${encodeURIComponent("1' OR '1'='1' UNION SELECT password FROM users --")}&`, {}, undefined, /^crs-942-/],
          ['xss', 'POST', '/comments?', json, JSON.stringify({ comment: '<script>alert(document.cookie)</script>' }), /^crs-941-/],
          ['clean', 'GET', '/orders/2?page=1&', { 'user-agent': 'Mozilla/5.0' }, undefined, undefined],
        ];
        for (const [kind, method, p, headers, body, rule] of runs) {
          // Each request names itself in its query, which the verdict's http.url carries.
          const tag = `case=${kind}-${source}`;
          const res = await request(base, method, p + tag, headers, body);
          assert.equal(res.status, 200, `${source} ${kind}: ${res.body.toString().slice(0, 200)}`);
          seen.push({ source, kind, ...(rule ? { rule } : {}), tag });
        }
        if (source === 'apigw-v2') {
          const big = await request(base, 'GET', `/download?size=${5 * 1024 * 1024}`, {});
          assert.ok(big.body.equals(Buffer.from('x'.repeat(5 * 1024 * 1024 - 3) + 'end')), `a 5 MB body reaches the client byte for byte (${big.body.length} bytes)`);
        }
      } finally {
        await door.close();
      }
    }
    await r.emu.shutdown();
    const spans = r.intake.spans().map((s) => s.span);
    for (const s of seen) {
      const span = spans.find((x) => x.name === 'aws.lambda' && (x.meta['http.url'] ?? '').includes(s.tag));
      assert.ok(span, `${s.source} ${s.kind}: the aws.lambda span arrived`);
      assert.equal(span.metrics['_dd.appsec.enabled'], 1, `${s.source} ${s.kind}: _dd.appsec.enabled`);
      if (s.rule === undefined) {
        assert.equal(span.meta['appsec.event'], undefined, `${s.source} clean: no event`);
        continue;
      }
      assert.equal(span.meta['appsec.event'], 'true', `${s.source} ${s.kind}: appsec.event`);
      const ids = ((JSON.parse(span.meta['_dd.appsec.json'] ?? '{}') as { triggers?: { rule: { id: string } }[] }).triggers ?? []).map((t) => t.rule.id);
      assert.ok(
        ids.some((id) => s.rule?.test(id)),
        `${s.source} ${s.kind}: rule ids ${JSON.stringify(ids)}`,
      );
      assert.equal(span.metrics['_sampling_priority_v1'], 2);
    }
  } finally {
    await r.done();
    done();
    removeFile();
  }
});

test('AppSec on the slim layer: a scanner request tags its aws.lambda span (triggers, USER_KEEP); a clean one only _dd.appsec.enabled', async () => {
  const slim = path.join(root, 'layer', 'dist', 'datadog-extension-x86_64-slim.zip');
  assert.ok(existsSync(slim), 'run `pnpm layer` (pnpm test does) first');
  const dir = mkdtempSync(path.join(tmpdir(), 'ddl-appsec-'));
  const opt = path.join(dir, 'opt');
  execFileSync(process.execPath, [path.join(root, 'layer', 'src', 'unzip.mjs'), slim, opt], { stdio: 'ignore' });
  const port = await freeTcpPort();
  const r = await rig(
    undefined,
    {
      AWS_LAMBDA_EXEC_WRAPPER: path.join(opt, 'datadog_wrapper'),
      DD_SERVERLESS_APPSEC_ENABLED: 'true',
      DD_EXTENSION_RUNTIME_PROXY_PORT: String(port),
      DD_SERVERLESS_FLUSH_STRATEGY: 'end',
      DD_LOG_LEVEL: 'debug',
      DD_EXTENSION_CHECKPOINTS: 'stdout',
    },
    { optDir: opt, runtime: { handler: 'index.handler', taskRoot: path.join(fixtures, 'universal-function') }, timeoutMs: 10_000 },
  );
  try {
    const attack = await r.emu.invoke(apiGatewayEvent('Arachni/v1.5.1', "1' OR '1'='1"));
    assert.equal(attack.status, 'success', attack.payload.toString());
    const clean = await r.emu.invoke(apiGatewayEvent('Mozilla/5.0', 'shoes'));
    assert.equal(clean.status, 'success');
    // Not HTTP events (a health check as system-tests sends, a queue batch): through the proxy untouched.
    const health = await r.emu.invoke({ healthcheck: true, mode: 'none' });
    assert.deepEqual([health.status, JSON.parse(health.payload.toString())], ['success', { calls: 0 }]);
    const sqs = await r.emu.invoke({ Records: [{ eventSource: 'aws:sqs', body: '<script>' }], mode: 'none' });
    assert.equal(sqs.status, 'success');
    await r.emu.shutdown();
    const lambdaSpan = (id: string) => r.intake.spans().find((s) => s.span.name === 'aws.lambda' && s.span.meta['request_id'] === id);
    const a = lambdaSpan(attack.requestId);
    assert.ok(a, `the attack's aws.lambda span arrived\n${r.logs.raw.slice(-20).join('\n')}`);
    assert.equal(a.span.meta['appsec.event'], 'true');
    const triggers = (JSON.parse(a.span.meta['_dd.appsec.json'] ?? '{}') as { triggers?: { rule: { id: string } }[] }).triggers ?? [];
    assert.ok(
      triggers.some((t) => t.rule.id.startsWith('ua0-')),
      `a scanner rule fired: ${JSON.stringify(triggers.map((t) => t.rule.id))}`,
    );
    assert.equal(a.span.metrics['_dd.appsec.enabled'], 1);
    assert.equal(a.span.metrics['_sampling_priority_v1'], 2);
    assert.equal(a.span.meta['http.request.headers.user-agent'], 'Arachni/v1.5.1');
    assert.equal(a.span.meta['network.client.ip'], '203.0.113.50');
    assert.match(a.span.meta['_dd.appsec.event_rules.version'] ?? '', /^\d+\.\d+/);
    // Nothing of AppSec before the first /next: the WAF is built after it, on the unit's thread.
    const cpLine = r.logs.raw.find((l) => l.startsWith('DD_EXTENSION_CHECKPOINTS '));
    const cp = JSON.parse(cpLine?.slice('DD_EXTENSION_CHECKPOINTS '.length) ?? '{}') as { timeOrigin: number; checkpoints: { name: string; totalMs: number }[] };
    const next = cp.checkpoints.find((x) => x.name === 'first /next sent');
    const wafReady = r.logs.json.find((l) => l['msg'] === 'AppSec WAF ready');
    assert.ok(next !== undefined && wafReady !== undefined, 'checkpoints and the WAF line are logged');
    assert.ok((wafReady['time'] as number) >= cp.timeOrigin + next.totalMs, 'the WAF is built after the first /next');
    assert.ok(
      cp.checkpoints.filter((x) => x.name.includes('READY')).every((x) => x.totalMs >= next.totalMs),
      'workers (AppSec among them) start after it',
    );
    const c = lambdaSpan(clean.requestId);
    assert.ok(c);
    assert.equal(c.span.metrics['_dd.appsec.enabled'], 1);
    assert.equal(c.span.meta['appsec.event'], undefined);
  } finally {
    await r.done();
    rmSync(dir, { recursive: true, force: true });
  }
});
