// What the API key resolver needs to call AWS: the region, credentials and endpoint overrides. Read here
// (the only package that reads the environment) for the supervisor alone: unlike Config, this never
// travels to worker threads.
import { parseBool } from './source.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface AwsAccess {
  region: string;
  functionName: string;
  /** AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (Lambda sets them for the execution role). */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string | undefined } | undefined;
  /** SnapStart and containers: AWS_CONTAINER_CREDENTIALS_FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN. */
  containerCredentials: { uri: string; token: string | undefined } | undefined;
  /** AWS_ENDPOINT_URL_SECRETS_MANAGER, _KMS, _SSM, and AWS_ENDPOINT_URL. */
  endpoints: { secretsmanager?: string; kms?: string; ssm?: string; all?: string };
  /** DD_LAMBDA_FIPS_MODE */
  fips: boolean;
}

export function readAwsAccess(env: Env): AwsAccess {
  const get = (k: string): string | undefined => {
    const v = env[k]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const id = get('AWS_ACCESS_KEY_ID');
  const secret = get('AWS_SECRET_ACCESS_KEY');
  const uri = get('AWS_CONTAINER_CREDENTIALS_FULL_URI');
  const endpoints: AwsAccess['endpoints'] = {};
  for (const [k, v] of [
    ['secretsmanager', 'AWS_ENDPOINT_URL_SECRETS_MANAGER'],
    ['kms', 'AWS_ENDPOINT_URL_KMS'],
    ['ssm', 'AWS_ENDPOINT_URL_SSM'],
    ['all', 'AWS_ENDPOINT_URL'],
  ] as const) {
    const value = get(v);
    if (value !== undefined) endpoints[k] = value;
  }
  return {
    region: get('AWS_REGION') ?? get('AWS_DEFAULT_REGION') ?? 'us-east-1',
    functionName: get('AWS_LAMBDA_FUNCTION_NAME') ?? '',
    credentials: id !== undefined && secret !== undefined ? { accessKeyId: id, secretAccessKey: secret, sessionToken: get('AWS_SESSION_TOKEN') } : undefined,
    containerCredentials: uri === undefined ? undefined : { uri, token: get('AWS_CONTAINER_AUTHORIZATION_TOKEN') },
    endpoints,
    fips: parseBool(get('DD_LAMBDA_FIPS_MODE') ?? '') === true,
  };
}
