// Durable functions' logs (DataDog/datadog-lambda-extension, bottlecap/src/logs/lambda/processor.rs):
// each log of an invocation gets its durable execution's id and name (and, on START/END/REPORT, whether
// it was the execution's first invocation and its status). The execution is known only when the
// tracer's aws.lambda span for the request reaches the trace agent, so with
// DD_LAMBDA_DURABLE_FUNCTION_LOG_BUFFER_SIZE > 0 a durable function's logs wait for it, per request id,
// at most that many request ids (the oldest go out untagged). 0, the default, holds nothing.
import type { IntakeLog } from './processor.js';

export interface DurableContext {
  executionId: string;
  executionName: string;
  firstInvocation: boolean | undefined;
  executionStatus: string | undefined;
}

/** Contexts remembered for requests whose logs may still come. */
export const DURABLE_CONTEXTS_KEPT = 500;

/** `…:function:<name>:<version>/durable-execution/<execution name>/<execution id>`, as the durable execution SDK logs it. */
export function parseDurableExecutionArn(arn: string): { id: string; name: string } | undefined {
  const at = arn.indexOf('/durable-execution/');
  if (at < 0) return undefined;
  const rest = arn.slice(at + '/durable-execution/'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return undefined;
  return { name: rest.slice(0, slash), id: rest.slice(slash + 1) };
}

const isPlatformLine = (m: string): boolean => m.startsWith('START RequestId:') || m.startsWith('END RequestId:') || m.startsWith('REPORT RequestId:');

export class DurableLogHold {
  readonly #size: number;
  readonly #managed: boolean;
  /** Held logs by request id, in arrival order of the ids. */
  readonly #held = new Map<string, IntakeLog[]>();
  readonly #contexts = new Map<string, DurableContext>();
  #durable: boolean | undefined;

  constructor(size: number, managed: boolean) {
    this.#size = size;
    this.#managed = managed;
  }

  /** Logs held right now. */
  get heldCount(): number {
    let n = 0;
    for (const list of this.#held.values()) n += list.length;
    return n;
  }

  /** The logs that may ship now; the rest wait for their request's durable context. */
  accept(logs: IntakeLog[], durable: boolean | undefined): IntakeLog[] {
    // Without a hold buffer (the default) every batch passes as it is.
    if (this.#size === 0) return logs;
    const out: IntakeLog[] = [];
    if (durable !== undefined && this.#durable === undefined) {
      this.#durable = durable;
      // Now known: a regular function's held logs all go; a durable one's go when their context is known.
      for (const id of [...this.#held.keys()]) if (!durable || this.#contexts.has(id)) this.#release(id, out);
    }
    for (const log of logs) {
      const id = log.message.lambda.request_id;
      if (log.message.lambda['durable_function.execution_id'] !== undefined || id === null || this.#durable === false) {
        out.push(log);
        continue;
      }
      const ctx = this.#contexts.get(id);
      if (this.#durable === true && ctx !== undefined) out.push(this.#tag(log, ctx));
      else this.#hold(id, log, out);
    }
    return out;
  }

  /** The tracer's aws.lambda span named the request's execution: its held logs go, tagged. */
  context(requestId: string, ctx: DurableContext): IntakeLog[] {
    if (this.#contexts.has(requestId)) return [];
    if (this.#contexts.size >= DURABLE_CONTEXTS_KEPT) {
      const oldest = this.#contexts.keys().next().value;
      if (oldest !== undefined) this.#contexts.delete(oldest);
    }
    this.#contexts.set(requestId, ctx);
    const out: IntakeLog[] = [];
    if (this.#durable === true) this.#release(requestId, out);
    return out;
  }

  /** SHUTDOWN: everything still held goes, untagged where no context came. */
  releaseAll(): IntakeLog[] {
    const out: IntakeLog[] = [];
    for (const id of [...this.#held.keys()]) this.#release(id, out);
    return out;
  }

  #hold(id: string, log: IntakeLog, out: IntakeLog[]): void {
    let list = this.#held.get(id);
    if (list === undefined) {
      // A new request id over the limit: the oldest request's logs go now, untagged.
      while (this.#held.size >= this.#size) {
        const oldest = this.#held.keys().next().value;
        if (oldest === undefined) break;
        this.#release(oldest, out);
      }
      list = [];
      this.#held.set(id, list);
    }
    list.push(log);
  }

  #release(id: string, out: IntakeLog[]): void {
    const list = this.#held.get(id);
    if (list === undefined) return;
    this.#held.delete(id);
    const ctx = this.#durable === true ? this.#contexts.get(id) : undefined;
    for (const log of list) out.push(ctx === undefined ? log : this.#tag(log, ctx));
  }

  #tag(log: IntakeLog, ctx: DurableContext): IntakeLog {
    const l = log.message.lambda;
    l['durable_function.execution_id'] = ctx.executionId;
    l['durable_function.execution_name'] = ctx.executionName;
    const m = log.message.message;
    if (isPlatformLine(m) && ctx.firstInvocation !== undefined) l['durable_function.first_invocation'] = ctx.firstInvocation;
    // END carries the status; managed instances have no END, so their REPORT does.
    if (ctx.executionStatus !== undefined && (m.startsWith('END RequestId:') || (this.#managed && m.startsWith('REPORT RequestId:'))))
      l['durable_function.execution_status'] = ctx.executionStatus;
    return log;
  }
}
