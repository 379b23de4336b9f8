// The emulator and the fake intake together: the example extension forwards the sample
// function's logs through the Telemetry API; nothing is lost by SHUTDOWN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFakeIntake } from '@dd-lambda/fake-intake';
import { LambdaEmulator } from '@dd-lambda/lambda-emulator';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures');

test('function logs of every invocation reach the intake with their request ids by SHUTDOWN', async () => {
  const intake = buildFakeIntake({ apiKey: 'k' });
  const url = await intake.listen();
  const emu = new LambdaEmulator({
    optDir: path.join(fixtures, 'demo-opt'),
    runtime: { handler: 'index.handler', taskRoot: path.join(fixtures, 'sample-function') },
    functionName: 'orders',
    // The example extension serves no traces: the sample function's tracer stays off.
    env: { DD_API_KEY: 'k', DD_LOGS_CONFIG_LOGS_DD_URL: url, DD_TRACE_ENABLED: 'false' },
  });
  const ids: string[] = [];
  try {
    for (const event of [{ orderId: 1 }, { orderId: 2, fail: true }, { orderId: 3 }]) ids.push((await emu.invoke(event)).requestId);
    const sd = await emu.shutdown();
    assert.equal(sd.extensions[0]!.killed, false);
  } finally {
    await emu.close();
    await intake.close();
  }
  assert.equal(intake.requests({ accepted: false }).length, 0, 'the intake accepted every payload');
  const logs = intake.logs();
  for (const [i, id] of ids.entries()) {
    const mine = logs.filter((l) => (l.lambda as { request_id: string }).request_id === id);
    assert.ok(
      mine.some((l) => l.message === `processing order ${i + 1}`),
      `invocation ${i + 1}`,
    );
  }
  assert.ok(logs.some((l) => l.status === 'error' && l.message.includes('order 2 rejected')));
  assert.ok(logs.every((l) => l.ddsource === 'lambda' && l.service === 'orders'));
});
