// Function tags (DataDog/datadog-lambda-extension, bottlecap/src/tags/lambda/tags.rs), computed once per process once the account id is known (the
// register response carries it) and shared with every worker.
import type { Config } from './types.js';
import { EXTENSION_VERSION } from './version.js';

export { EXTENSION_VERSION };

export function partitionOf(region: string): string {
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('cn-')) return 'aws-cn';
  return 'aws';
}

export function functionArn(config: Pick<Config, 'aws'>, accountId: string | undefined): string {
  const { region, functionName } = config.aws;
  return `arn:${partitionOf(region)}:lambda:${region}:${accountId ?? 'none'}:function:${functionName}`;
}

export function functionTags(config: Readonly<Config>, accountId: string | undefined): Record<string, string> {
  const { aws } = config;
  const arn = functionArn(config, accountId);
  const qualified = aws.functionVersion !== '$LATEST';
  const tags: Record<string, string> = {
    region: aws.region,
    account_id: accountId ?? 'none',
    aws_account: accountId ?? 'none',
    functionname: aws.functionName,
    resource: qualified ? `${aws.functionName}:${aws.functionVersion}` : aws.functionName,
    function_arn: arn.toLowerCase(),
  };
  if (qualified) tags['executedversion'] = aws.functionVersion;
  if (config.env !== undefined) tags['env'] = config.env;
  if (config.version !== undefined) tags['version'] = config.version;
  if (config.service !== undefined) tags['service'] = config.service.toLowerCase();
  tags['init_type'] = aws.initializationType;
  if (aws.memorySizeMB !== undefined) tags['memorysize'] = String(aws.memorySizeMB);
  if (aws.executionEnv !== undefined) tags['runtime'] = aws.executionEnv;
  tags['architecture'] = aws.architecture;
  tags['dd_extension_version'] = EXTENSION_VERSION;
  for (const [k, v] of config.tags) tags[k] = v;
  return tags;
}
