import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_SERVICE_NAME,
  DEFAULT_SPAN_NAME,
  markTopLevel,
  normalizeName,
  normalizeService,
  normalizeSpan,
  normalizeTag,
  normalizeTrace,
  rootOf,
  makeChunk,
  truncateUtf8,
} from '../src/normalize.js';
import { PRIORITY_NONE } from '../src/span.js';
import { span } from './helpers.js';

const NOW = 1_750_000_000_000_000_000n;

test('tag normalization follows the agent vectors', () => {
  const cases: [string, string][] = [
    ['#test_starting_hash', 'test_starting_hash'],
    ['TestCAPSandSuch', 'testcapsandsuch'],
    ['Test Conversion Of Weird !@#$%^&**() Characters', 'test_conversion_of_weird_characters'],
    ['$#weird_starting', 'weird_starting'],
    ['allowed:c0l0ns', 'allowed:c0l0ns'],
    ['1love', 'love'],
    ['ünicöde:metäl', 'ünicöde:metäl'],
    ['Data🐨dog🐶 繋がっ⛰てて', 'data_dog_繋がっ_てて'],
    [' spaces   ', 'spaces'],
    [' #hashtag!@#spaces #__<>#  ', 'hashtag_spaces'],
    [':testing', ':testing'],
    ['_foo', 'foo'],
    ['contiguous_____underscores', 'contiguous_underscores'],
    ['foo_', 'foo'],
    ['', ''],
    [' ', ''],
    ['™Ö™Ö™™Ö™', 'ö_ö_ö'],
    ['AlsO:ök', 'also:ök'],
    ['12.:trim@@', ':trim'],
    ['fun:ky@@@tag/3', 'fun:ky_tag/3'],
    ['---fun:k####y_ta@#g/1_@@#', 'fun:k_y_ta_g/1'],
    ['AlsO:œ#@ö))œk', 'also:œ_ö_œk'],
    ['a'.repeat(888), 'a'.repeat(200)],
    [`a${'🐶'.repeat(799)}`, 'a'],
    ['a\uFFFD\uFFFDb', 'a_b'],
  ];
  for (const [input, want] of cases) assert.equal(normalizeTag(input), want, JSON.stringify(input));
});

test('names and services: defaults, charset, length', () => {
  assert.equal(normalizeName(''), DEFAULT_SPAN_NAME);
  assert.equal(normalizeName('bad-name'), 'bad_name');
  assert.equal(normalizeName('&***'), DEFAULT_SPAN_NAME);
  assert.equal(normalizeName('&&&&&&&_test-name-'), 'test_name');
  assert.equal(normalizeName('Too-Long-.'.repeat(20)), 'Too_Long.'.repeat(10));
  assert.equal(normalizeName('trace-api.request'), 'trace_api.request');
  assert.equal(normalizeName('pylons.controller'), 'pylons.controller');
  assert.equal(normalizeService(''), DEFAULT_SERVICE_NAME);
  assert.equal(normalizeService('bad&service'), 'bad_service');
  assert.equal(normalizeService('Too$Long$.'.repeat(20)), 'too_long_.'.repeat(10));
  assert.equal(truncateUtf8('ééé', 5), 'éé');
});

test('span rules: resource, zipkin parent, durations, old starts, env, status code, type', () => {
  const s = span({ resource: '', traceId: 7n, spanId: 7n, parentId: 7n, duration: -5n, type: 't'.repeat(150), meta: { env: 'Prod Env', 'http.status_code': '999' } });
  normalizeSpan(s, NOW);
  assert.equal(s.resource, 'op.name');
  assert.equal(s.parentId, 0n);
  assert.equal(s.duration, 0n);
  assert.equal(s.type.length, 100);
  assert.equal(s.meta['env'], 'prod_env');
  assert.equal(s.meta['http.status_code'], undefined);
  const old = span({ start: 42n, duration: 10n, meta: { 'http.status_code': '404' } });
  normalizeSpan(old, NOW);
  assert.equal(old.start, NOW - 10n);
  assert.equal(old.meta['http.status_code'], '404');
  const huge = span({ start: (1n << 63n) - 2n, duration: 10n });
  normalizeSpan(huge, NOW);
  assert.equal(huge.duration, 0n);
});

test('a trace with a zero id, a zero span id or a foreign span is refused whole', () => {
  assert.equal(normalizeTrace([], NOW), 'empty_trace');
  assert.equal(normalizeTrace([span({ traceId: 0n })], NOW), 'trace_id_zero');
  assert.equal(normalizeTrace([span(), span({ spanId: 0n })], NOW), 'span_id_zero');
  assert.equal(normalizeTrace([span(), span({ traceId: 43n })], NOW), 'foreign_span');
  assert.equal(normalizeTrace([span(), span()], NOW), undefined);
});

test('top level, root, priority and origin', () => {
  const root = span({ service: 'a', metrics: { _sampling_priority_v1: 2 }, meta: { '_dd.origin': 'lambda' } });
  const sameSvc = span({ service: 'a', parentId: root.spanId });
  const otherSvc = span({ service: 'b', parentId: sameSvc.spanId });
  const orphan = span({ service: 'a', parentId: 999_999n });
  const spans = [otherSvc, sameSvc, root];
  markTopLevel([...spans, orphan], false);
  assert.equal(root.metrics['_top_level'], 1);
  assert.equal(sameSvc.metrics['_top_level'], undefined);
  assert.equal(otherSvc.metrics['_top_level'], 1);
  assert.equal(orphan.metrics['_top_level'], 1);
  assert.equal(rootOf(spans), root);
  const chunk = makeChunk(spans, root);
  assert.deepEqual([chunk.priority, chunk.origin], [2, 'lambda']);
  assert.equal(makeChunk([sameSvc], sameSvc).priority, PRIORITY_NONE);
  const tracerSaid = span({ metrics: { '_dd.top_level': 1 }, parentId: 5n });
  markTopLevel([tracerSaid], true);
  assert.equal(tracerSaid.metrics['_top_level'], 1);
});
