import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Packr } from 'msgpackr';
import { loadConfig } from '@dd-lambda/config';
import { createLogger } from '@dd-lambda/logger';
import { buildFakeIntake } from '@dd-lambda/fake-intake';
import type { FakeIntake } from '@dd-lambda/fake-intake';
import type { UnitMessage } from '@dd-lambda/protocol';
import { buildTraceAgent, INFO_ENDPOINTS } from '../src/agent.js';
import { DDSketch } from '../src/stats.js';
import type { TraceAgent } from '../src/agent.js';
import lightMyRequest from 'light-my-request';
import type { InjectOptions, Response } from 'light-my-request';
import type { RawBodyApp } from '@dd-lambda/worker-host/http';

/** fastify-style inject against the agent's node:http handler. */
const inject = (app: RawBodyApp, opts: InjectOptions): Promise<Response> => lightMyRequest(app.handler, opts);

const API_KEY = 'a'.repeat(32);
const TAGS = { functionname: 'fn', region: 'us-east-1', account_id: '123456789012' };
const logger = createLogger({ level: 'silent', bindings: { component: 'trace-agent' } });
const packr = new Packr({ useRecords: false });
const BIG = 18_446_744_073_709_551_000n;
const TRACER_HEADERS = {
  'content-type': 'application/msgpack',
  'datadog-meta-lang': 'nodejs',
  'datadog-meta-lang-version': 'v20.20.0',
  'datadog-meta-tracer-version': '5.99.0',
  'x-datadog-trace-count': '1',
};

interface Setup {
  intake: FakeIntake;
  agent: TraceAgent;
  sent: { to: string; msg: UnitMessage }[];
  close: () => Promise<void>;
}

async function setup(env: Record<string, string> = {}): Promise<Setup> {
  const intake = buildFakeIntake({ apiKey: API_KEY });
  const base = await intake.listen();
  const { config } = loadConfig({ DD_API_KEY: API_KEY, DD_APM_DD_URL: base, DD_EXTENSION_APM_PROXY_URL: base, AWS_LAMBDA_FUNCTION_NAME: 'fn', ...env }, { readYaml: false });
  const sent: Setup['sent'] = [];
  const agent = buildTraceAgent({ config, tags: TAGS, logger, send: (to, msg) => sent.push({ to, msg }) });
  await agent.ready();
  return {
    intake,
    agent,
    sent,
    close: async () => {
      await agent.close();
      await intake.close();
    },
  };
}

function trace(traceId: bigint, over: Record<string, unknown> = {}): Record<string, unknown>[] {
  return [
    {
      trace_id: traceId,
      span_id: BIG,
      parent_id: 0n,
      name: 'web.request',
      resource: 'GET /',
      service: 'svc',
      type: 'web',
      error: 0,
      start: 1_700_000_000_000_000_000n,
      duration: 2_000_000,
      meta: { 'http.url': 'http://h/users/12?x=1' },
      metrics: { _sampling_priority_v1: 1 },
      ...over,
    },
    {
      trace_id: traceId,
      span_id: 5n,
      parent_id: BIG,
      name: 'pg.query',
      resource: "SELECT * FROM t WHERE a = 'x'",
      service: 'svc-db',
      type: 'sql',
      error: 1,
      start: 1_700_000_000_000_500_000n,
      duration: 1_000_000,
      meta: { 'error.message': 'boom' },
      metrics: {},
    },
  ];
}

const flush = (agent: TraceAgent, reason: 'end' | 'shutdown' = 'end'): ReturnType<TraceAgent['flush']> => agent.flush({ reason, deadline: Date.now() + 5_000 });

