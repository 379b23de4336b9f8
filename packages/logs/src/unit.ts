// The logs pipeline as a worker unit: Telemetry API batches arrive unparsed from the supervisor's
// listener and are parsed here, off the critical path; logs are buffered (bounded, oldest dropped
// first) and shipped at the supervisor's FLUSH in batches of ≤ 1000 entries and ≤ 5 MB.
import type { Config } from '@dd-lambda/config';
import { DropLedger, Outbox, buildIntakeClient, cutBatches } from '@dd-lambda/intake-client';
import type { IntakeClient, Parcel } from '@dd-lambda/intake-client';
import type { Logger } from '@dd-lambda/logger';
import type { SendToUnit, UnitMessage } from '@dd-lambda/protocol';
import type { FlushResult, FlushSignal, PipelineUnit, UnitContext } from '@dd-lambda/worker-host';
import { DurableLogHold } from './durable.js';
import { LogProcessor } from './processor.js';
import type { IntakeLog } from './processor.js';
import { compileRules } from './rules.js';
import type { LogsErrorCode } from './errors.js';

export const MAX_BATCH_ENTRIES = 1000;
export const MAX_BATCH_BYTES = 5 * 1024 * 1024;
/** A single log over this is truncated (the intake refuses entries over 1 MiB). */
export const MAX_ENTRY_BYTES = 1024 * 1024 - 4096;
/** Serialized logs held between flushes (counted in UTF-16 units, which bound bytes closely enough for a cap); beyond it the oldest are dropped and counted. */
export const MAX_BUFFER_BYTES = 16 * 1024 * 1024;
/** Payloads kept for a later flush after a retryable intake failure. */
export const RETRY_BYTES = 8 * 1024 * 1024;
const TRUNCATED = '...TRUNCATED...';

export interface LogsOptions {
  config: Readonly<Config>;
  tags: Readonly<Record<string, string>>;
  logger: Logger;
  client?: IntakeClient;
  send?: SendToUnit;
  /** The intake refused the API key (403): tell the supervisor, which may resolve it again. */
  onKeyRejected?: () => void;
}

export interface LogsCounters {
  batches: number;
  /** Batches that were not a JSON array (acknowledged by the supervisor, skipped here). */
  badBatches: number;
  /** Logs dropped because the buffer was full (oldest first). */
  overflow: number;
  truncated: number;
  /** Logs not shipped because the intake refused the key (403). */
  forbidden: number;
}

export interface Logs extends PipelineUnit {
  readonly processor: LogProcessor;
  readonly counters: LogsCounters;
  /** Parse and process one Telemetry API POST body. */
  telemetry(body: Buffer): void;
}

function serialize(log: IntakeLog, counters: LogsCounters): string {
  let s = JSON.stringify(log);
  if (Buffer.byteLength(s) > MAX_ENTRY_BYTES) {
    counters.truncated++;
    const keep = Math.max(0, MAX_ENTRY_BYTES - Buffer.byteLength(s) + log.message.message.length - TRUNCATED.length - 64);
    s = JSON.stringify({ ...log, message: { ...log.message, message: log.message.message.slice(0, keep) + TRUNCATED } });
  }
  return s;
}

/**
 * DD_LOGS_CONFIG_ADDITIONAL_ENDPOINTS (dual shipping): `[{"api_key": "…", "Host": "…", "Port": 443,
 * "is_reliable": true}]`, each getting a copy of every batch at `https://Host:Port/api/v2/logs`. An entry
 * without a host or key is skipped with a warning naming the variable.
 */
export function logsMirrors(entries: readonly unknown[], logger: Logger): { url: string; apiKey: string }[] {
  const out: { url: string; apiKey: string }[] = [];
  entries.forEach((e, i) => {
    const o = (e ?? {}) as Record<string, unknown>;
    const host = o['Host'] ?? o['host'];
    const key = o['api_key'] ?? o['apiKey'];
    const port = o['Port'] ?? o['port'] ?? 443;
    if (typeof host !== 'string' || host === '' || typeof key !== 'string' || key === '' || !Number.isInteger(Number(port))) {
      logger.warn(
        { code: 'LOGS_ERR_ENDPOINT' satisfies LogsErrorCode, index: i },
        `DD_LOGS_CONFIG_ADDITIONAL_ENDPOINTS[${i}] needs "Host", "api_key" and a numeric "Port"; skipped`,
      );
      return;
    }
    const base = /^https?:\/\//.test(host) ? host.replace(/\/+$/, '') : `https://${host}:${Number(port)}`;
    out.push({ url: `${base}/api/v2/logs`, apiKey: key });
  });
  return out;
}

