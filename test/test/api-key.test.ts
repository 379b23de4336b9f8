// The API key from AWS, end to end: the built layer under the emulator with no DD_API_KEY, the key in
// Secrets Manager (raw and JSON), SSM or KMS (with the Lambda console's encryption context) served by
// the fake AWS, which checks every signature with an independent signer; traces, metrics and logs reach
// the fake intake under that key. The key is asked for only once the extension waits on /next.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { FakeAws } from '@dd-lambda/fake-aws';
import { API_KEY, fixtures, portEnv, rig } from './helpers.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:datadog-api-key-AbCdEf';
const JSON_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:datadog-json-AbCdEf';
const SSM_ARN = 'arn:aws:ssm:eu-west-1:123456789012:parameter/datadog/api-key';
const CIPHER = Buffer.from('ciphertext the console made').toString('base64');
// What the emulator gives every sandbox process as the execution role's credentials.
const ROLE = { accessKeyId: 'AKIAEMULATOREXAMPLE', secretAccessKey: 'emulator-secret-access-key', sessionToken: 'emulator-session-token' };

async function fakeAws(): Promise<{ aws: FakeAws; url: string }> {
  const aws = new FakeAws({
    credentials: [ROLE],
    secrets: { [ARN]: `${API_KEY}\n`, [JSON_ARN]: JSON.stringify({ dd_api_key: API_KEY }) },
    parameters: { [SSM_ARN]: API_KEY },
    ciphertexts: { [CIPHER]: { plaintext: API_KEY, encryptionContext: { LambdaFunctionName: 'test_function' } } },
  });
  return { aws, url: await aws.listen() };
}

for (const [name, variable, value, calls] of [
  ['Secrets Manager, raw', 'DD_API_KEY_SECRET_ARN', ARN, 1],
  ['Secrets Manager, JSON', 'DD_API_KEY_SECRET_ARN', JSON_ARN, 1],
  ['SSM', 'DD_API_KEY_SSM_ARN', SSM_ARN, 1],
  ['KMS with the encryption context', 'DD_KMS_API_KEY', CIPHER, 2],
] as const) {
  test(`API key from ${name}: traces, metrics and logs arrive under it; asked for after /next; never logged`, async () => {
    const { aws, url } = await fakeAws();
    const ports = await portEnv();
    const r = await rig(
      undefined,
      {
        ...ports,
        DD_API_KEY: '',
        [variable]: value,
        AWS_ENDPOINT_URL: url,
        DD_LOG_LEVEL: 'debug',
        DD_SERVERLESS_FLUSH_STRATEGY: 'end',
        DD_TRACE_AGENT_PORT: ports['DD_APM_RECEIVER_PORT'] as string,
        DD_TRACE_EXPERIMENTAL_EXPORTER: 'agent',
      },
      { runtime: { handler: 'index.handler', taskRoot: path.join(fixtures, 'sample-function') } },
    );
    try {
      const t0 = Date.now();
      const init = await r.emu.init();
      assert.equal(init.status, 'success');
      const ready = init.extensions.find((e) => e.name === 'datadog-agent');
      for (let i = 1; i <= 2; i++) assert.equal((await r.emu.invoke({ orderId: i })).status, 'success');
      await r.emu.shutdown();
      assert.equal(aws.calls.filter((c) => c.status === 200).length, 1, JSON.stringify(aws.calls));
      assert.equal(aws.calls.length, calls);
      assert.ok(
        aws.calls.every((c) => c.error === undefined || c.error === 'InvalidCiphertextException'),
        'every signature verified',
      );
      // The request went out once the extension waited on /next: nothing of it is on the cold-start path.
      const firstCall = Math.min(...aws.calls.map((c) => c.at));
      assert.ok(firstCall >= t0 + (ready?.readyMs ?? Infinity) - 5, `AWS asked ${firstCall - t0} ms after init started, /next at ${ready?.readyMs} ms`);
      const spans = r.intake.spans().map((s) => s.span);
      assert.equal(spans.filter((s) => s.name === 'order.process').length, 2);
      assert.equal(
        r.intake.metricPoints('orders.processed').reduce((n, p) => n + p.value, 0),
        2,
      );
      assert.ok(r.intake.logs().some((l) => String(l['message']).includes('processing order')));
      assert.equal(r.intake.requests({ accepted: false }).length, 0, 'every payload carried the right key');
      assert.ok(r.logs.json.some((j) => j['msg'] === 'API key resolved' && j['from'] === variable));
      assert.ok(!r.logs.raw.join('\n').includes(API_KEY), 'the key is in no output line, at debug level');
    } finally {
      await r.done();
      await aws.close();
    }
  });
}

test("a missing secret: one error line naming the variable and AWS's error; the function still succeeds; nothing is sent without a key", async () => {
  const { aws, url } = await fakeAws();
  const r = await rig(undefined, { DD_API_KEY: '', DD_API_KEY_SECRET_ARN: `${ARN}-gone`, AWS_ENDPOINT_URL: url, DD_SERVERLESS_FLUSH_STRATEGY: 'end' });
  try {
    for (let i = 0; i < 2; i++) assert.equal((await r.emu.invoke({ dsd: 'nokey.m:1|c' })).status, 'success');
    await r.emu.shutdown();
    const errors = r.logs.json.filter((j) => j['code'] === 'SEC_ERR_AWS');
    assert.equal(errors.length, 1, 'one line, not one per retry');
    assert.equal(errors[0]?.['msg'], "DD_API_KEY_SECRET_ARN: ResourceNotFoundException: Secrets Manager can't find the specified secret.");
    assert.equal(r.intake.requests().length, 0);
  } finally {
    await r.done();
    await aws.close();
  }
});
