// Durable functions' logs: the execution ARN the durable execution SDK logs, the runtime version that
// marks a durable function, and the hold buffer that waits for the tracer's aws.lambda span.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@dd-lambda/config';
import { createLogger } from '@dd-lambda/logger';
import { buildFakeIntake } from '@dd-lambda/fake-intake';
import { DurableLogHold, parseDurableExecutionArn } from '../src/durable.js';
import { LogProcessor } from '../src/processor.js';
import type { IntakeLog } from '../src/processor.js';
import { buildLogs } from '../src/unit.js';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:fn';
const at = new Date().toISOString();
const ev = (type: string, record: unknown): unknown => ({ time: at, type, record });
const ctx = { executionId: 'exec-1', executionName: 'order-42', firstInvocation: true, executionStatus: 'SUCCEEDED' };

test('the durable execution ARN: name and id after /durable-execution/; anything else is not one', () => {
  assert.deepEqual(parseDurableExecutionArn(`${ARN}:$LATEST/durable-execution/order-42/0a1b2c`), { name: 'order-42', id: '0a1b2c' });
  assert.equal(parseDurableExecutionArn(`${ARN}:1/durable-execution/order-42`), undefined);
  assert.equal(parseDurableExecutionArn(`${ARN}:1/durable-execution//x`), undefined);
  assert.equal(parseDurableExecutionArn(ARN), undefined);
});

test('processor: initStart tells durable from not; SDK lines carry their execution from executionArn', () => {
  const p = new LogProcessor({ functionArn: ARN, service: 'fn', tags: [], rules: [], managed: false });
  assert.equal(p.durable, undefined);
  const out = p.process([
    ev('platform.initStart', { runtimeVersion: 'nodejs:22.DurableFunction.v3' }),
    ev('platform.start', { requestId: 'r1' }),
    ev('function', JSON.stringify({ message: 'step done', executionArn: `${ARN}:$LATEST/durable-execution/order-42/exec-1` })),
  ]);
  assert.equal(p.durable, true);
  assert.deepEqual(out[2]?.message.lambda, { arn: ARN, request_id: 'r1', 'durable_function.execution_id': 'exec-1', 'durable_function.execution_name': 'order-42' });
  const plain = new LogProcessor({ functionArn: ARN, service: 'fn', tags: [], rules: [], managed: false });
  plain.process([ev('platform.initStart', { runtimeVersion: 'nodejs:22.v3' })]);
  assert.equal(plain.durable, false);
});

function logs(lines: [string | null, string][]): IntakeLog[] {
  return lines.map(([id, message]) => ({
    message: { message, lambda: { arn: ARN, request_id: id }, timestamp: 1, status: 'info' },
    hostname: ARN,
    service: 'fn',
    ddtags: '',
    ddsource: 'lambda',
  }));
}

test('hold: size 0 holds nothing; unknown durability holds per request; a regular function releases all; a durable one waits for its context', () => {
  assert.equal(new DurableLogHold(0, false).accept(logs([['r1', 'x']]), true).length, 1);
  const h = new DurableLogHold(2, false);
  assert.equal(
    h.accept(
      logs([
        ['r1', 'START RequestId: r1 Version: $LATEST'],
        ['r1', 'a'],
        [null, 'no id'],
      ]),
      undefined,
    ).length,
    1,
    'only the line without a request id',
  );
  assert.equal(h.heldCount, 2);
  assert.deepEqual(
    h.accept([], false).map((l) => l.message.message),
    ['START RequestId: r1 Version: $LATEST', 'a'],
  );
  assert.equal(h.accept(logs([['r2', 'b']]), undefined).length, 1, 'a regular function: nothing held any more');

  const d = new DurableLogHold(2, false);
  assert.equal(
    d.accept(
      logs([
        ['r1', 'START RequestId: r1 Version: $LATEST'],
        ['r1', 'in handler'],
        ['r1', 'END RequestId: r1'],
      ]),
      true,
    ).length,
    0,
  );
  const released = d.context('r1', ctx);
  assert.deepEqual(
    released.map((l) => [
      l.message.message.slice(0, 5),
      l.message.lambda['durable_function.execution_id'],
      l.message.lambda['durable_function.first_invocation'],
      l.message.lambda['durable_function.execution_status'],
    ]),
    [
      ['START', 'exec-1', true, undefined],
      ['in ha', 'exec-1', undefined, undefined],
      ['END R', 'exec-1', true, 'SUCCEEDED'],
    ],
  );
  // Known context: later lines of r1 go at once, tagged.
  assert.equal(d.accept(logs([['r1', 'late']]), true)[0]?.message.lambda['durable_function.execution_name'], 'order-42');
});

test('hold: over the size the oldest request goes untagged; SHUTDOWN releases everything; managed REPORT carries the status', () => {
  const h = new DurableLogHold(2, false);
  assert.equal(
    h.accept(
      logs([
        ['r1', 'a'],
        ['r2', 'b'],
      ]),
      true,
    ).length,
    0,
  );
  const evicted = h.accept(logs([['r3', 'c']]), true);
  assert.deepEqual(
    evicted.map((l) => [l.message.message, l.message.lambda['durable_function.execution_id']]),
    [['a', undefined]],
  );
  assert.deepEqual(
    h.releaseAll().map((l) => l.message.message),
    ['b', 'c'],
  );
  const m = new DurableLogHold(5, true);
  m.accept(logs([['r1', 'REPORT RequestId: r1 Duration: 1 ms']]), true);
  assert.equal(m.context('r1', ctx)[0]?.message.lambda['durable_function.execution_status'], 'SUCCEEDED');
});

test('the unit: DURABLE_CONTEXT from the trace agent releases a request’s held logs to the intake, tagged', async () => {
  const intake = buildFakeIntake({ apiKey: 'k'.repeat(32) });
  const url = await intake.listen();
  const { config } = loadConfig(
    { DD_API_KEY: 'k'.repeat(32), DD_LOGS_CONFIG_LOGS_DD_URL: url, AWS_LAMBDA_FUNCTION_NAME: 'fn', DD_LAMBDA_DURABLE_FUNCTION_LOG_BUFFER_SIZE: '10' },
    { readYaml: false },
  );
  const unit = buildLogs({ config, tags: { function_arn: ARN }, logger: createLogger({ level: 'silent', bindings: { component: 'logs' } }) });
  try {
    unit.telemetry(
      Buffer.from(
        JSON.stringify([ev('platform.initStart', { runtimeVersion: 'python:3.14.DurableFunction.v6' }), ev('platform.start', { requestId: 'r1' }), ev('function', 'working')]),
      ),
    );
    await unit.flush({ reason: 'end', deadline: Date.now() + 5_000 });
    assert.equal(intake.logs().filter((l) => l['message'] === 'working').length, 0, 'held until the context arrives');
    unit.message?.('trace-agent', { t: 'DURABLE_CONTEXT', requestId: 'r1', ...ctx });
    await unit.flush({ reason: 'shutdown', deadline: Date.now() + 5_000 });
    const working = intake.logs().find((l) => l['message'] === 'working');
    assert.deepEqual(working?.['lambda'], { arn: ARN, request_id: 'r1', 'durable_function.execution_id': 'exec-1', 'durable_function.execution_name': 'order-42' });
  } finally {
    await intake.close();
  }
});
