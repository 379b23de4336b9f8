// The real datadog-lambda-js (with dd-trace) inside a function under the emulator, against the built
// extension and the fake intake. The library only talks to the extension when
// /opt/extensions/datadog-agent exists, and its DogStatsD client and flush call are hard-wired to
// 127.0.0.1:8125 and :8124, so these tests share one file: they run one after the other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { FakeIntake } from '@dd-lambda/fake-intake';
import { ensureExtensionFile, fixtures, portEnv, rig } from './helpers.js';

const sketchCount = (intake: FakeIntake, metric: string): number => intake.sketchPoints(metric).reduce((n, p) => n + p.count, 0);

/** Ports and settings for the library's own handler entry (datadog.handler) running DD_LAMBDA_HANDLER=app.handler with dd-trace. */
async function libraryEntryEnv(extra: Record<string, string>): Promise<Record<string, string>> {
  const ports = await portEnv();
  return {
    ...ports,
    DD_DOGSTATSD_PORT: '8125',
    DD_TRACE_AGENT_PORT: ports['DD_APM_RECEIVER_PORT'] as string,
    DD_LAMBDA_HANDLER: 'app.handler',
    DD_TRACE_STARTUP_LOGS: 'false',
    ...extra,
  };
}

test('datadog-lambda-js: distributions with and without a timestamp; invocations counted once, errors as Datadog counts them; DD_LOCAL_TESTING flushes', async () => {
  const removeFile = ensureExtensionFile();
  // The library's DogStatsD client and its flush call are hard-wired to 127.0.0.1:8125 and :8124.
  const env = { DD_DOGSTATSD_PORT: '8125', DD_EXTENSION_LIFECYCLE_PORT: '8124', DD_LOCAL_TESTING: 'true', DD_LOG_LEVEL: 'debug' };
  const r = await rig(undefined, env, { runtime: { handler: 'index.handler', taskRoot: path.join(fixtures, 'lambda-js-function') } });
  try {
    assert.equal((await r.emu.init()).status, 'success');
    const datedMs = Date.now() - 60_000;
    for (let i = 0; i < 3; i++) assert.equal((await r.emu.invoke({ datedMs })).status, 'success');
    assert.equal((await r.emu.invoke({ fail: 'handler failed' })).status, 'error');
    await r.emu.shutdown();
    const { intake } = r;

    const m = intake.sketchPoints('my.metric');
    assert.equal(
      m.reduce((n, p) => n + p.count, 0),
      3,
    );
    assert.ok(m.every((p) => p.min === 5 && p.max === 5 && p.tags.includes('a:b') && p.tags.includes('functionname:test_function')));
    const dated = intake.sketchPoints('my.dated');
    assert.equal(
      dated.reduce((n, p) => n + p.count, 0),
      3,
    );
    const datedS = Math.floor(datedMs / 1000);
    assert.ok(
      dated.every((p) => p.timestamp === datedS - (datedS % 10) && p.tags.includes('c:d')),
      'the point keeps its own time',
    );

    // The library sends aws.lambda.enhanced.invocations on every call; the extension counts each
    // INVOKE itself and drops the library's copies. The thrown error is counted by the library and
    // by the extension (runtimeDone), as with Datadog's extension (a 5xx: the next test).
    assert.equal(sketchCount(intake, 'aws.lambda.enhanced.invocations'), 4);
    assert.equal(sketchCount(intake, 'aws.lambda.enhanced.errors'), 2);
    // The library's POST /lambda/flush reached the lifecycle unit, which asked the supervisor for a flush.
    const asked = r.logs.all('flush requested');
    assert.ok(asked.length >= 4 && asked.every((l) => l['unit'] === 'lifecycle'), `${asked.length} flush requests`);
    assert.equal(intake.requests({ accepted: false }).length, 0);
  } finally {
    await r.done();
    removeFile();
  }
});

