// libddwaf through @datadog/native-appsec (its prebuilt addon ships in the full layer), built once
// per sandbox in the background: compiling the ruleset costs tens of ms of CPU, so nothing of it
// runs before the first /next, and the first request awaits the build if it comes early.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { AppSecError } from './errors.js';

export interface WafResult {
  timeout: boolean;
  /** ns */
  duration?: number;
  events?: object[];
  keep?: boolean;
  attributes?: Record<string, unknown>;
}

export interface WafContext {
  run(payload: { persistent?: object; ephemeral?: object }, timeoutUs: number): WafResult;
  dispose(): void;
}

export interface Waf {
  readonly version: string;
  readonly rulesVersion: string;
  createContext(): WafContext;
}

interface NativeModule {
  DDWAF: {
    version(): string;
    new (
      rules: object,
      path: string,
      config?: { obfuscatorKeyRegex?: string; obfuscatorValueRegex?: string },
    ): {
      diagnostics: { ruleset_version?: string };
      createContext(): WafContext;
    };
  };
}

/** The ruleset shipped next to the unit: dist/ruleset in the package, datadog-lambda/ruleset in the layer. */
export function defaultRulesPath(): string {
  return fileURLToPath(new URL('../ruleset/recommended.json', import.meta.url));
}

/** Loads the addon and compiles the ruleset (DD_APPSEC_RULES, else the shipped one). Throws AppSecError. */
export function buildWaf(rulesFile: string | undefined): Waf {
  let native: NativeModule;
  try {
    native = createRequire(import.meta.url)('@datadog/native-appsec') as NativeModule;
  } catch (err) {
    throw new AppSecError('APPSEC_ERR_LOAD', `the WAF addon (@datadog/native-appsec) could not load: ${(err as Error).message}; AppSec needs the full layer`, { cause: err });
  }
  const file = rulesFile ?? defaultRulesPath();
  let rules: object;
  try {
    rules = JSON.parse(readFileSync(file, 'utf8')) as object;
  } catch (err) {
    const code = rulesFile === undefined ? 'APPSEC_ERR_LOAD' : 'APPSEC_ERR_RULES';
    throw new AppSecError(code, `${rulesFile === undefined ? 'the shipped ruleset' : `DD_APPSEC_RULES (${file})`} is not a readable JSON ruleset: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const waf = new native.DDWAF(rules, 'datadog/00/ASM_DD/default/config', {});
  return { version: native.DDWAF.version(), rulesVersion: waf.diagnostics.ruleset_version ?? 'unknown', createContext: () => waf.createContext() };
}