test('v0.4 round trip: processed spans reach the intake as AgentPayload with the tracer headers', async () => {
  const { intake, agent, close } = await setup({ DD_APM_CONFIG_OBFUSCATION_HTTP_REMOVE_PATHS_WITH_DIGITS: 'true' });
  try {
    const res = await inject(agent.app, { method: 'PUT', url: '/v0.4/traces', headers: TRACER_HEADERS, payload: packr.pack([trace(BIG - 7n)]) });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { rate_by_service: {} });
    assert.deepEqual(await flush(agent), { sent: 2, dropped: 0, pending: 0 });
    const spans = intake.spans();
    assert.equal(spans.length, 2);
    const root = spans.find((r) => r.span.spanID === BIG)?.span;
    const db = spans.find((r) => r.span.spanID === 5n)?.span;
    assert.equal(root?.traceID, BIG - 7n);
    assert.equal(root?.meta['http.url'], 'http://h/users/??x=1');
    assert.equal(root?.meta['_dd.origin'], 'lambda');
    assert.equal(root?.meta['functionname'], 'fn');
    assert.equal(root?.metrics['_top_level'], 1);
    assert.equal(db?.metrics['_top_level'], 1); // other service than its parent
    assert.deepEqual([db?.resource, db?.meta['sql.query'], db?.error], ['SELECT * FROM t WHERE a = ?', 'SELECT * FROM t WHERE a = ?', 1]);
    const rec = intake.requests({ kind: 'traces' })[0];
    assert.equal(rec?.headers['datadog-meta-lang'], 'nodejs');
    assert.equal(rec?.headers['datadog-meta-tracer-version'], '5.99.0');
    assert.equal(rec?.headers['content-type'], 'application/x-protobuf');
    assert.equal(spans[0]?.tracerPayload.tags['_dd.tags.function'], 'functionname:fn,region:us-east-1,account_id:123456789012');
    assert.equal(spans[0]?.chunk.priority, 1);
  } finally {
    await close();
  }
});

test('bad input gets a clear error and the next valid payload still arrives', async () => {
  const { intake, agent, close } = await setup();
  try {
    const good = packr.pack([trace(77n)]);
    const garbage = await inject(agent.app, { method: 'PUT', url: '/v0.4/traces', headers: TRACER_HEADERS, payload: Buffer.from([0x91, 0xc1, 0xff, 0x00]) });
    assert.equal(garbage.statusCode, 400);
    assert.match(garbage.body, /msgpack/);
    const truncated = await inject(agent.app, { method: 'PUT', url: '/v0.4/traces', headers: TRACER_HEADERS, payload: good.subarray(0, good.length - 9) });
    assert.equal(truncated.statusCode, 400);
    const wrongType = await inject(agent.app, { method: 'PUT', url: '/v0.4/traces', headers: { ...TRACER_HEADERS, 'content-type': 'text/plain' }, payload: good });
    assert.equal(wrongType.statusCode, 415);
    assert.match(wrongType.body, /application\/msgpack/);
    const v05shape = await inject(agent.app, { method: 'PUT', url: '/v0.5/traces', headers: TRACER_HEADERS, payload: good });
    assert.equal(v05shape.statusCode, 400);
    const oversize = await inject(agent.app, {
      method: 'PUT',
      url: '/v0.4/traces',
      headers: { ...TRACER_HEADERS, 'content-length': String(51 * 1024 * 1024) },
      payload: Buffer.alloc(16),
    });
    assert.equal(oversize.statusCode, 413);
    const empty = await inject(agent.app, { method: 'PUT', url: '/v0.4/traces', headers: { ...TRACER_HEADERS, 'x-datadog-trace-count': '0' } });
    assert.equal(empty.statusCode, 200);
    const ok = await inject(agent.app, { method: 'PUT', url: '/v0.4/traces', headers: TRACER_HEADERS, payload: good });
    assert.equal(ok.statusCode, 200);
    assert.equal(agent.counters.badRequests, 5);
    await flush(agent);
    assert.deepEqual(
      intake.spans().map((r) => r.span.traceID),
      [77n, 77n],
    );
  } finally {
    await close();
  }
});

