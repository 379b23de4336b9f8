import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LambdaEmulator } from '../src/emulator.js';
import { api, next, register } from './helpers.js';

async function started(opts: ConstructorParameters<typeof LambdaEmulator>[0] = {}): Promise<LambdaEmulator> {
  const emu = new LambdaEmulator({ attachExtensions: ['ext'], ...opts });
  await emu.start();
  return emu;
}

test('register: identifier header, function info, accountId only when the feature is asked for', async () => {
  const emu = await started({ attachExtensions: ['ext', 'ext2'], functionName: 'fn1' });
  const init = emu.init();
  const a = await register(emu.runtimeApi, 'ext', ['INVOKE', 'SHUTDOWN'], 'accountId');
  assert.equal(a.status, 200);
  assert.match(a.headers.get('lambda-extension-identifier') ?? '', /^[0-9a-f-]{36}$/);
  assert.deepEqual(a.json, { functionName: 'fn1', functionVersion: '$LATEST', handler: '', accountId: '123456789012' });
  const b = await register(emu.runtimeApi, 'ext2', ['SHUTDOWN']);
  assert.equal(b.status, 200);
  assert.equal(b.json.accountId, undefined);
  const n1 = next(emu.runtimeApi, a.headers.get('lambda-extension-identifier')!);
  const n2 = next(emu.runtimeApi, b.headers.get('lambda-extension-identifier')!);
  const r = await init;
  assert.equal(r.status, 'success');
  assert.deepEqual(
    r.extensions.map((e) => e.name),
    ['ext', 'ext2'],
  );
  assert.ok(r.extensions.every((e) => e.registerMs !== undefined && e.readyMs! >= e.registerMs!));
  const closing = emu.close();
  assert.equal((await n1).json.eventType, 'SHUTDOWN');
  assert.equal((await n2).json.eventType, 'SHUTDOWN');
  void next(emu.runtimeApi, a.headers.get('lambda-extension-identifier')!).catch(() => undefined);
  void next(emu.runtimeApi, b.headers.get('lambda-extension-identifier')!).catch(() => undefined);
  await closing;
  assert.deepEqual(
    emu.shutdowns[0]!.extensions.map((e) => e.killed),
    [false, false],
  );
});

test('register: the documented 403 error types and 400 for a malformed body', async () => {
  const emu = await started({ initTimeoutMs: 500 });
  const init = emu.init();
  const base = emu.runtimeApi;
  const call = (name: string, body: unknown) => api(base, 'POST', '/2020-01-01/extension/register', name ? { 'Lambda-Extension-Name': name } : {}, body);
  let r = await call('', { events: [] });
  assert.deepEqual([r.status, r.json.errorType], [403, 'Extension.InvalidExtensionName']);
  r = await call('ext', { events: ['INVOKE', 'BOGUS'] });
  assert.deepEqual([r.status, r.json.errorType], [403, 'Extension.InvalidEventType']);
  r = await call('ext', '{not json');
  assert.deepEqual([r.status, r.json.errorType], [400, 'InvalidRequestFormat']);
  r = await call('ext', { events: ['INVOKE'], configurationKeys: ['x'] });
  assert.deepEqual([r.status, r.json.errorType], [403, 'InvalidRequestFormat']);
  // A name that matches no executable is an internal extension: no SHUTDOWN for it.
  r = await call('internal-one', { events: ['SHUTDOWN'] });
  assert.deepEqual([r.status, r.json.errorType], [403, 'Extension.InvalidEventType']);
  const ok = await call('ext', { events: ['INVOKE'] });
  assert.equal(ok.status, 200);
  r = await call('ext', { events: ['INVOKE'] });
  assert.deepEqual([r.status, r.json.errorType], [403, 'Extension.InvalidExtensionState']);
  for (let i = 0; i < 9; i++) assert.equal((await call(`internal-${i}`, { events: ['INVOKE'] })).status, 200);
  r = await call('internal-10', { events: [] });
  assert.deepEqual([r.status, r.json.errorType], [403, 'Extension.TooManyExtensions']);
  // Registered extensions that never reach /next keep init from ending: the init limit ends it.
  const result = await init;
  assert.equal(result.status, 'timeout');
  const report = emu.telemetry.events.find((e) => e.type === 'platform.initReport')!.record as Record<string, unknown>;
  assert.equal(report.status, 'timeout');
  await emu.close();
});

test('next: missing, malformed and unknown identifiers are 403s; registration closes after init', async () => {
  const emu = await started();
  const init = emu.init();
  const base = emu.runtimeApi;
  let r = await api(base, 'GET', '/2020-01-01/extension/event/next');
  assert.deepEqual([r.status, r.json.errorType], [403, 'Extension.MissingExtensionIdentifier']);
  r = await next(base, 'not-a-uuid');
  assert.deepEqual([r.status, r.json.errorType], [403, 'Extension.InvalidExtensionIdentifier']);
  r = await next(base, '00000000-0000-4000-8000-000000000000');
  assert.deepEqual([r.status, r.json.errorType], [403, 'Extension.UnknownExtensionIdentifier']);
  const reg = await register(base, 'ext');
  const id = reg.headers.get('lambda-extension-identifier')!;
  const first = next(base, id);
  assert.equal((await init).status, 'success');
  r = await register(base, 'late', ['INVOKE']);
  assert.deepEqual([r.status, r.json.errorType], [403, 'Extension.RegistrationClosed']);
  const closing = emu.close();
  await first;
  await next(base, id).catch(() => undefined);
  await closing;
});

