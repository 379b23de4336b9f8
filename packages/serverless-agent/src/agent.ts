// The mini agent: no Extensions API, no Telemetry, no /next. The trace receiver (TCP, and the Unix
// socket when DD_APM_RECEIVER_SOCKET is set, both at once) and DogStatsD feed the trace-agent and
// dogstatsd units on their worker threads; a timer flushes; SIGTERM/SIGINT stop the listeners, let
// requests in flight finish, then final-flush traces, stats and metrics (DataDog/serverless-components
// PR #94 lost traces queued by drained handlers by aborting the flusher; here the final flush runs
// after the drain). A listener that dies unexpectedly is fatal: tracers pick a transport at start.
import { loadMiniAgentConfig, processEnv } from '@dd-lambda/config';
import type { MiniAgentConfig } from '@dd-lambda/config';
import { createBootLogger } from '@dd-lambda/logger/boot';
import { Pipelines } from '@dd-lambda/supervisor';
import type { MiniAgentErrorCode } from './errors.js';
import { gcpMetadataTags } from './gcp-metadata.js';

/** The units the mini agent runs. */
export const MINI_AGENT_UNITS = ['trace-agent', 'dogstatsd'] as const;
/** Exit work ends this long before DD_SERVERLESS_SHUTDOWN_TIMEOUT: closing threads and exiting. */
export const EXIT_MARGIN_MS = 200;

export interface MiniAgentOptions {
  /** Where units.json, worker.cjs and the units are (the layer's datadog-lambda directory). */
  codeDir: string;
  workerEntry?: string;
  /** The environment; the process's by default. */
  env?: Readonly<Record<string, string | undefined>>;
  write?: (line: string) => void;
  /** Install SIGTERM/SIGINT handlers (off when a test drives `stop`). */
  signals?: boolean;
}

export interface MiniAgent {
  readonly settings: MiniAgentConfig;
  readonly pipelines: Pipelines;
  /** Starts the shutdown as a signal would; resolves with the exit code. */
  stop(reason?: string): Promise<number>;
  /** Resolves with the exit code once the agent has stopped (signal, stop(), or a lost listener). */
  readonly done: Promise<number>;
}

type StopCause = { signal: string } | { lost: string; err: Error };

export async function startMiniAgent(o: MiniAgentOptions): Promise<MiniAgent> {
  const settings = loadMiniAgentConfig(o.env ?? processEnv());
  const { config } = settings;
  const log = createBootLogger({ level: config.logLevel, bindings: { component: 'serverless-agent' }, ...(o.write ? { write: o.write } : {}) });
  for (const w of settings.warnings) log.warn(w);
  let cause: ((c: StopCause) => void) | undefined;
  const stopped = new Promise<StopCause>((resolve) => (cause = resolve));
  const pipelines = new Pipelines({
    config,
    logger: log,
    codeDir: o.codeDir,
    workerEntry: o.workerEntry,
    only: MINI_AGENT_UNITS,
    ingresses: settings.dogstatsd ? ['apm', 'dogstatsd'] : ['apm'],
    onListenerLost: (what, err) => cause?.({ lost: what, err }),
    onAllReady: () => log.info({ ms: Math.round(performance.now() * 100) / 100 }, 'workers ready'),
  });
  try {
    await pipelines.prepare();
  } catch (err) {
    await pipelines.teardown();
    throw err;
  }
  // Sockets are bound already: nothing is refused while the metadata server is asked (300 ms at most).
  const tags = settings.gcpMetadataHost !== undefined ? { ...(await gcpMetadataTags(settings.gcpMetadataHost)), ...settings.tags } : settings.tags;
  pipelines.workers?.identify(undefined, tags);
  pipelines.workers?.start();
  if (!config.apiKey) log.error({ code: 'SEC_ERR_CONFIG' satisfies MiniAgentErrorCode }, 'no Datadog API key: set DD_API_KEY; nothing will be sent');
  const timer = setInterval(() => pipelines.flushNonBlocking('interval'), settings.flushIntervalMs);
  timer.unref();
  log.info(
    {
      platform: settings.platform,
      apm: `127.0.0.1:${config.ports.apm}`,
      socket: config.apmReceiverSocket,
      dogstatsd: settings.dogstatsd ? `127.0.0.1:${config.ports.dogstatsd}/udp` : 'off',
      flushIntervalMs: settings.flushIntervalMs,
      units: pipelines.units.map((u) => u.name),
    },
    'serverless mini agent listening',
  );
  const onSignal = (signal: string) => (): void => cause?.({ signal });
  const handlers: [NodeJS.Signals, () => void][] = [
    ['SIGTERM', onSignal('SIGTERM')],
    ['SIGINT', onSignal('SIGINT')],
  ];
  if (o.signals !== false) for (const [s, h] of handlers) process.once(s, h);

  const done = stopped.then(async (c) => {
    clearInterval(timer);
    for (const [s, h] of handlers) process.off(s, h);
    const t0 = Date.now();
    const deadline = t0 + settings.shutdownTimeoutMs - EXIT_MARGIN_MS;
    if ('lost' in c) {
      log.fatal(
        { code: 'SV_ERR_LISTENER_LOST' satisfies MiniAgentErrorCode, transport: c.lost, err: c.err },
        `the ${c.lost} listener stopped accepting; tracers using it would be stranded: exiting`,
      );
    } else {
      log.info({ signal: c.signal, budgetMs: deadline - t0 }, 'shutting down');
    }
    // Stop accepting on every transport (the socket file goes with its listener), drain what is in
    // flight, then the final flush of everything accepted.
    await pipelines.ingress?.close();
    const reports = await pipelines.drainAndFlush(deadline);
    const sent = reports.reduce((n, r) => n + r.sent, 0);
    const pending = reports.reduce((n, r) => n + r.pending, 0);
    log.info({ ms: Date.now() - t0, sent, pending, totals: pipelines.totals, ingress: pipelines.ingress?.counters }, 'shutdown complete');
    await pipelines.teardown();
    return 'lost' in c ? 1 : 0;
  });
  return {
    settings,
    pipelines,
    stop: (reason = 'stop') => {
      cause?.({ signal: reason });
      return done;
    },
    done,
  };
}
