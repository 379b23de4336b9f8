import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractContext, lowerCarrier, parseStyles } from '../src/propagation.js';
import type { PropagationStyle } from '../src/propagation.js';

const ALL: PropagationStyle[] = ['datadog', 'tracecontext', 'b3multi', 'b3single'];

test('datadog headers: decimal ids, priority, origin, _dd.p.* tags; 128-bit via _dd.p.tid', () => {
  const c = lowerCarrier({
    'X-Datadog-Trace-Id': '18446744073709551615',
    'X-Datadog-Parent-Id': '2222',
    'X-Datadog-Sampling-Priority': '2',
    'X-Datadog-Origin': 'rum',
    'X-Datadog-Tags': '_dd.p.tid=640cfd8d00000000,_dd.p.dm=-4,other=x',
  });
  const ctx = extractContext(c, ['datadog']);
  assert.deepEqual(ctx, {
    traceId: 18446744073709551615n,
    traceIdHigh: 0x640cfd8d00000000n,
    spanId: 2222n,
    samplingPriority: 2,
    origin: 'rum',
    tags: { '_dd.p.tid': '640cfd8d00000000', '_dd.p.dm': '-4' },
    style: 'datadog',
  });
  assert.equal(extractContext({ 'x-datadog-trace-id': '0' }, ['datadog']), undefined, 'trace id 0 is no context');
  assert.equal(extractContext({ 'x-datadog-trace-id': '18446744073709551616' }, ['datadog']), undefined, 'over 64 bits');
  assert.equal(extractContext({ 'x-datadog-trace-id': 'abc' }, ['datadog']), undefined);
  const badTid = extractContext({ 'x-datadog-trace-id': '5', 'x-datadog-tags': '_dd.p.tid=xyz' }, ['datadog']);
  assert.deepEqual([badTid?.traceIdHigh, badTid?.tags], [0n, {}], 'a malformed _dd.p.tid is dropped');
});

test('tracecontext: 128-bit trace id, parent, flags and the dd tracestate member', () => {
  const ctx = extractContext(
    {
      traceparent: '00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01',
      tracestate: 'other=1,dd=s:2;o:rum~x;p:0123456789abcdef;t.dm:-4',
    },
    ['tracecontext'],
  );
  assert.deepEqual(ctx, {
    traceId: 0x64fe8b2a57d3eff7n,
    traceIdHigh: 0x80f198ee56343ba8n,
    spanId: 0xe457b5a2e4d86bd1n,
    samplingPriority: 2,
    origin: 'rum=x',
    tags: { '_dd.p.tid': '80f198ee56343ba8', '_dd.parent_id': '0123456789abcdef', '_dd.p.dm': '-4' },
    style: 'tracecontext',
  });
  // The sampled flag overrides a contradicting s.
  assert.equal(extractContext({ traceparent: '00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-00', tracestate: 'dd=s:2' }, ['tracecontext'])?.samplingPriority, 0);
  assert.equal(extractContext({ traceparent: '00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01' }, ['tracecontext'])?.samplingPriority, 1);
  for (const bad of [
    'ff-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01',
    '00-00000000000000000000000000000000-e457b5a2e4d86bd1-01',
    '00-80f198ee56343ba864fe8b2a57d3eff7-0000000000000000-01',
    '00-80f198ee-e457b5a2e4d86bd1-01',
    '00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01-extra',
  ]) {
    assert.equal(extractContext({ traceparent: bad }, ['tracecontext']), undefined, bad);
  }
});

test('b3 multi and single header, with 64- and 128-bit ids and the debug flag', () => {
  const multi = extractContext({ 'x-b3-traceid': '463ac35c9f6413ad48485a3953bb6124', 'x-b3-spanid': 'a2fb4a1d1a96d312', 'x-b3-sampled': '1' }, ['b3multi']);
  assert.deepEqual(
    [multi?.traceId, multi?.traceIdHigh, multi?.spanId, multi?.samplingPriority, multi?.tags['_dd.p.tid']],
    [0x48485a3953bb6124n, 0x463ac35c9f6413adn, 0xa2fb4a1d1a96d312n, 1, '463ac35c9f6413ad'],
  );
  assert.equal(extractContext({ 'x-b3-traceid': 'a3953bb6124aaaaa', 'x-b3-spanid': 'a2fb4a1d1a96d312', 'x-b3-flags': '1' }, ['b3multi'])?.samplingPriority, 2);
  const single = extractContext({ b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-d-05e3ac9a4f6e3b90' }, ['b3single']);
  assert.deepEqual([single?.traceId, single?.spanId, single?.samplingPriority], [0x64fe8b2a57d3eff7n, 0xe457b5a2e4d86bd1n, 2]);
  assert.equal(extractContext({ b3: '0' }, ['b3single']), undefined, 'a bare sampling decision carries no context');
});

test('styles are tried in order; a same-trace tracecontext parent wins over datadog unless extract-first', () => {
  const headers = {
    'x-datadog-trace-id': String(0x64fe8b2a57d3eff7n),
    'x-datadog-parent-id': '2222',
    traceparent: '00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01',
    'x-b3-traceid': '1111111111111111',
    'x-b3-spanid': '2222222222222222',
  };
  const merged = extractContext(headers, ['datadog', 'tracecontext']);
  assert.deepEqual([merged?.style, merged?.spanId, merged?.tags['_dd.parent_id']], ['datadog', 0xe457b5a2e4d86bd1n, 2222n.toString(16).padStart(16, '0')]);
  assert.equal(extractContext(headers, ['datadog', 'tracecontext'], true)?.spanId, 2222n);
  assert.equal(extractContext(headers, ['b3multi', 'datadog'])?.style, 'b3multi');
  assert.equal(extractContext({ 'x-b3-traceid': 'zz' }, ALL), undefined);
  assert.deepEqual(parseStyles(['Datadog', 'tracecontext', 'b3', 'b3 single header', 'none', 'jaeger', 'datadog']), ['datadog', 'tracecontext', 'b3multi', 'b3single']);
});

test('DD_TRACE_PROPAGATION_HTTP_BAGGAGE_ENABLED: ot-baggage-* headers become tags of the context; off by default', () => {
  const carrier = lowerCarrier({
    'x-datadog-trace-id': '123',
    'x-datadog-parent-id': '5678',
    'OT-Baggage-User': 'ann',
    'ot-baggage-tier': ['gold', 'x'],
    'ot-baggage-': 'empty key',
  });
  const on = extractContext(carrier, ['datadog'], false, true);
  assert.deepEqual(on?.tags, { user: 'ann', tier: 'gold' });
  assert.deepEqual(extractContext(carrier, ['datadog'])?.tags, {});
  assert.equal(extractContext(lowerCarrier({ 'ot-baggage-user': 'ann' }), ['datadog'], false, true), undefined, 'baggage alone is no context');
});