test('INVOKE and SHUTDOWN events carry the documented fields', async () => {
  const emu = await started({ functionName: 'shape', region: 'eu-west-1', accountId: '111122223333', timeoutMs: 5000 });
  const init = emu.init();
  const base = emu.runtimeApi;
  const id = (await register(base, 'ext')).headers.get('lambda-extension-identifier')!;
  let pending = next(base, id);
  await init;
  const invoking = emu.invoke({ hello: 1 }, { requestId: 'req-1', traceId: 'Root=1-5f35ae12-0c0fec141ab77a00bc047aa2;Parent=2be948a625588e32;Sampled=1' });
  const inv = await pending;
  assert.equal(inv.status, 200);
  assert.ok(inv.headers.get('lambda-extension-event-identifier'));
  assert.equal(inv.json.eventType, 'INVOKE');
  assert.equal(inv.json.requestId, 'req-1');
  assert.equal(inv.json.invokedFunctionArn, 'arn:aws:lambda:eu-west-1:111122223333:function:shape');
  assert.deepEqual(inv.json.tracing, { type: 'X-Amzn-Trace-Id', value: 'Root=1-5f35ae12-0c0fec141ab77a00bc047aa2;Parent=2be948a625588e32;Sampled=1' });
  const deadline = inv.json.deadlineMs as number;
  assert.ok(deadline > Date.now() && deadline <= Date.now() + 5000);
  pending = next(base, id);
  const result = await invoking;
  assert.equal(result.status, 'success');
  assert.equal(result.payload.toString(), 'null');
  const shutting = emu.shutdown('spindown');
  const sd = await pending;
  assert.equal(sd.json.eventType, 'SHUTDOWN');
  assert.equal(sd.json.shutdownReason, 'spindown');
  assert.ok((sd.json.deadlineMs as number) > Date.now());
  // An attached extension says it is done by polling /next again.
  void next(base, id).catch(() => undefined);
  const res = await shutting;
  assert.equal(res.extensions[0]!.killed, false);
  assert.equal(res.budgetMs, 2000);
  await emu.close();
});

test('init/error fails the init with the reported type; exit/error needs the error-type header', async () => {
  const emu = await started();
  const init = emu.init();
  const base = emu.runtimeApi;
  const id = (await register(base, 'ext')).headers.get('lambda-extension-identifier')!;
  let r = await api(base, 'POST', '/2020-01-01/extension/init/error', { 'Lambda-Extension-Identifier': id }, { errorMessage: 'x' });
  assert.deepEqual([r.status, r.json.errorType], [400, 'Extension.MissingHeader']);
  r = await api(
    base,
    'POST',
    '/2020-01-01/extension/init/error',
    { 'Lambda-Extension-Identifier': id, 'Lambda-Extension-Function-Error-Type': 'Extension.ConfigInvalid' },
    { errorMessage: 'bad config', errorType: 'Extension.ConfigInvalid' },
  );
  assert.equal(r.status, 202);
  const result = await init;
  assert.equal(result.status, 'error');
  assert.equal(result.errorType, 'Extension.ConfigInvalid');
  const report = emu.telemetry.events.find((e) => e.type === 'platform.initReport')!;
  assert.deepEqual((report.record as Record<string, unknown>).status, 'error');
  await emu.close();
});

test('exit/error is accepted once and then the extension is refused', async () => {
  const emu = await started();
  const init = emu.init();
  const base = emu.runtimeApi;
  const id = (await register(base, 'ext')).headers.get('lambda-extension-identifier')!;
  const first = next(base, id);
  await init;
  const h = { 'Lambda-Extension-Identifier': id, 'Lambda-Extension-Function-Error-Type': 'Extension.UnknownReason' };
  assert.equal((await api(base, 'POST', '/2020-01-01/extension/exit/error', h, {})).status, 202);
  const again = await api(base, 'POST', '/2020-01-01/extension/exit/error', h, {});
  assert.deepEqual([again.status, again.json.errorType], [403, 'Extension.InvalidExtensionState']);
  void first.catch(() => undefined);
  await emu.close();
});

test('unknown routes are 404 and the Logs API answers Logs.NotSupported', async () => {
  const emu = await started();
  const r = await api(emu.runtimeApi, 'GET', '/2020-01-01/extension/nope');
  assert.equal(r.status, 404);
  const logs = await api(emu.runtimeApi, 'PUT', '/2020-08-15/logs', {}, {});
  assert.deepEqual([logs.status, logs.json.errorType], [202, 'Logs.NotSupported']);
  await emu.close();
});
