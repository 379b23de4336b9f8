// The serverless mini agent's settings: the same config as the extension (DD_* variables, ports,
// site, tags), plus its flush period, its shutdown budget, and the platform it runs on, detected
// as serverless-components' mini agent does (DataDog/serverless-components,
// crates/datadog-trace-agent/src/env_verifier.rs and crates/datadog-trace-utils/src/config_utils.rs).
import { loadConfig } from './load.js';
import { Source } from './source.js';
import type { Env } from './source.js';
import type { Config } from './types.js';

export type MiniAgentPlatform = 'azure-functions' | 'azure-app-service' | 'gcp-functions' | 'local';

export interface MiniAgentConfig {
  config: Readonly<Config>;
  /** DD_SERVERLESS_FLUSH_INTERVAL (seconds, default 10): how often traces, stats and metrics are flushed. */
  flushIntervalMs: number;
  /** DD_SERVERLESS_SHUTDOWN_TIMEOUT (seconds, default 5): SIGTERM to exit, drain and final flush included. */
  shutdownTimeoutMs: number;
  /** DD_DOGSTATSD_PORT=0 turns DogStatsD over UDP off. */
  dogstatsd: boolean;
  platform: MiniAgentPlatform;
  /** Tags every span and metric carries (the platform's, e.g. aas.site.name). */
  tags: Record<string, string>;
  /** Google Cloud only: the metadata server (GCE_METADATA_HOST, else metadata.google.internal) for project and region. */
  gcpMetadataHost: string | undefined;
  warnings: string[];
}

export const MINI_AGENT_KEYS = ['SERVERLESS_FLUSH_INTERVAL', 'SERVERLESS_SHUTDOWN_TIMEOUT'] as const;

export function loadMiniAgentConfig(env: Env): MiniAgentConfig {
  const src = new Source(env);
  const flushIntervalMs = src.int('SERVERLESS_FLUSH_INTERVAL', 10, 1, 3600) * 1000;
  const shutdownTimeoutMs = src.int('SERVERLESS_SHUTDOWN_TIMEOUT', 5, 1, 600) * 1000;
  const dogstatsd = src.str('DOGSTATSD_PORT') !== '0';
  // Port 0 means "off" here; the shared loader would call it invalid.
  const envForLoad = dogstatsd ? env : { ...env, DD_DOGSTATSD_PORT: undefined };
  const loaded = loadConfig(envForLoad, { readYaml: false, alsoRead: MINI_AGENT_KEYS });
  const { platform, origin, tags } = detectPlatform(src);
  // The mini agent computes trace stats itself when tracers do not (as serverless-components' does);
  // DD_LAMBDA_EXTENSION_COMPUTE_STATS=false still turns that off.
  const computeStats = src.str('LAMBDA_EXTENSION_COMPUTE_STATS') === undefined ? true : loaded.config.computeStats;
  const config: Config = {
    ...loaded.config,
    origin,
    computeStats,
    ...(tags['functionname'] ? { aws: { ...loaded.config.aws, functionName: tags['functionname'] } } : {}),
  };
  const warnings = [...src.warnings, ...loaded.warnings];
  const gcpMetadataHost = platform === 'gcp-functions' ? (src.plain('GCE_METADATA_HOST') ?? 'metadata.google.internal') : undefined;
  return { config: Object.freeze(config), flushIntervalMs, shutdownTimeoutMs, dogstatsd, platform, tags, gcpMetadataHost, warnings };
}

function detectPlatform(src: Source): { platform: MiniAgentPlatform; origin: string; tags: Record<string, string> } {
  const site = src.plain('WEBSITE_SITE_NAME');
  if (site !== undefined) {
    const functions = src.plain('FUNCTIONS_EXTENSION_VERSION') !== undefined || src.plain('FUNCTIONS_WORKER_RUNTIME') !== undefined;
    // WEBSITE_OWNER_NAME is `<subscription>+<resource group>-<region>webspace[-Linux]`.
    const owner = src.plain('WEBSITE_OWNER_NAME') ?? '';
    const subscription = owner.split('+')[0] ?? '';
    const afterPlus = owner.includes('+') ? owner.slice(owner.indexOf('+') + 1) : '';
    const group = src.plain('WEBSITE_RESOURCE_GROUP') ?? (afterPlus.includes('-') ? afterPlus.slice(0, afterPlus.lastIndexOf('-')) : afterPlus);
    const tags: Record<string, string> = {
      'aas.site.name': site,
      'aas.site.kind': functions ? 'functionapp' : 'app',
      'aas.site.type': functions ? 'function' : 'app',
    };
    if (subscription !== '') tags['aas.subscription.id'] = subscription;
    if (group !== '') tags['aas.resource.group'] = group;
    if (subscription !== '' && group !== '') tags['aas.resource.id'] = `/subscriptions/${subscription}/resourcegroups/${group}/providers/microsoft.web/sites/${site}`.toLowerCase();
    const sku = src.plain('WEBSITE_SKU');
    if (sku !== undefined) tags['aas.environment.sku'] = sku;
    const instance = src.plain('WEBSITE_INSTANCE_ID');
    if (instance !== undefined) tags['aas.environment.instance_id'] = instance;
    const runtime = src.plain('FUNCTIONS_WORKER_RUNTIME');
    if (runtime !== undefined) tags['aas.environment.function_runtime'] = runtime;
    const ext = src.plain('FUNCTIONS_EXTENSION_VERSION');
    if (ext !== undefined) tags['aas.environment.extension_version'] = ext;
    return functions ? { platform: 'azure-functions', origin: 'azurefunction', tags } : { platform: 'azure-app-service', origin: 'appservice', tags };
  }
  const service = src.plain('K_SERVICE');
  const target = src.plain('FUNCTION_TARGET');
  if (service !== undefined && target !== undefined) {
    const tags: Record<string, string> = { functionname: service, 'gcrfx.function_target': target };
    const region = src.plain('FUNCTION_REGION');
    if (region !== undefined) tags['gcrfx.location'] = region;
    return { platform: 'gcp-functions', origin: 'cloudfunction', tags };
  }
  return { platform: 'local', origin: 'serverless-agent', tags: {} };
}