test("datadog-lambda-js's own aws.lambda with an API Gateway event: no extension-made duplicate; the cold-start span adopts aws.lambda.load; a 5xx counted as an error", async () => {
  const removeFile = ensureExtensionFile();
  const env = await libraryEntryEnv({ DD_MIN_COLD_START_DURATION: '1' });
  // The library's handler entry loads the user's app.handler and traces the cold start's requires.
  const r = await rig(undefined, env, { runtime: { handler: 'datadog.handler', taskRoot: path.join(fixtures, 'lambda-js-traced') } });
  try {
    assert.equal((await r.emu.init()).status, 'success');
    const event = {
      version: '2.0',
      routeKey: 'GET /hello/{name}',
      rawPath: '/hello/ann',
      rawQueryString: '',
      headers: { 'x-datadog-trace-id': '1111', 'x-datadog-parent-id': '2222', 'x-datadog-sampling-priority': '2' },
      requestContext: {
        apiId: 'api1',
        domainName: 'api1.execute-api.us-east-1.amazonaws.com',
        stage: '$default',
        requestId: 'gw-1',
        timeEpoch: Date.now(),
        http: { method: 'GET', path: '/hello/ann', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'curl' },
      },
    };
    for (let i = 0; i < 2; i++) assert.equal((await r.emu.invoke({ ...event, name: 'ann' })).status, 'success');
    // A 5xx result is a success to the platform: only the library counts it as an error, so its
    // aws.lambda.enhanced.errors line is kept (as Datadog's extension keeps it).
    assert.equal((await r.emu.invoke({ ...event, requestContext: { ...event.requestContext, requestId: 'gw-3' }, status: 503 })).status, 'success');
    await r.emu.shutdown();
    assert.equal(sketchCount(r.intake, 'aws.lambda.enhanced.errors'), 1);
    assert.equal(sketchCount(r.intake, 'aws.lambda.enhanced.invocations'), 3);
    const spans = r.intake.spans().map((s) => s.span);
    const lambda = spans.filter((s) => s.name === 'aws.lambda').slice(0, 2);
    assert.equal(spans.filter((s) => s.name === 'aws.lambda').length, 3, "one aws.lambda per invocation: the library's, none from the extension");
    assert.deepEqual(
      lambda.map((s) => [s.traceID, s.meta['cold_start'], s.meta['function_trigger.event_source']]),
      [
        [1111n, 'true', 'api-gateway'],
        [1111n, 'false', 'api-gateway'],
      ],
    );
    assert.equal(spans.filter((s) => s.name === 'aws.httpapi').length, 3, "the library's inferred spans pass through");
    const load = spans.find((s) => s.name === 'aws.lambda.load');
    const cold = spans.find((s) => s.name === 'aws.lambda.cold_start');
    assert.ok(load && cold, 'the library traced the cold start and the extension made its span');
    assert.deepEqual([load.parentID, cold.traceID], [cold.spanID, 1111n]);
    assert.ok(
      spans.some((s) => s.name === 'aws.lambda.require' && s.resource.endsWith('app.js')),
      "the user module's require is in the trace",
    );
    assert.equal(spans.filter((s) => s.name === 'aws.lambda.cold_start').length, 1);
    const initStart = r.emu.telemetry.events.find((e) => e.type === 'platform.initStart');
    assert.equal(cold.start, BigInt(Date.parse(initStart?.time ?? '')) * 1_000_000n, 'the cold start begins at initStart');
  } finally {
    await r.done();
    removeFile();
  }
});

test('durable functions: the real durable execution SDK under datadog-lambda-js; its lines tagged from executionArn, the others once the aws.lambda span names the execution; durable_function:true on enhanced metrics', async () => {
  const removeFile = ensureExtensionFile();
  const env = await libraryEntryEnv({ DD_LAMBDA_DURABLE_FUNCTION_LOG_BUFFER_SIZE: '10' });
  const r = await rig(undefined, env, {
    runtime: { handler: 'datadog.handler', taskRoot: path.join(fixtures, 'durable-function') },
    runtimeVersion: 'nodejs:22.DurableFunction.v3',
  });
  const arn = (name: string, id: string): string => `arn:aws:lambda:us-east-1:123456789012:function:test_function:$LATEST/durable-execution/${name}/${id}`;
  const event = (order: number, id: string) => ({
    DurableExecutionArn: arn(`order-${order}`, id),
    CheckpointToken: 't0',
    InitialExecutionState: {
      Operations: [{ Id: 'e0', Type: 'EXECUTION', Status: 'STARTED', StartTimestamp: new Date().toISOString(), ExecutionDetails: { InputPayload: JSON.stringify({ order }) } }],
    },
  });
  try {
    assert.equal((await r.emu.init()).status, 'success');
    const results = [];
    for (const [order, id] of [
      [7, 'exec-7'],
      [8, 'exec-8'],
    ] as const) {
      const res = await r.emu.invoke(event(order, id));
      assert.equal(res.status, 'success', res.payload.toString());
      assert.deepEqual(JSON.parse(res.payload.toString()), { Status: 'SUCCEEDED', Result: JSON.stringify({ total: order * 10 }) });
      results.push({ order, id, requestId: res.requestId });
    }
    await r.emu.shutdown();
    const logs = r.intake.logs();
    for (const { order, id, requestId } of results) {
      const mine = logs.filter((l) => (l['lambda'] as { request_id?: string }).request_id === requestId);
      const attrs = (text: string): Record<string, unknown> | undefined => mine.find((l) => String(l['message']).includes(text))?.['lambda'] as Record<string, unknown> | undefined;
      // The SDK's own line carries its executionArn: tagged at once.
      assert.equal(attrs(`sdk line for order ${order}`)?.['durable_function.execution_id'], id);
      // A plain console line waited for the library's aws.lambda span (aws.durable.*) to name the execution.
      assert.deepEqual(
        [attrs(`plain line for order ${order}`)?.['durable_function.execution_id'], attrs(`plain line for order ${order}`)?.['durable_function.execution_name']],
        [id, `order-${order}`],
      );
      // START and END say whether this was the execution's first invocation; END carries its status.
      assert.equal(attrs('START RequestId')?.['durable_function.first_invocation'], true);
      assert.equal(attrs('END RequestId')?.['durable_function.execution_status'], 'SUCCEEDED');
    }
    const inv = r.intake.sketchPoints('aws.lambda.enhanced.invocations');
    assert.ok(inv.length > 0 && inv.every((p) => p.tags.includes('durable_function:true')));
    assert.equal(r.intake.spans().filter((s) => s.span.name === 'aws.lambda' && s.span.meta['aws.durable.execution_id'] !== undefined).length, 2);
  } finally {
    await r.done();
    removeFile();
  }
});
