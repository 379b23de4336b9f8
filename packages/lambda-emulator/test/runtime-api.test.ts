import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LambdaEmulator } from '../src/emulator.js';
import { MAX_RESPONSE_BYTES } from '../src/runtime-api.js';
import { type TelemetryEvent } from '../src/telemetry.js';
import { api, fnDir } from './helpers.js';

function emulator(opts: ConstructorParameters<typeof LambdaEmulator>[0] = {}): LambdaEmulator {
  return new LambdaEmulator({ runtime: { handler: 'index.handler', taskRoot: fnDir }, timeoutMs: 5000, ...opts });
}

const records = (emu: LambdaEmulator, type: string): Record<string, unknown>[] =>
  emu.telemetry.events.filter((e: TelemetryEvent) => e.type === type).map((e) => e.record as Record<string, unknown>);

test('the runtime gets the payload, the context and the invocation headers', async () => {
  const emu = emulator({ functionName: 'ctx-fn', env: { DD_API_KEY: 'abc' } });
  try {
    const echo = await emu.invoke({ action: 'none', n: 1 });
    assert.equal(echo.status, 'success');
    assert.deepEqual(JSON.parse(echo.payload.toString()), { echo: { action: 'none', n: 1 } });
    const trace = 'Root=1-5f35ae12-0c0fec141ab77a00bc047aa2;Parent=2be948a625588e32;Sampled=1';
    const r = await emu.invoke({ action: 'remaining' }, { traceId: trace, clientContext: '{"custom":{"k":"v"}}', cognitoIdentity: '{"cognitoIdentityId":"id-1"}' });
    const body = JSON.parse(r.payload.toString()) as Record<string, unknown>;
    assert.ok((body.remaining as number) > 3000 && (body.remaining as number) <= 5000);
    assert.equal(body.fn, 'ctx-fn');
    assert.equal(body.arn, 'arn:aws:lambda:us-east-1:123456789012:function:ctx-fn');
    assert.equal(body.env, 'abc');
    assert.equal(body.traceEnv, trace);
    assert.deepEqual(body.clientContext, { custom: { k: 'v' } });
    assert.deepEqual(body.identity, { cognitoIdentityId: 'id-1' });
    assert.ok(r.runtimeMs !== undefined && r.postRuntimeMs !== undefined);
  } finally {
    await emu.close();
  }
});

test('callback-style handlers work', async () => {
  const emu = emulator({ runtime: { handler: 'cb.handler', taskRoot: fnDir } });
  try {
    const r = await emu.invoke({ n: 7 });
    assert.deepEqual(JSON.parse(r.payload.toString()), { cb: true, n: 7 });
  } finally {
    await emu.close();
  }
});

test('a thrown error is an error invocation with runtimeDone and report status error', async () => {
  const emu = emulator();
  try {
    const r = await emu.invoke({ action: 'throw' });
    assert.equal(r.status, 'error');
    assert.equal(r.error?.errorType, 'TypeError');
    assert.equal(r.error?.errorMessage, 'boom');
    assert.equal(r.reset, false, 'a handled error does not reset the sandbox');
    assert.deepEqual(
      records(emu, 'platform.runtimeDone').map((x) => [x.status, x.errorType]),
      [['error', 'TypeError']],
    );
    assert.equal(records(emu, 'platform.report')[0]!.status, 'error');
    const ok = await emu.invoke({ action: 'none' });
    assert.equal(ok.status, 'success');
    assert.equal(emu.inits.length, 1, 'no re-init after a handled error');
  } finally {
    await emu.close();
  }
});

test('a response over 6 MiB is refused with 413 and fails the invocation', async () => {
  const emu = emulator();
  try {
    const r = await emu.invoke({ action: 'big' });
    assert.equal(r.status, 'error');
    assert.equal(r.error?.errorType, 'Function.ResponseSizeTooLarge');
    assert.match(r.error!.errorMessage, new RegExp(String(MAX_RESPONSE_BYTES)));
  } finally {
    await emu.close();
  }
});