test('/info, 404s, the DogStatsD proxy route and tracer stats', async () => {
  const { intake, agent, sent, close } = await setup();
  try {
    const info = await inject(agent.app, { method: 'GET', url: '/info' });
    assert.deepEqual(info.json().endpoints, INFO_ENDPOINTS);
    assert.ok(INFO_ENDPOINTS.includes('/v0.5/traces'));
    assert.equal((await inject(agent.app, { method: 'POST', url: '/v0.7/config', payload: '{}' })).statusCode, 404);

    const lines = 'tracer.metric:1|c|#a:b\n';
    const dsd = await inject(agent.app, { method: 'POST', url: '/dogstatsd/v2/proxy', payload: Buffer.from(lines) });
    assert.equal(dsd.statusCode, 200);
    assert.equal(sent.length, 1);
    const msg = sent[0]?.msg;
    assert.equal(sent[0]?.to, 'dogstatsd');
    assert.equal(msg?.t === 'DSD_LINES' ? Buffer.from(msg.data).toString() : '', lines);

    const stats = {
      Hostname: '',
      Env: 'prod',
      Version: '1',
      Lang: 'javascript',
      TracerVersion: '5.0.0',
      RuntimeID: 'r',
      Sequence: 1,
      Unknown: 'dropped',
      Stats: [
        {
          Start: 1_700_000_000_000_000_000n,
          Duration: 10_000_000_000,
          Stats: [
            {
              Service: 's',
              Name: 'n',
              Resource: 'r',
              HTTPStatusCode: 200,
              Type: 'web',
              Hits: 3,
              Errors: 1,
              Duration: 12.6,
              OkSummary: Buffer.from([1]),
              ErrorSummary: Buffer.from([2]),
              Synthetics: false,
              TopLevelHits: 3,
            },
          ],
        },
      ],
    };
    const st = await inject(agent.app, { method: 'PUT', url: '/v0.6/stats', headers: { 'content-type': 'application/msgpack' }, payload: packr.pack(stats) });
    assert.equal(st.statusCode, 202);
    const badStats = await inject(agent.app, {
      method: 'PUT',
      url: '/v0.6/stats',
      headers: { 'content-type': 'application/msgpack' },
      payload: packr.pack({ Stats: [{ Stats: [{ Service: 5 }] }] }),
    });
    assert.equal(badStats.statusCode, 400);
    await flush(agent);
    const [payload] = intake.stats();
    assert.equal(payload?.['ClientComputed'], true);
    const client = (payload?.['Stats'] as Record<string, unknown>[])[0];
    assert.equal(client?.['Env'], 'prod');
    assert.equal(client?.['Unknown'], undefined);
    const group = ((client?.['Stats'] as Record<string, unknown>[])[0]?.['Stats'] as Record<string, unknown>[])[0];
    assert.deepEqual([group?.['Hits'], group?.['Duration']], [3n, 13n]);
  } finally {
    await close();
  }
});

