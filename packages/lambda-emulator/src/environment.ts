// What the sandbox's processes are given: the extensions in /opt/extensions and the environment
// Lambda sets for extensions and for the runtime.

import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TELEMETRY_FD } from './processes.js';
import type { ResolvedOptions } from './sandbox.js';

/** The emulator's own runtime client, run when the function gives no command. */
export const BOOTSTRAP = path.join(path.dirname(fileURLToPath(import.meta.url)), 'runtime-client', 'bootstrap.js');

/** Every file (not folder) in `<optDir>/extensions`, in name order, as Lambda launches them. */
export function listExtensionFiles(optDir: string | undefined): string[] {
  if (!optDir) return [];
  const dir = path.join(optDir, 'extensions');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .sort()
    .map((n) => path.join(dir, n))
    .filter((p) => statSync(p).isFile());
}

export function extensionEnv(o: ResolvedOptions, runtimeApi: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin:/opt/bin`,
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    LD_LIBRARY_PATH: '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
    AWS_REGION: o.region,
    AWS_DEFAULT_REGION: o.region,
    AWS_LAMBDA_FUNCTION_NAME: o.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: o.functionVersion,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(o.memoryMB),
    AWS_LAMBDA_RUNTIME_API: runtimeApi,
    AWS_LAMBDA_INITIALIZATION_TYPE: o.initializationType,
    AWS_ACCESS_KEY_ID: 'AKIAEMULATOREXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'emulator-secret-access-key',
    AWS_SESSION_TOKEN: 'emulator-session-token',
    ...(o.logFormat === 'JSON' ? { AWS_LAMBDA_LOG_FORMAT: 'JSON' } : {}),
    ...o.env,
  };
  // Lambda hides variables starting with "_" from extensions.
  for (const k of Object.keys(env)) if (k.startsWith('_')) delete env[k];
  return env;
}

export function runtimeEnv(o: ResolvedOptions, runtimeApi: string): Record<string, string> {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  const managed = o.initializationType === 'lambda-managed-instances';
  return {
    ...extensionEnv(o, runtimeApi),
    ...o.env,
    _HANDLER: o.runtime?.handler ?? '',
    LAMBDA_TASK_ROOT: o.runtime?.taskRoot ?? '',
    LAMBDA_RUNTIME_DIR: path.dirname(BOOTSTRAP),
    AWS_EXECUTION_ENV: o.runtime?.executionEnv ?? `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`,
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${o.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${day}/[${o.functionVersion}]${randomBytes(16).toString('hex')}`,
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000',
    _LAMBDA_TELEMETRY_LOG_FD: String(TELEMETRY_FD),
    ...(managed ? { AWS_LAMBDA_MAX_CONCURRENCY: String(o.maxConcurrency) } : {}),
  };
}
