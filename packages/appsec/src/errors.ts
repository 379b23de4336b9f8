// The AppSec unit's codes. Nothing it does reaches the function: failures are logged and AppSec
// stays off for the sandbox (or for the one invocation).
import { codedError } from '@dd-lambda/protocol';
export type AppSecErrorCode =
  /** The WAF could not load: the native addon is missing (the slim layer) or the ruleset is unreadable. */
  | 'APPSEC_ERR_LOAD'
  /** DD_APPSEC_RULES names a file that is not a JSON ruleset. */
  | 'APPSEC_ERR_RULES'
  /** One WAF run failed (the invocation ships untagged). */
  | 'APPSEC_ERR_RUN';

export class AppSecError extends codedError<AppSecErrorCode>('AppSecError') {}