test('a runtime that fails to load posts init/error; the next invoke retries init in the invoke phase', async () => {
  const emu = emulator({ runtime: { handler: 'broken.handler', taskRoot: fnDir } });
  try {
    const init = await emu.init();
    assert.equal(init.status, 'error');
    assert.equal(init.errorType, 'Error');
    const r = await emu.invoke({});
    assert.equal(r.status, 'failure');
    assert.equal(r.init?.phase, 'invoke', 'suppressed init runs in the invoke phase');
    assert.deepEqual(
      records(emu, 'platform.initStart').map((x) => x.phase),
      ['init', 'invoke'],
    );
    assert.deepEqual(
      records(emu, 'platform.initReport').map((x) => x.status),
      ['error', 'error'],
    );
  } finally {
    await emu.close();
  }
});

test('a missing handler export is reported as Runtime.HandlerNotFound', async () => {
  const emu = emulator({ runtime: { handler: 'index.nothere', taskRoot: fnDir } });
  try {
    assert.equal((await emu.init()).errorType, 'Runtime.HandlerNotFound');
  } finally {
    await emu.close();
  }
});

test('a runtime that exits mid-invoke is a failure with Runtime.ExitError and a reset', async () => {
  const emu = emulator();
  try {
    const r = await emu.invoke({ action: 'exit' });
    assert.equal(r.status, 'failure');
    assert.equal(r.error?.errorType, 'Runtime.ExitError');
    assert.equal(r.reset, true);
    const again = await emu.invoke({ action: 'none' });
    assert.equal(again.status, 'success');
    assert.equal(again.init?.status, 'success', 're-initialised after the reset');
  } finally {
    await emu.close();
  }
});

test('Runtime API error codes: unknown request id 400, init/error outside init 403', async () => {
  const emu = new LambdaEmulator();
  await emu.start();
  try {
    let r = await api(emu.runtimeApi, 'POST', '/2018-06-01/runtime/invocation/nope/response', {}, '{}');
    assert.deepEqual([r.status, r.json.errorType], [400, 'InvalidRequestID']);
    r = await api(emu.runtimeApi, 'POST', '/2018-06-01/runtime/init/error', { 'Lambda-Runtime-Function-Error-Type': 'Runtime.X' }, '{}');
    assert.equal(r.status, 403);
  } finally {
    await emu.close();
  }
});

test('text logs: console output is framed per record (multi-line stays one), raw stdout per line', async () => {
  const emu = emulator();
  try {
    const r = await emu.invoke({ action: 'multiline' });
    const lines = records(emu, 'function') as unknown as string[];
    const multi = lines.find((l) => l.includes('line one'))!;
    assert.match(multi, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\t${r.requestId}\\tINFO\\tline one\\nline two$`));
    assert.ok(lines.includes('raw stdout line'));
  } finally {
    await emu.close();
  }
});

test('JSON log format: console records are objects; JSON lines pass as objects; plain lines are wrapped', async () => {
  const emu = emulator({ logFormat: 'JSON' });
  try {
    const r = await emu.invoke({ action: 'json' });
    const recs = records(emu, 'function');
    const handling = recs.find((x) => typeof x.message === 'string' && x.message.startsWith('handling'))!;
    assert.equal(handling.level, 'INFO');
    assert.equal(handling.requestId, r.requestId);
    assert.ok(recs.some((x) => x.message === 'structured' && x.level === 'WARN' && x.custom === 1));
    assert.equal((await emu.invoke({ action: 'multiline' })).status, 'success');
    const wrapped = records(emu, 'function').find((x) => x.message === 'raw stdout line')!;
    assert.deepEqual(Object.keys(wrapped).sort(), ['level', 'message', 'timestamp']);
  } finally {
    await emu.close();
  }
});
