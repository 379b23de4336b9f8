// Step Functions invoking the function (DataDog/datadog-lambda-extension,
// bottlecap/src/lifecycle/invocation/triggers/step_function_event.rs). The state machine passes its
// context object, plain, under `_datadog` (nested executions and Lambda-rooted traces), or inside the
// legacy `Payload` wrapper. No inferred span: the trace context is derived from the execution itself,
// the same way Datadog's Step Functions integration derives the ids of its own spans, so the function's
// spans join the state machine's trace without any header.
import { createHash } from 'node:crypto';
import { hex16, parseDatadogTags, type SpanContext } from '../propagation.js';
import { obj, str, num, type Obj, type Trigger } from './common.js';

const TOP_BIT_CLEAR = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;

/** The context object, wherever this payload shape carries it. */
function contextObject(e: Obj): Obj {
  const outer = 'Payload' in e ? obj(e['Payload']) : e;
  return '_datadog' in outer ? obj(outer['_datadog']) : outer;
}

/** Bytes [from, from+8) of a SHA-256, big-endian, top bit cleared; never 0 (an id of 0 means none). */
function positiveU64(hash: Buffer, from: number): bigint {
  const v = hash.readBigUInt64BE(from) & TOP_BIT_CLEAR;
  return v === 0n ? 1n : v;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The 128-bit trace id of an execution ARN: (low, high). */
export function stepFunctionTraceId(executionArn: string): { low: bigint; high: bigint } {
  const h = sha256(executionArn);
  return { low: positiveU64(h, 8), high: positiveU64(h, 0) };
}

/** The parent span id of one state entry; retry and redrive counts join only when not both 0 (older ids stay). */
export function stepFunctionParentId(executionArn: string, state: string, enteredTime: string, retryCount: number, redriveCount: number): bigint {
  let key = `${executionArn}#${state}#${enteredTime}`;
  if (retryCount !== 0 || redriveCount !== 0) key += `#${retryCount}#${redriveCount}`;
  return positiveU64(sha256(key), 0);
}

export function isStepFunctionEvent(e: Obj): boolean {
  const c = contextObject(e);
  const state = obj(c['State']);
  return str(obj(c['Execution'])['Id']) !== undefined && str(state['Name']) !== undefined && str(state['EnteredTime']) !== undefined;
}

/** A matched event (see isStepFunctionEvent): the trigger with the derived trace context. */
export function stepFunction(e: Obj): Trigger {
  const c = contextObject(e);
  const execution = obj(c['Execution']);
  const state = obj(c['State']);
  const executionArn = str(execution['Id']) as string;
  const spanId = stepFunctionParentId(
    executionArn,
    str(state['Name']) as string,
    str(state['EnteredTime']) as string,
    num(state['RetryCount']) ?? 0,
    num(execution['RedriveCount']) ?? 0,
  );

  let traceId: bigint;
  let tags: Record<string, string>;
  const rootTrace = str(c['x-datadog-trace-id']);
  const rootTags = str(c['x-datadog-tags']);
  if (rootTrace !== undefined && rootTags !== undefined) {
    // The trace started in a Lambda function upstream: keep its id and its propagated tags.
    const parsed = /^\d{1,20}$/.test(rootTrace) ? BigInt(rootTrace) : undefined;
    traceId = parsed !== undefined && parsed <= U64_MAX ? parsed : stepFunctionTraceId(executionArn).low;
    tags = parseDatadogTags(rootTags);
  } else {
    // The root execution's ARN when nested, so every nested state machine shares the root's trace.
    const ids = stepFunctionTraceId(str(c['RootExecutionId']) ?? executionArn);
    traceId = ids.low;
    tags = { '_dd.p.tid': hex16(ids.high) };
  }
  const tid = tags['_dd.p.tid'];
  const context: SpanContext = {
    traceId,
    traceIdHigh: tid !== undefined && /^[0-9a-f]{16}$/.test(tid) ? BigInt(`0x${tid}`) : 0n,
    spanId,
    samplingPriority: 1,
    origin: 'states',
    tags,
    style: 'datadog',
  };
  return { source: 'states', arn: str(obj(c['StateMachine'])['Id']), http: false, carrier: undefined, context, tags: {}, inferred: [] };
}
