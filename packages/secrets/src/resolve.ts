// Which variable gives the API key, and how to get it from AWS: DD_KMS_API_KEY (KMS Decrypt),
// DD_API_KEY_SECRET_ARN (Secrets Manager), DD_API_KEY_SSM_ARN (SSM), then DD_API_KEY, in that order
// (DataDog/datadog-lambda-extension, bottlecap/src/secrets/decrypt.rs).
import type { AwsAccess, Config } from '@dd-lambda/config';
import { awsJsonCall, containerCredentials } from './aws.js';
import { endpointFor, regionOfArn } from './endpoints.js';
import type { AwsService } from './endpoints.js';
import { SecretsError } from './errors.js';
import type { Credentials } from './sigv4.js';

export type KeyVariable = 'DD_KMS_API_KEY' | 'DD_API_KEY_SECRET_ARN' | 'DD_API_KEY_SSM_ARN' | 'DD_API_KEY';

export interface KeySource {
  variable: KeyVariable;
  value: string;
}

type KeyConfig = Pick<Config, 'apiKey' | 'kmsApiKey' | 'apiKeySecretArn' | 'apiKeySsmArn'>;

/** The highest-precedence source that is set; undefined when none is. */
export function keySource(config: Readonly<KeyConfig>): KeySource | undefined {
  if (config.kmsApiKey) return { variable: 'DD_KMS_API_KEY', value: config.kmsApiKey };
  if (config.apiKeySecretArn) return { variable: 'DD_API_KEY_SECRET_ARN', value: config.apiKeySecretArn };
  if (config.apiKeySsmArn) return { variable: 'DD_API_KEY_SSM_ARN', value: config.apiKeySsmArn };
  if (config.apiKey) return { variable: 'DD_API_KEY', value: config.apiKey };
  return undefined;
}

/** The key as Datadog's extension cleans it: whitespace removed; nothing left is an error, not a key. */
export function cleanKey(raw: string, from: string): string {
  const key = raw.replace(/\s+/g, '');
  if (key === '') throw new SecretsError('SEC_ERR_EMPTY', `${from} holds an empty value`);
  return key;
}

/** A Secrets Manager SecretString: raw, or JSON with `dd_api_key` (or `apiKey`). */
export function keyFromSecretString(s: string): string {
  const t = s.trim();
  if (t.startsWith('{')) {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch {
      return cleanKey(s, 'the secret');
    }
    const o = (v ?? {}) as Record<string, unknown>;
    const key = o['dd_api_key'] ?? o['apiKey'];
    if (typeof key !== 'string') throw new SecretsError('SEC_ERR_EMPTY', 'the secret is JSON without a "dd_api_key" or "apiKey" string');
    return cleanKey(key, "the secret's key field");
  }
  return cleanKey(s, 'the secret');
}

export interface FetchOptions {
  access: AwsAccess;
  timeoutMs?: number;
  now?: () => Date;
}

async function credentialsOf(access: AwsAccess, timeoutMs: number): Promise<Credentials> {
  if (access.containerCredentials !== undefined && access.credentials === undefined)
    return containerCredentials(access.containerCredentials.uri, access.containerCredentials.token, timeoutMs);
  if (access.credentials !== undefined) return access.credentials;
  throw new SecretsError('SEC_ERR_CREDENTIALS', 'no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them for the execution role)');
}

/** Asks AWS for the key the source names. Errors are SecretsErrors; none of them contains the key. */
export async function fetchApiKey(source: KeySource, o: FetchOptions): Promise<string> {
  if (source.variable === 'DD_API_KEY') return cleanKey(source.value, 'DD_API_KEY');
  const timeoutMs = o.timeoutMs ?? 3000;
  const credentials = await credentialsOf(o.access, timeoutMs);
  const call = (service: AwsService, signing: string, target: string, region: string, body: Record<string, unknown>): Promise<Record<string, unknown>> =>
    awsJsonCall({
      endpoint: endpointFor(service, region, o.access.fips, o.access.endpoints),
      region,
      service: signing,
      target,
      body,
      credentials,
      timeoutMs,
      ...(o.now ? { now: o.now } : {}),
    });
  switch (source.variable) {
    case 'DD_KMS_API_KEY': {
      const blob = source.value.trim();
      if (!/^[A-Za-z0-9+/=\s]+$/.test(blob)) throw new SecretsError('SEC_ERR_CONFIG', 'the value is not base64 ciphertext');
      let out: Record<string, unknown> | undefined;
      try {
        out = await call('kms', 'kms', 'TrentService.Decrypt', o.access.region, { CiphertextBlob: blob });
      } catch (err) {
        if ((err as SecretsError).awsCode !== 'InvalidCiphertextException') throw err;
      }
      // The Lambda console's encryption helpers bind the ciphertext to the function's name.
      if (typeof out?.['Plaintext'] !== 'string')
        out = await call('kms', 'kms', 'TrentService.Decrypt', o.access.region, { CiphertextBlob: blob, EncryptionContext: { LambdaFunctionName: o.access.functionName } });
      const plain = out['Plaintext'];
      if (typeof plain !== 'string') throw new SecretsError('SEC_ERR_EMPTY', 'KMS answered without Plaintext');
      return cleanKey(Buffer.from(plain, 'base64').toString('utf8'), 'the decrypted value');
    }
    case 'DD_API_KEY_SECRET_ARN': {
      const out = await call('secretsmanager', 'secretsmanager', 'secretsmanager.GetSecretValue', regionOfArn(source.value) ?? o.access.region, { SecretId: source.value });
      const s = out['SecretString'];
      if (typeof s !== 'string') throw new SecretsError('SEC_ERR_EMPTY', 'the secret has no SecretString (binary secrets are not read)');
      return keyFromSecretString(s);
    }
    case 'DD_API_KEY_SSM_ARN': {
      const out = await call('ssm', 'ssm', 'AmazonSSM.GetParameter', regionOfArn(source.value) ?? o.access.region, { Name: source.value, WithDecryption: true });
      const value = (out['Parameter'] as { Value?: unknown } | undefined)?.Value;
      if (typeof value !== 'string') throw new SecretsError('SEC_ERR_EMPTY', 'the parameter has no Value');
      return cleanKey(value, 'the parameter');
    }
  }
}
