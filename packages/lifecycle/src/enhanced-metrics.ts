// The aws.lambda.enhanced.* metrics, from what the platform reports about an invocation
// (DataDog/datadog-lambda-extension, bottlecap/src/metrics/enhanced/lambda.rs): durations, memory,
// cost, errors, timeouts and out-of-memory kills, tagged with the invocation's cold start.
import type { MetricPoints } from '@dd-lambda/protocol';
import type { Context, RuntimeDone } from './context.js';

export const PREFIX = 'aws.lambda.enhanced.';
/** Lambda's request price and per GB-second prices (USD). */
export const PRICE_PER_REQUEST = 0.0000002;
export const PRICE_PER_GB_S = { x86_64: 0.0000166667, arm64: 0.0000133334 } as const;
export const OOM_ERROR_TYPE = 'Runtime.OutOfMemory';

type Point = MetricPoints['points'][number];

export interface EnhancedMetricsOptions {
  enabled: boolean;
  architecture: 'x86_64' | 'arm64';
  /** Lambda Managed Instances: no cold_start tag. */
  managed?: boolean;
  /** `runtime:` for metrics when the function tags have none (custom runtimes). */
  runtimeTag: string | undefined;
  emit(points: Point[]): void;
}

/** platform.report's metrics, as numbers where present. */
export interface ReportMetrics {
  durationMs: number | undefined;
  billedDurationMs: number | undefined;
  memorySizeMB: number | undefined;
  maxMemoryUsedMB: number | undefined;
  initDurationMs: number | undefined;
  restoreDurationMs: number | undefined;
}

export class EnhancedMetrics {
  readonly #o: EnhancedMetricsOptions;
  #initDurationSent = false;
  /** A durable function (platform.initStart's runtime version): every point gets `durable_function:true`. */
  durable = false;

  constructor(o: EnhancedMetricsOptions) {
    this.#o = o;
  }

  emit(name: string, value: number, ctx: Context | undefined, atMs: number, extra: string[] = []): void {
    if (!this.#o.enabled || !Number.isFinite(value)) return;
    this.#o.emit([{ name: PREFIX + name, kind: 'distribution', value, tags: [...this.#tags(ctx), ...extra], timestamp: Math.floor(atMs / 1000) }]);
  }

  #tags(ctx: Context | undefined): string[] {
    const tags: string[] = [];
    if (ctx !== undefined) {
      // Managed instances carry no cold_start tag, as bottlecap's (their sandboxes start long before use).
      if (!this.#o.managed) tags.push(`cold_start:${ctx.coldStart}`);
      if (ctx.proactive) tags.push('proactive_initialization:true');
    }
    if (this.#o.runtimeTag !== undefined) tags.push(`runtime:${this.#o.runtimeTag}`);
    if (this.durable) tags.push('durable_function:true');
    return tags;
  }

  /** One `errors` point per invocation, whoever saw the error first. */
  error(ctx: Context, atMs: number): void {
    if (ctx.errored) return;
    ctx.errored = true;
    this.emit('errors', 1, ctx, atMs);
  }

  /** One `out_of_memory` point per invocation (platform error type, REPORT at the limit, or a log line). */
  outOfMemory(ctx: Context, atMs: number): void {
    if (ctx.oom) return;
    ctx.oom = true;
    this.emit('out_of_memory', 1, ctx, atMs);
  }

  /** The sandbox's init duration, once (initReport, or the first REPORT's initDurationMs). */
  initDuration(seconds: number, ctx: Context | undefined, atMs: number, extra: string[] = []): void {
    if (this.#initDurationSent) return;
    this.#initDurationSent = true;
    this.emit('init_duration', seconds, ctx, atMs, extra);
  }

  runtimeDone(ctx: Context, rt: RuntimeDone): void {
    const atMs = rt.atMs;
    if (rt.durationMs !== undefined) this.emit('runtime_duration', rt.durationMs, ctx, atMs);
    if (rt.producedBytes !== undefined) this.emit('produced_bytes', rt.producedBytes, ctx, atMs);
    if (rt.status !== 'success') this.error(ctx, atMs);
    if (rt.status === 'timeout') this.emit('timeouts', 1, ctx, atMs);
    if (rt.errorType === OOM_ERROR_TYPE) this.outOfMemory(ctx, atMs);
  }

  report(ctx: Context, m: ReportMetrics, status: string, errorType: string | undefined, atMs: number): void {
    const { durationMs: duration, billedDurationMs: billed, memorySizeMB: size, maxMemoryUsedMB: used } = m;
    if (duration !== undefined) this.emit('duration', duration / 1000, ctx, atMs);
    if (billed !== undefined) this.emit('billed_duration', billed / 1000, ctx, atMs);
    if (used !== undefined) this.emit('max_memory_used', used, ctx, atMs);
    if (size !== undefined) this.emit('memorysize', size, ctx, atMs);
    if (billed !== undefined && size !== undefined) {
      const gbs = (billed / 1000) * (size / 1024);
      this.emit('estimated_cost', PRICE_PER_REQUEST + gbs * PRICE_PER_GB_S[this.#o.architecture], ctx, atMs);
    }
    const runtime = ctx.runtime?.durationMs;
    if (duration !== undefined && runtime !== undefined) this.emit('post_runtime_duration', Math.max(0, duration - runtime), ctx, atMs);
    if (m.initDurationMs !== undefined) this.initDuration(m.initDurationMs / 1000, ctx, atMs);
    if (m.restoreDurationMs !== undefined) this.emit('snapstart_restore_duration', m.restoreDurationMs / 1000, ctx, atMs);
    if (status !== 'success') this.error(ctx, atMs);
    if (errorType === OOM_ERROR_TYPE || (size !== undefined && used !== undefined && used >= size)) this.outOfMemory(ctx, atMs);
  }
}
