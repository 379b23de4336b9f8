// Where each AWS service is called: https://<service>.<region>.amazonaws.com, `.amazonaws.com.cn` in the
// China partition, `<service>-fips.` under DD_LAMBDA_FIPS_MODE or in GovCloud; the AWS SDKs' standard
// variables override it (AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL), for VPC endpoints and tests.

export type AwsService = 'secretsmanager' | 'kms' | 'ssm';

export interface EndpointOverrides {
  /** AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL_SSM */
  secretsmanager?: string | undefined;
  kms?: string | undefined;
  ssm?: string | undefined;
  /** AWS_ENDPOINT_URL */
  all?: string | undefined;
}

/** The region of an ARN (`arn:aws:secretsmanager:eu-west-1:…`), undefined when it is not an ARN. */
export function regionOfArn(arn: string): string | undefined {
  const parts = arn.split(':');
  return parts[0] === 'arn' && parts.length >= 6 && parts[3] !== '' ? parts[3] : undefined;
}

export function endpointFor(service: AwsService, region: string, fips: boolean, overrides: EndpointOverrides = {}): URL {
  const override = overrides[service] ?? overrides.all;
  if (override !== undefined && override !== '') return new URL(override);
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  const name = fips || region.startsWith('us-gov-') ? `${service}-fips` : service;
  return new URL(`https://${name}.${region}.${suffix}/`);
}
