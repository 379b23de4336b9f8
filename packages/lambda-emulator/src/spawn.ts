// Starting the sandbox's processes: each extension in /opt/extensions, then the runtime (through
// AWS_LAMBDA_EXEC_WRAPPER when set); their output becomes function/extension telemetry records.

import path from 'node:path';
import { SandboxProcess, type LogRecord } from './processes.js';
import { newExtension, type Extension, type Sandbox } from './sandbox.js';
import { BOOTSTRAP, runtimeEnv } from './environment.js';
import { parseJsonObject } from './http-util.js';

export function launchExtension(sb: Sandbox, file: string, env: Record<string, string>): Extension {
  const name = path.basename(file);
  const ext = newExtension(name, false);
  ext.spawnedAt = performance.now();
  const spec = { name, command: file, args: [], env, cwd: sb.o.optDir ?? '/', ...join(sb, name, false) };
  ext.proc = new SandboxProcess(spec, (r) => onOutput(sb, 'extension', name, r));
  void ext.proc.exited.then(() => sb.kick());
  return ext;
}

export function startRuntime(sb: Sandbox, runtimeApi: string): void {
  const rt = sb.o.runtime;
  if (!rt) {
    // No function code: the platform answers invocations itself (extension-only sessions).
    // Its initRuntimeDone is emitted when init ends, after extensions had their chance to subscribe.
    sb.runtimeReadyAt = performance.now();
    return;
  }
  let command = rt.command ?? rt.nodePath ?? process.execPath;
  let args = rt.command ? (rt.args ?? []) : [BOOTSTRAP];
  // As Lambda's managed runtimes do: AWS_LAMBDA_EXEC_WRAPPER runs with the runtime's command as arguments.
  const wrapper = sb.o.env?.['AWS_LAMBDA_EXEC_WRAPPER'];
  if (wrapper !== undefined && wrapper !== '') {
    args = [command, ...args];
    command = wrapper;
  }
  const spec = { name: 'runtime', command, args, env: runtimeEnv(sb.o, runtimeApi), cwd: rt.taskRoot, telemetryFd: true, ...join(sb, 'runtime', true) };
  const proc = new SandboxProcess(spec, (r) => onOutput(sb, 'function', sb.o.functionName, r));
  sb.runtime = proc;
  void proc.exited.then(() => sb.kick());
}

function join(sb: Sandbox, name: string, runtime: boolean): { cgroupProcs?: string[] } {
  const files = sb.limits.joinFiles(name, runtime);
  return files ? { cgroupProcs: files } : {};
}

function onOutput(sb: Sandbox, source: 'function' | 'extension', name: string, r: LogRecord): void {
  sb.o.onLog?.({ source, name, stream: r.stream, text: r.text, time: r.time });
  let record: unknown = r.text;
  if (sb.o.logFormat === 'JSON') {
    record = parseJsonObject(r.text) ?? { timestamp: r.time.toISOString(), level: r.stream === 'stderr' ? 'ERROR' : 'INFO', message: r.text };
  }
  sb.telemetry.emit(source, record, r.time);
}