test('APM proxy routes are acknowledged, then forwarded at flush with the function tag header', async () => {
  const { intake, agent, close } = await setup();
  try {
    const res = await inject(agent.app, {
      method: 'POST',
      url: '/profiling/v1/input',
      headers: { 'content-type': 'multipart/form-data; boundary=x', 'dd-evp-origin': 'dd-trace', 'dd-api-key': 'tracer-key-not-forwarded' },
      payload: '--x\r\n\r\nprofile\r\n--x--',
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, 'Acknowledged request for /profiling/v1/input');
    assert.equal(intake.proxied().length, 0);
    await flush(agent);
    const [rec] = intake.proxied('/api/v2/profile');
    assert.equal(rec?.headers['x-datadog-additional-tags'], '_dd.origin:lambda;functionname:fn');
    assert.equal(rec?.headers['dd-evp-origin'], 'dd-trace');
    assert.equal(rec?.headers['dd-api-key'], API_KEY);
    assert.equal(rec?.headers['content-type'], 'multipart/form-data; boundary=x');
  } finally {
    await close();
  }
});

test('extension-side stats: eligible spans counted per aggregation key, sampled-out chunks not shipped', async () => {
  const { intake, agent, close } = await setup({ DD_LAMBDA_EXTENSION_COMPUTE_STATS: 'true', DD_ENV: 'dev' });
  try {
    await inject(agent.app, {
      method: 'PUT',
      url: '/v0.4/traces',
      headers: TRACER_HEADERS,
      payload: packr.pack([trace(1n), trace(2n), trace(3n, { metrics: { _sampling_priority_v1: 0 } })]),
    });
    await flush(agent, 'shutdown');
    assert.deepEqual([...new Set(intake.spans().map((r) => r.span.traceID))], [1n, 2n]);
    const [payload] = intake.stats();
    assert.equal(payload?.['ClientComputed'], false);
    const client = (payload?.['Stats'] as Record<string, unknown>[])[0];
    assert.equal(client?.['Env'], 'dev');
    const groups = (client?.['Stats'] as Record<string, unknown>[]).flatMap((b) => b['Stats'] as Record<string, unknown>[]);
    const web = groups.find((g) => g['Name'] === 'web.request');
    const db = groups.find((g) => g['Name'] === 'pg.query');
    assert.deepEqual([web?.['Hits'], web?.['TopLevelHits'], web?.['Errors'], web?.['IsTraceRoot']], [3n, 3n, 0n, 1n]);
    assert.deepEqual([db?.['Hits'], db?.['Errors'], db?.['Resource']], [3n, 3n, 'SELECT * FROM t WHERE a = ?']);
    assert.ok((web?.['OkSummary'] as Uint8Array).length > 10);
  } finally {
    await close();
  }
});

test('batches are cut under 12 MB; a full buffer drops with 429 only when the tracer asks for real statuses', async () => {
  const { intake, agent, close } = await setup();
  try {
    const big = 'x'.repeat(7_000_000);
    for (let i = 1n; i <= 4n; i++) {
      const r = await inject(agent.app, { method: 'PUT', url: '/v0.4/traces', headers: TRACER_HEADERS, payload: packr.pack([trace(i, { meta: { blob: big } })]) });
      assert.equal(r.statusCode, 200);
    }
    const quiet = await inject(agent.app, { method: 'PUT', url: '/v0.4/traces', headers: TRACER_HEADERS, payload: packr.pack([trace(5n, { meta: { blob: big } })]) });
    assert.equal(quiet.statusCode, 200);
    const loud = await inject(agent.app, {
      method: 'PUT',
      url: '/v0.4/traces',
      headers: { ...TRACER_HEADERS, 'datadog-send-real-http-status': 'true' },
      payload: packr.pack([trace(6n, { meta: { blob: big } })]),
    });
    assert.equal(loud.statusCode, 429);
    const res = await flush(agent);
    assert.deepEqual(res, { sent: 8, dropped: 4, pending: 0 });
    const reqs = intake.requests({ kind: 'traces', accepted: true });
    assert.equal(reqs.length, 4);
    for (const r of reqs) assert.ok(r.bodyBytes <= 12_000_000);
  } finally {
    await close();
  }
});

test('drain waits for a request still arriving; the final flush ships it', async () => {
  const { intake, agent, close } = await setup();
  const server = net.createServer((s) => agent.connection(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as net.AddressInfo).port;
    const body = packr.pack([trace(99n)]);
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write(`PUT /v0.4/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/msgpack\r\ncontent-length: ${body.length}\r\n\r\n`);
    sock.write(body.subarray(0, 10));
    await new Promise((r) => setTimeout(r, 50));
    let drained = false;
    const draining = agent.drain(Date.now() + 5_000).then(() => {
      drained = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(drained, false);
    const answer = new Promise<string>((r) => sock.once('data', (d) => r(d.toString())));
    sock.write(body.subarray(10));
    await draining;
    assert.match(await answer, /^HTTP\/1.1 200/);
    await flush(agent, 'shutdown');
    assert.equal(intake.spans().length, 2);
    sock.destroy();
  } finally {
    server.close();
    await close();
  }
});

test('SPANS from other units (plain objects, bigint ids) are processed and shipped like tracer spans', async () => {
  const { intake, agent, close } = await setup({ DD_SERVICE: 'svc-from-env' });
  try {
    const base = { resource: 'fn', type: 'serverless', error: 0, start: 1_700_000_000_000_000_000n, duration: 5_000_000n, metaStruct: undefined, spanLinks: undefined };
    agent.message('lifecycle', {
      t: 'SPANS',
      spans: [
        { ...base, service: 'aws.lambda', name: 'aws.lambda', traceId: BIG, spanId: 11n, parentId: 0n, meta: { request_id: 'r-1' }, metrics: {} },
        { ...base, service: 'aws.lambda', name: 'aws.lambda', traceId: 0n, spanId: 12n, parentId: 0n, meta: {}, metrics: {} },
      ],
    });
    const res = await flush(agent);
    assert.deepEqual(res, { sent: 1, dropped: 1, pending: 0 }); // the zero trace id is a normalization loss
    const [rec] = intake.spans();
    assert.deepEqual([rec?.span.traceID, rec?.span.service, rec?.span.meta['request_id'], rec?.span.meta['_dd.origin']], [BIG, 'svc-from-env', 'r-1', 'lambda']);
  } finally {
    await close();
  }
});

test('DDSketch: 1 % relative accuracy, zeros counted apart, protobuf carries gamma and the bins', () => {
  const sk = new DDSketch();
  for (let v = 1; v <= 10_000; v++) sk.add(v * 1000);
  sk.add(0);
  for (const q of [0.1, 0.5, 0.99]) {
    const want = q * 10_000 * 1000;
    assert.ok(Math.abs(sk.quantile(q) - want) / want <= 0.011, `p${q * 100}: ${sk.quantile(q)} vs ${want}`);
  }
  assert.equal(sk.zeroCount, 1);
  const bytes = Buffer.from(sk.encode());
  // mapping (field 1) first: tag 0x0a, then gamma as a double (tag 0x09).
  assert.deepEqual([bytes[0], bytes[2]], [0x0a, 0x09]);
  assert.ok(Math.abs(bytes.readDoubleLE(3) - 1.01 / 0.99) < 1e-12);
});

test('span dedup: a tracer request sent twice ships its spans once; a new span in the retry still ships', async () => {
  const s = await setup();
  try {
    const body = packr.pack([trace(77n)]);
    for (let i = 0; i < 2; i++) assert.equal((await inject(s.agent.app, { method: 'PUT', url: '/v0.4/traces', headers: TRACER_HEADERS, payload: body })).statusCode, 200);
    const retry = [...trace(77n), { ...trace(77n)[0], span_id: 999, parent_id: 0, name: 'late.op' }];
    await inject(s.agent.app, { method: 'PUT', url: '/v0.4/traces', headers: TRACER_HEADERS, payload: packr.pack([retry]) });
    await s.agent.flush({ reason: 'end', deadline: Date.now() + 2000 });
    const spans = s.intake.spans().filter((r) => r.span.traceID === 77n);
    const ids = spans.map((r) => r.span.spanID).sort();
    assert.equal(new Set(ids).size, ids.length, `no span twice: ${ids.join(',')}`);
    assert.ok(ids.includes(999n), 'the new span of the retry ships');
  } finally {
    await s.close();
  }
});

test('_dd.base_service: inferred spans from the tracer get the invocation service unless they carry one', async () => {
  const s = await setup({ DD_SERVICE: 'Checkout' });
  try {
    const spans = [
      { ...trace(88n)[0], span_id: 1, parent_id: 0, name: 'aws.apigateway', service: 'api.example.com', meta: { '_inferred_span.tag_source': 'self' } },
      { ...trace(88n)[0], span_id: 2, parent_id: 1, name: 'aws.sqs', service: 'queue', meta: { '_inferred_span.tag_source': 'self', '_dd.base_service': 'mine' } },
      { ...trace(88n)[0], span_id: 3, parent_id: 1, name: 'aws.lambda', service: 'aws.lambda', meta: {} },
    ];
    await inject(s.agent.app, { method: 'PUT', url: '/v0.4/traces', headers: TRACER_HEADERS, payload: packr.pack([spans]) });
    await s.agent.flush({ reason: 'end', deadline: Date.now() + 2000 });
    const by = (id: bigint) => s.intake.spans().find((r) => r.span.traceID === 88n && r.span.spanID === id)?.span.meta['_dd.base_service'];
    assert.deepEqual([by(1n), by(2n), by(3n)], ['checkout', 'mine', undefined]);
  } finally {
    await s.close();
  }
});

test("durable functions: a tracer's aws.lambda span naming its execution is told to the logs unit (only while logs hold for it)", async () => {
  const span = (meta: Record<string, string>): Record<string, unknown>[] => [
    {
      trace_id: 9n,
      span_id: 10n,
      parent_id: 0n,
      name: 'aws.lambda',
      resource: 'fn',
      service: 'fn',
      type: 'serverless',
      error: 0,
      start: 1_700_000_000_000_000_000n,
      duration: 5,
      meta,
      metrics: {},
    },
  ];
  const durable = {
    request_id: 'r1',
    'aws.durable.execution_id': 'e1',
    'aws.durable.execution_name': 'n1',
    'aws.durable.first_invocation': 'false',
    'aws.durable.execution_status': 'PENDING',
  };
  const on = await setup({ DD_LAMBDA_DURABLE_FUNCTION_LOG_BUFFER_SIZE: '5' });
  try {
    for (const meta of [durable, { request_id: 'r2' }]) {
      const res = await inject(on.agent.app, { method: 'PUT', url: '/v0.4/traces', headers: TRACER_HEADERS, payload: packr.pack([span(meta)]) });
      assert.equal(res.statusCode, 200);
    }
    assert.deepEqual(
      on.sent.filter((s) => s.msg.t === 'DURABLE_CONTEXT'),
      [{ to: 'logs', msg: { t: 'DURABLE_CONTEXT', requestId: 'r1', executionId: 'e1', executionName: 'n1', firstInvocation: false, executionStatus: 'PENDING' } }],
    );
  } finally {
    await on.close();
  }
  const off = await setup();
  try {
    await inject(off.agent.app, { method: 'PUT', url: '/v0.4/traces', headers: TRACER_HEADERS, payload: packr.pack([span(durable)]) });
    assert.equal(off.sent.filter((s) => s.msg.t === 'DURABLE_CONTEXT').length, 0);
  } finally {
    await off.close();
  }
});