export function buildLogs(opts: LogsOptions): Logs {
  const { config, logger } = opts;
  const arn = opts.tags['function_arn'] ?? config.aws.functionName;
  const { rules, errors } = compileRules(config.logsProcessingRules);
  for (const message of errors) logger.warn({ code: 'LOGS_ERR_RULE' satisfies LogsErrorCode }, `${message}; rule skipped`);
  const processor = new LogProcessor({
    functionArn: arn,
    service: (config.service ?? config.aws.functionName).toLowerCase(),
    tags: Object.entries(opts.tags).map(([k, v]) => `${k}:${v}`),
    rules,
    managed: config.aws.initializationType === 'lambda-managed-instances',
  });
  const hold = new DurableLogHold(config.durableFunctionLogBufferSize, config.aws.initializationType === 'lambda-managed-instances');
  const client = opts.client ?? buildIntakeClient({ config, logger, ...(opts.onKeyRejected ? { onForbidden: opts.onKeyRejected } : {}) });
  const outbox = new Outbox({ client, logger, maxBytes: RETRY_BYTES });
  const counters: LogsCounters = { batches: 0, badBatches: 0, overflow: 0, truncated: 0, forbidden: 0 };
  const url =
    config.observabilityPipelinesWorkerLogsEnabled && config.observabilityPipelinesWorkerLogsUrl !== undefined
      ? config.observabilityPipelinesWorkerLogsUrl
      : `${config.urls.logs}/api/v2/logs`;
  const compress = config.logsUseCompression && !config.observabilityPipelinesWorkerLogsEnabled;
  let buffer: string[] = [];
  let head = 0;
  let bufferBytes = 0;
  const drops = new DropLedger();
  let oomSent = new Set<string>();
  /** The key the intake refused (403): logs stop until another key arrives (a rotated secret). */
  let refusedKey: string | undefined;
  let forbidden = false;
  const mirrors = logsMirrors(config.logsAdditionalEndpoints, logger);

  function push(logs: readonly IntakeLog[]): void {
    if (forbidden && config.apiKey !== refusedKey) {
      forbidden = false;
      logger.info('a new API key arrived; logs are sent again');
    }
    for (const log of logs) {
      if (forbidden) {
        counters.forbidden++;
        continue;
      }
      const s = serialize(log, counters);
      buffer.push(s);
      bufferBytes += s.length;
      while (bufferBytes > MAX_BUFFER_BYTES && head < buffer.length) {
        bufferBytes -= (buffer[head] as string).length;
        head++;
        counters.overflow++;
      }
    }
    if (head > 4096) {
      buffer = buffer.slice(head);
      head = 0;
    }
  }

  // The lifecycle unit owns aws.lambda.enhanced.out_of_memory: it dedupes these with the platform's
  // own signals per request. Each request id is reported from here once.
  function reportOom(): void {
    if (opts.send === undefined) return;
    for (const id of processor.oom) {
      if (oomSent.has(id)) continue;
      oomSent.add(id);
      opts.send('lifecycle', { t: 'OOM', requestId: id, timestamp: Math.floor(Date.now() / 1000) });
    }
    if (oomSent.size > 10_000) oomSent = new Set([...oomSent].slice(-1000));
  }

  function telemetry(body: Buffer): void {
    counters.batches++;
    let events: unknown;
    try {
      events = JSON.parse(body.toString('utf8'));
    } catch {
      events = undefined;
    }
    if (!Array.isArray(events)) {
      counters.badBatches++;
      if (counters.badBatches === 1 || counters.badBatches % 100 === 0)
        logger.warn({ code: 'LOGS_ERR_BATCH' satisfies LogsErrorCode, bytes: body.length, bad: counters.badBatches }, 'telemetry batch is not a JSON array; skipped');
      return;
    }
    push(hold.accept(processor.process(events), processor.durable));
    reportOom();
  }

  function batches(): Parcel[] {
    const items = buffer.slice(head);
    const cut = cutBatches(items, (s) => Buffer.byteLength(s) + 1, { maxItems: MAX_BATCH_ENTRIES, maxBytes: MAX_BATCH_BYTES, overheadBytes: 2 });
    const out: Parcel[] = cut.map((b) => ({
      what: 'logs',
      count: b.length,
      request: {
        url,
        body: Buffer.from(`[${b.join(',')}]`),
        contentType: 'application/json',
        encoding: 'zstd',
        level: compress ? config.logsCompressionLevel : 0,
        headers: { 'dd-protocol': 'agent-json' },
      },
      mirrors,
    }));
    buffer = [];
    head = 0;
    bufferBytes = 0;
    return out;
  }

  return {
    processor,
    counters,
    telemetry,
    message(_from: string, msg: UnitMessage): void {
      if (msg.t !== 'DURABLE_CONTEXT') return;
      push(hold.context(msg.requestId, msg));
    },
    async flush(signal: FlushSignal): Promise<FlushResult> {
      if (signal.reason === 'shutdown') push([...processor.takeOrphans(), ...hold.releaseAll()]);
      const overflow = drops.take({ overflow: counters.overflow })['overflow'] ?? 0;
      if (overflow > 0)
        logger.warn({ code: 'LOGS_ERR_DROPPED' satisfies LogsErrorCode, dropped: overflow }, `log buffer over ${MAX_BUFFER_BYTES} bytes; oldest logs dropped since the last flush`);
      const res = await outbox.ship(batches(), signal.deadline, signal.reason === 'shutdown');
      if (res.forbidden && !forbidden) {
        forbidden = true;
        refusedKey = config.apiKey;
        logger.error({ code: 'LOGS_ERR_FORBIDDEN' satisfies LogsErrorCode }, 'the logs intake refused the API key (403); logs are not sent until another key arrives');
      }
      return { sent: res.sent, dropped: res.dropped + overflow, pending: res.pending };
    },
  };
}

export function createUnit(ctx: UnitContext): PipelineUnit {
  return buildLogs({ config: ctx.config, tags: ctx.tags, logger: ctx.logger, send: (to, msg) => ctx.send(to, msg), onKeyRejected: () => ctx.keyRejected() });
}
