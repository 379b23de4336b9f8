// DD_KMS_API_KEY, DD_API_KEY_SECRET_ARN, DD_API_KEY_SSM_ARN: the key is needed at the first flush, not
// before the first /next, so resolution starts once /next is on the wire (the secrets package loads
// then, off the cold-start path) and runs beside INIT; units hold their data until it arrives.
import type { AwsAccess, Config } from '@dd-lambda/config';
import type { Logger } from '@dd-lambda/logger';
import type { SupervisorErrorCode } from './errors.js';

export interface KeyResolution {
  /** The intake refused the key (403): resolve it again (a rotated secret). */
  rejected(): void;
  stop(): void;
}

/** Starts resolving the API key from AWS when configured; the handle arrives once the resolver loaded. */
export function resolveApiKey(config: Readonly<Config>, aws: AwsAccess, logger: Logger, onKey: (key: string) => void, onStarted: (r: KeyResolution) => void): void {
  if (!config.kmsApiKey && !config.apiKeySecretArn && !config.apiKeySsmArn) {
    if (!config.apiKey) {
      logger.error(
        { code: 'SEC_ERR_CONFIG' satisfies SupervisorErrorCode },
        'no Datadog API key: set DD_API_KEY_SECRET_ARN, DD_API_KEY_SSM_ARN, DD_KMS_API_KEY or DD_API_KEY; nothing will be sent',
      );
    }
    return;
  }
  import('@dd-lambda/secrets').then(
    ({ ApiKeyResolver }) => {
      const resolver = new ApiKeyResolver({ config, access: aws, logger: logger.child({ component: 'api-key' }), onKey });
      onStarted(resolver);
      resolver.start();
    },
    (err: unknown) => logger.error({ err }, 'the API key resolver could not load; nothing will be sent'),
  );
}
