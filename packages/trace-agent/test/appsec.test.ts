import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppSecVerdicts } from '../src/appsec.js';
import type { Span, TracerPayload } from '../src/span.js';

function span(name: string, id: bigint, parent: bigint, meta: Record<string, string> = {}): Span {
  return {
    name,
    service: 's',
    resource: 'r',
    type: '',
    traceId: 1n,
    spanId: id,
    parentId: parent,
    start: 0n,
    duration: 1n,
    error: 0,
    meta: { ...meta },
    metrics: {},
    metaStruct: undefined,
    spanLinks: undefined,
  } as unknown as Span;
}

function payload(requestId: string): TracerPayload {
  const inferred = span('aws.apigateway', 1n, 0n, { '_inferred_span.tag_source': 'self' });
  const lambda = span('aws.lambda', 2n, 1n, { request_id: requestId, '_dd.origin': 'lambda' });
  return {
    info: {} as TracerPayload['info'],
    runtimeId: '',
    env: '',
    appVersion: '',
    hostname: '',
    tags: {},
    chunks: [{ priority: 1, origin: 'lambda', spans: [inferred, lambda], droppedTrace: false }],
  };
}

const verdict = { meta: { 'appsec.event': 'true', '_dd.appsec.json': '{"triggers":[]}', '_dd.origin': 'appsec' }, metrics: { '_dd.appsec.enabled': 1, _sampling_priority_v1: 2 } };

test('AppSec verdicts: a pending invocation is held until its verdict, then tagged (aws.lambda and its inferred span, USER_KEEP)', () => {
  const v = new AppSecVerdicts();
  v.onMessage({ t: 'APPSEC', requestId: 'r1', state: 'pending', meta: {}, metrics: {} });
  const p = payload('r1');
  assert.equal(v.hold(p), true);
  const released = v.onMessage({ t: 'APPSEC', requestId: 'r1', state: 'done', ...verdict });
  assert.deepEqual(released, [p]);
  const [inferred, lambda] = p.chunks[0]?.spans ?? [];
  assert.equal(lambda?.meta['appsec.event'], 'true');
  assert.equal(lambda?.meta['_dd.origin'], 'lambda', '_dd.origin is set only when absent');
  assert.equal(lambda?.metrics['_dd.appsec.enabled'], 1);
  assert.equal(p.chunks[0]?.priority, 2);
  assert.equal(inferred?.meta['_dd.appsec.json'], '{"triggers":[]}');
  assert.equal(inferred?.metrics['_dd.appsec.enabled'], 1);
});

test('AppSec verdicts: a verdict that came first is applied at once; a missing one ships untagged after the wait; unrelated payloads are never held', async () => {
  const v = new AppSecVerdicts();
  v.onMessage({ t: 'APPSEC', requestId: 'early', state: 'done', ...verdict });
  const early = payload('early');
  assert.equal(v.hold(early), false);
  assert.equal(early.chunks[0]?.spans[1]?.meta['appsec.event'], 'true');
  assert.equal(v.hold(payload('other')), false);
  v.onMessage({ t: 'APPSEC', requestId: 'lost', state: 'pending', meta: {}, metrics: {} });
  const lost = payload('lost');
  assert.equal(v.hold(lost), true);
  const t0 = performance.now();
  const out = await v.release(20);
  assert.deepEqual(out, [lost]);
  assert.ok(performance.now() - t0 < 200);
  assert.equal(lost.chunks[0]?.spans[1]?.meta['appsec.event'], undefined);
  assert.equal(v.untagged, 1);
  assert.deepEqual(await v.release(20), [], 'nothing held: no wait');
});
