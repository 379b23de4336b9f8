// Every key source against the fake AWS (which checks each signature with aws4), the secret shapes,
// precedence, AWS's errors, and the resolver's retries, reloads and 403 re-resolution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AwsAccess } from '@dd-lambda/config';
import { FakeAws } from '@dd-lambda/fake-aws';
import { createLogger } from '@dd-lambda/logger';
import { ApiKeyResolver } from '../src/resolver.js';
import { fetchApiKey, keyFromSecretString, keySource } from '../src/resolve.js';
import type { SecretsError } from '../src/errors.js';

const KEY = 'abcdef0123456789abcdef0123456789';
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:dd-key-AbCdEf';
const SSM_ARN = 'arn:aws:ssm:eu-west-1:123456789012:parameter/datadog/api-key';
const CIPHER = Buffer.from('opaque ciphertext').toString('base64');
const creds = { accessKeyId: 'AKIATEST', secretAccessKey: 'test-secret', sessionToken: 'session-token' };

async function fake(): Promise<{ aws: FakeAws; access: AwsAccess; close: () => Promise<void> }> {
  const aws = new FakeAws({
    credentials: [creds],
    secrets: { [ARN]: `  ${KEY}\n`, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:json': JSON.stringify({ dd_api_key: KEY, other: 1 }) },
    parameters: { [SSM_ARN]: KEY, '/plain/name': KEY },
    ciphertexts: { [CIPHER]: { plaintext: KEY, encryptionContext: { LambdaFunctionName: 'my-fn' } } },
  });
  const url = await aws.listen();
  const access: AwsAccess = { region: 'us-east-1', functionName: 'my-fn', credentials: creds, containerCredentials: undefined, endpoints: { all: url }, fips: false };
  return { aws, access, close: () => aws.close() };
}

test('Secrets Manager (raw and JSON), SSM (ARN and name) and KMS (with the Lambda encryption context) give the key; each request is signed right', async () => {
  const { aws, access, close } = await fake();
  try {
    assert.equal(await fetchApiKey({ variable: 'DD_API_KEY_SECRET_ARN', value: ARN }, { access }), KEY);
    assert.equal(await fetchApiKey({ variable: 'DD_API_KEY_SECRET_ARN', value: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:json' }, { access }), KEY);
    assert.equal(await fetchApiKey({ variable: 'DD_API_KEY_SSM_ARN', value: SSM_ARN }, { access }), KEY);
    assert.equal(await fetchApiKey({ variable: 'DD_API_KEY_SSM_ARN', value: '/plain/name' }, { access }), KEY);
    assert.equal(await fetchApiKey({ variable: 'DD_KMS_API_KEY', value: CIPHER }, { access }), KEY);
    assert.ok(
      aws.calls.every((c) => c.error === undefined || c.error === 'InvalidCiphertextException'),
      JSON.stringify(aws.calls),
    );
    // The region comes from the ARN when there is one, else AWS_REGION.
    assert.deepEqual(
      aws.calls.map((c) => [c.service, c.region]),
      [
        ['secretsmanager', 'eu-west-1'],
        ['secretsmanager', 'eu-west-1'],
        ['ssm', 'eu-west-1'],
        ['ssm', 'us-east-1'],
        ['kms', 'us-east-1'],
        ['kms', 'us-east-1'],
      ],
    );
    // KMS: first without a context (InvalidCiphertextException), then with the function's name.
    assert.deepEqual(
      aws.calls.slice(-2).map((c) => c.body['EncryptionContext']),
      [undefined, { LambdaFunctionName: 'my-fn' }],
    );
    assert.deepEqual(aws.calls[2]?.body, { Name: SSM_ARN, WithDecryption: true });
  } finally {
    await close();
  }
});

test("AWS errors come back with AWS's code and message; a wrong secret key fails the signature check", async () => {
  const { access, close } = await fake();
  try {
    await assert.rejects(
      fetchApiKey({ variable: 'DD_API_KEY_SECRET_ARN', value: `${ARN}-missing` }, { access }),
      (e: SecretsError) => e.awsCode === 'ResourceNotFoundException' && /ResourceNotFoundException: Secrets Manager can't find/.test(e.message) && !e.retryable,
    );
    const wrong: AwsAccess = { ...access, credentials: { ...creds, secretAccessKey: 'not-the-secret' } };
    await assert.rejects(fetchApiKey({ variable: 'DD_API_KEY_SSM_ARN', value: SSM_ARN }, { access: wrong }), (e: SecretsError) => e.awsCode === 'InvalidSignatureException');
    await assert.rejects(
      fetchApiKey({ variable: 'DD_API_KEY_SSM_ARN', value: SSM_ARN }, { access: { ...access, credentials: { ...creds, accessKeyId: 'AKIAOTHER' } } }),
      (e: SecretsError) => e.awsCode === 'UnrecognizedClientException',
    );
    await assert.rejects(fetchApiKey({ variable: 'DD_KMS_API_KEY', value: 'not base64 !!' }, { access }), (e: SecretsError) => e.code === 'SEC_ERR_CONFIG');
    await assert.rejects(
      fetchApiKey({ variable: 'DD_API_KEY_SSM_ARN', value: SSM_ARN }, { access: { ...access, credentials: undefined } }),
      (e: SecretsError) => e.code === 'SEC_ERR_CREDENTIALS' && /AWS_ACCESS_KEY_ID/.test(e.message),
    );
    await assert.rejects(
      fetchApiKey({ variable: 'DD_API_KEY_SSM_ARN', value: SSM_ARN }, { access: { ...access, endpoints: { all: 'http://127.0.0.1:9' } } }),
      (e: SecretsError) => e.code === 'SEC_ERR_NETWORK' && e.retryable,
    );
  } finally {
    await close();
  }
});

test('secret shapes and precedence; an empty value is an error, not a key', () => {
  assert.equal(keyFromSecretString(` ${KEY} \n`), KEY);
  assert.equal(keyFromSecretString(JSON.stringify({ apiKey: KEY })), KEY);
  assert.equal(keyFromSecretString(JSON.stringify({ dd_api_key: KEY, apiKey: 'other' })), KEY);
  assert.throws(() => keyFromSecretString(JSON.stringify({ nope: 1 })), /dd_api_key/);
  assert.throws(
    () => keyFromSecretString('  \n'),
    (e: SecretsError) => e.code === 'SEC_ERR_EMPTY',
  );
  const all = { apiKey: 'plain', kmsApiKey: 'kms', apiKeySecretArn: 'sm', apiKeySsmArn: 'ssm' };
  assert.equal(keySource(all)?.variable, 'DD_KMS_API_KEY');
  assert.equal(keySource({ ...all, kmsApiKey: undefined })?.variable, 'DD_API_KEY_SECRET_ARN');
  assert.equal(keySource({ ...all, kmsApiKey: undefined, apiKeySecretArn: undefined })?.variable, 'DD_API_KEY_SSM_ARN');
  assert.equal(keySource({ apiKey: 'plain', kmsApiKey: undefined, apiKeySecretArn: undefined, apiKeySsmArn: undefined })?.variable, 'DD_API_KEY');
  assert.equal(keySource({ apiKey: undefined, kmsApiKey: undefined, apiKeySecretArn: undefined, apiKeySsmArn: undefined }), undefined);
});

test("the resolver: a failure is one line naming the variable and AWS's error, retried with backoff; the key never reaches a log line; a rotation is picked up on 403 at most once a minute", async () => {
  const { aws, access, close } = await fake();
  const lines: string[] = [];
  const logger = createLogger({
    level: 'trace',
    write: (l) => {
      lines.push(l);
    },
  });
  const keys: string[] = [];
  let now = 0;
  const missing = new ApiKeyResolver({
    config: { apiKey: undefined, kmsApiKey: undefined, apiKeySecretArn: `${ARN}-missing`, apiKeySsmArn: undefined, apiKeySecretReloadIntervalS: undefined },
    access,
    logger,
    onKey: (k) => keys.push(k),
    now: () => now,
  });
  const good = new ApiKeyResolver({
    config: { apiKey: undefined, kmsApiKey: undefined, apiKeySecretArn: ARN, apiKeySsmArn: undefined, apiKeySecretReloadIntervalS: undefined },
    access,
    logger,
    onKey: (k) => keys.push(k),
    now: () => now,
  });
  try {
    assert.equal(missing.pending, true);
    missing.start();
    await missing.settled();
    const errors = lines.filter((l) => l.includes('ResourceNotFoundException'));
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /"msg":"DD_API_KEY_SECRET_ARN: ResourceNotFoundException: Secrets Manager can't find the specified secret."/);
    assert.equal(missing.pending, true, 'still waiting: data is held');
    good.start();
    await good.settled();
    assert.deepEqual(keys, [KEY]);
    assert.equal(good.pending, false);
    aws.setSecret(ARN, 'rotated0123456789abcdef0123456789');
    good.rejected();
    await good.settled();
    assert.deepEqual(keys, [KEY, 'rotated0123456789abcdef0123456789']);
    good.rejected(); // within the minute: not again
    await good.settled();
    assert.equal(good.attempts, 2);
    now += 60_000;
    good.rejected();
    await good.settled();
    assert.equal(good.attempts, 3);
    assert.ok(!lines.join('\n').includes(KEY) && !lines.join('\n').includes('rotated0123'), 'no key in any line');
  } finally {
    missing.stop();
    good.stop();
    await close();
  }
});

test('SnapStart: credentials come from AWS_CONTAINER_CREDENTIALS_FULL_URI with its authorization token', async () => {
  const { access, close } = await fake();
  const http = await import('node:http');
  const seen: (string | undefined)[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers['authorization']);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ AccessKeyId: creds.accessKeyId, SecretAccessKey: creds.secretAccessKey, Token: creds.sessionToken, Expiration: '2099-01-01T00:00:00Z' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const snap: AwsAccess = { ...access, credentials: undefined, containerCredentials: { uri: `http://127.0.0.1:${port}/2021-04-23/credentials`, token: 'container-token' } };
    assert.equal(await fetchApiKey({ variable: 'DD_API_KEY_SSM_ARN', value: SSM_ARN }, { access: snap }), KEY);
    assert.deepEqual(seen, ['container-token']);
  } finally {
    server.close();
    await close();
  }
});
