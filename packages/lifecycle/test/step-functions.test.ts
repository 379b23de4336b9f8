// Step Functions: the six payload shapes of bottlecap's tests/payloads/step_function_*.json (copied
// into fixtures/events) and the ids its tests expect (DataDog/datadog-lambda-extension,
// bottlecap/src/lifecycle/invocation/triggers/step_function_event.rs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { identifyTrigger } from '../src/triggers.js';
import { stepFunctionParentId, stepFunctionTraceId } from '../src/triggers/step-functions.js';
import type { TriggerOptions } from '../src/triggers.js';
import { byName, event, harness, invocationEvents, T0 } from './helpers.js';

const O: TriggerOptions = { region: 'us-east-1', partition: 'aws', serviceMapping: {}, awsServiceRepresentation: true, baseService: 'fn' };
const MACHINE = 'arn:aws:states:us-east-1:425362996713:stateMachine:agocsTestSF';

test('trace and parent ids are the SHA-256 derivations Datadog uses (top bit cleared; retry and redrive join when not 0)', () => {
  assert.deepEqual(stepFunctionTraceId('arn:aws:states:sa-east-1:425362996713:stateMachine:MyStateMachine-b276uka1j'), {
    low: 1_680_583_253_837_593_461n,
    high: 6_984_552_746_569_958_392n,
  });
  const arn = 'arn:aws:states:sa-east-1:601427271234:express:DatadogStateMachine:acaf1a67-336a-e854-1599-2a627eb2dd8a:c8baf081-31f1-464d-971f-70cb17d01111';
  assert.equal(stepFunctionParentId(arn, 'step-one', '2022-12-08T21:08:19.224Z', 0, 0), 4_340_734_536_022_949_921n);
  assert.equal(stepFunctionParentId(arn, 'step-one', '2022-12-08T21:08:19.224Y', 0, 0), 981_693_280_319_792_699n);
  assert.notEqual(stepFunctionParentId(arn, 'step-one', '2022-12-08T21:08:19.224Z', 1, 0), 4_340_734_536_022_949_921n, 'a retry is another parent');
});

test('plain, legacy (Payload), nested (_datadog, RootExecutionId) and Lambda-root shapes', () => {
  const cases: [string, bigint, bigint, Record<string, string>][] = [
    ['step_function_event', 5_744_042_798_732_701_615n, 2_902_498_116_043_018_663n, { '_dd.p.tid': '1914fe7789eb32be' }],
    ['step_function_legacy_event', 5_744_042_798_732_701_615n, 2_902_498_116_043_018_663n, { '_dd.p.tid': '1914fe7789eb32be' }],
    ['step_function_nested_event', 1_322_229_001_489_018_110n, 8_947_638_978_974_359_093n, { '_dd.p.tid': '579d19b3ee216ee9' }],
    ['step_function_nested_legacy_event', 1_322_229_001_489_018_110n, 8_947_638_978_974_359_093n, { '_dd.p.tid': '579d19b3ee216ee9' }],
    ['step_function_lambda_root_event', 5_821_803_790_426_892_636n, 8_947_638_978_974_359_093n, { '_dd.p.tid': '672a7cb100000000', '_dd.p.dm': '-0' }],
    ['step_function_lambda_root_legacy_event', 5_821_803_790_426_892_636n, 8_947_638_978_974_359_093n, { '_dd.p.tid': '672a7cb100000000', '_dd.p.dm': '-0' }],
  ];
  for (const [name, traceId, spanId, tags] of cases) {
    const t = identifyTrigger(event(name), O);
    assert.ok(t?.context, name);
    assert.deepEqual(
      [t.source, t.arn, t.inferred.length, t.context.traceId, t.context.spanId, t.context.tags, t.context.samplingPriority, t.context.origin],
      ['states', MACHINE, 0, traceId, spanId, tags, 1, 'states'],
      name,
    );
    assert.equal(t.context.traceIdHigh, BigInt(`0x${tags['_dd.p.tid']}`));
  }
  // Missing a piece of the context object: not a Step Functions event.
  assert.equal(identifyTrigger({ Execution: { Id: 'x' }, State: { Name: 'a' } }, O), undefined);
  assert.equal(identifyTrigger({ Payload: { Execution: { Id: 7 }, State: { Name: 'a', EnteredTime: 't' } } }, O), undefined);
});

test("the invocation's aws.lambda joins the state machine's trace: derived ids win, the start-invocation answer carries them", () => {
  const h = harness();
  h.p.invoke('r1', T0);
  const e = invocationEvents('r1', T0, { runtimeMs: 10, reportMs: 11 });
  h.p.platform([e.start]);
  // Headers in the call itself lose to the execution's ids.
  const answer = h.p.startInvocation({ 'lambda-runtime-aws-request-id': 'r1', 'x-datadog-trace-id': '42' }, Buffer.from(JSON.stringify(event('step_function_nested_event'))));
  assert.deepEqual(answer, { 'x-datadog-trace-id': '1322229001489018110', 'x-datadog-sampling-priority': '1', 'x-datadog-tags': '_dd.p.tid=579d19b3ee216ee9' });
  h.p.endInvocation({ 'lambda-runtime-aws-request-id': 'r1' }, Buffer.from('{}'));
  h.p.platform([e.done]);
  const s = byName(h.spans, 'aws.lambda');
  assert.deepEqual(
    [s.traceId, s.parentId, s.meta['_dd.p.tid'], s.meta['function_trigger.event_source'], s.meta['function_trigger.event_source_arn'], s.metrics['_sampling_priority_v1']],
    [1_322_229_001_489_018_110n, 8_947_638_978_974_359_093n, '579d19b3ee216ee9', 'states', MACHINE, 1],
  );
});
