import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Aggregator } from '../src/aggregator.js';
import { parseDatagram } from '../src/parse.js';
import type { AggregatorOptions, Context } from '../src/aggregator.js';

const NOW_S = 1_700_000_123;
function agg(over: Partial<AggregatorOptions> = {}): Aggregator {
  return new Aggregator({
    customTags: ['functionname:fn'],
    extensionTags: ['functionname:fn', 'account_id:1'],
    maxContexts: 1000,
    dedupeLibraryEnhanced: true,
    now: () => NOW_S * 1000,
    ...over,
  });
}
function feed(a: Aggregator, text: string): Context[] {
  parseDatagram(text, a);
  return a.take().contexts;
}
const byName = (cs: Context[], name: string): Context[] => cs.filter((c) => c.name === name);

test('counts sum and scale by the sample rate; gauges keep the last value; sets count members', () => {
  const cs = feed(agg(), 'c:1|c\nc:2|c\nc:1|c|@0.5\ng:1|g\ng:7|g\ns:a|s\ns:b|s\ns:a|s');
  assert.equal(byName(cs, 'c')[0]?.value, 5);
  assert.equal(byName(cs, 'g')[0]?.value, 7);
  assert.equal(byName(cs, 's')[0]?.members?.size, 2);
});

test('h, ms and d all become distributions; packed values give one sample each; sample rate weighs them', () => {
  const cs = feed(agg(), 'pk.dist:1:2:32|d\nh:5|h\nms:6|ms|@0.25');
  const pk = byName(cs, 'pk.dist')[0];
  assert.equal(pk?.kind, 'distribution');
  assert.deepEqual([pk?.sketch?.cnt, pk?.sketch?.min, pk?.sketch?.max, pk?.sketch?.sum], [3, 1, 32, 35]);
  assert.equal(byName(cs, 'h')[0]?.kind, 'distribution');
  assert.equal(byName(cs, 'ms')[0]?.sketch?.cnt, 4);
});

test('a packed line with one bad value is dropped whole', () => {
  const a = agg();
  const cs = feed(a, 'pk:1:x:3|d\nok:1|c');
  assert.deepEqual(
    cs.map((c) => c.name),
    ['ok'],
  );
  assert.equal(a.counters.malformedByReason.bad_value, 1);
});

test('contexts: tags sorted and deduplicated, function tags added, order of tags does not split a context', () => {
  const cs = feed(agg(), 'm:1|c|#b:2,a:1\nm:1|c|#a:1,b:2,a:1\nm:1|c|#functionname:fn');
  const m = byName(cs, 'm');
  assert.equal(m.length, 2);
  assert.deepEqual(m[0]?.tags, ['a:1', 'b:2', 'functionname:fn']);
  assert.equal(m[0]?.value, 2);
  assert.deepEqual(m[1]?.tags, ['functionname:fn']);
});

test('10 s buckets: timestamps bucket down, the future is now, no timestamp is now', () => {
  // NOW_S = …123 is in bucket …120; …058 and …055 are both in bucket …050.
  const cs = feed(agg(), `t:1|c|T${NOW_S - 65}\nt:1|c|T${NOW_S - 68}\nt:1|c|T${NOW_S + 3600}\nt:1|c`);
  const buckets = byName(cs, 't').map((c) => [c.bucket, c.value]);
  assert.deepEqual(buckets, [
    [1_700_000_050, 2],
    [1_700_000_120, 2],
  ]);
});

test('namespace prefixes names; dd.internal.resource becomes a resource, not a tag; other dd.internal tags vanish', () => {
  const cs = feed(agg({ namespace: 'app' }), 'req:1|c|#dd.internal.resource:database_instance:db1,dd.internal.entity_id:x,k:v');
  assert.equal(cs[0]?.name, 'app.req');
  assert.deepEqual(cs[0]?.tags, ['functionname:fn', 'k:v']);
  assert.deepEqual(cs[0]?.resources, [{ type: 'database_instance', name: 'db1' }]);
});

test("the library's aws.lambda.enhanced.invocations is dropped (counted) when the extension counts them; its .errors is kept", () => {
  const a = agg();
  const cs = feed(
    a,
    'aws.lambda.enhanced.invocations:1|d|#functionname:fn|T1700000000\naws.lambda.enhanced.errors:1|d\naws.lambda.enhanced.batch_item_failures:2|d\naws.lambda.enhanced.invocations_x:1|d',
  );
  assert.deepEqual(cs.map((c) => c.name).sort(), ['aws.lambda.enhanced.batch_item_failures', 'aws.lambda.enhanced.errors', 'aws.lambda.enhanced.invocations_x']);
  assert.equal(a.counters.deduplicated, 1);
  const kept = feed(agg({ dedupeLibraryEnhanced: false }), 'aws.lambda.enhanced.invocations:1|d');
  assert.equal(kept.length, 1);
  // The extension's own point is never deduplicated and carries all function tags.
  const own = agg();
  own.point('aws.lambda.enhanced.invocations', 'count', 1, ['cold_start:true'], NOW_S);
  const c = own.take().contexts[0];
  assert.deepEqual([c?.name, c?.value, c?.tags], ['aws.lambda.enhanced.invocations', 1, ['account_id:1', 'cold_start:true', 'functionname:fn']]);
});

test('context cap: new contexts beyond it are dropped and counted; existing ones keep aggregating', () => {
  const a = agg({ maxContexts: 2 });
  const cs = feed(a, 'a:1|c\nb:1|c\nc:1|c\na:1|c');
  assert.deepEqual(
    cs.map((c) => [c.name, c.value]),
    [
      ['a', 2],
      ['b', 1],
    ],
  );
  assert.equal(a.counters.overflow, 1);
});

test('more than 100 tags: the rest are dropped and counted, the metric is kept', () => {
  const a = agg();
  const tags = Array.from({ length: 120 }, (_, i) => `t${i}:v`).join(',');
  const cs = feed(a, `m:1|c|#${tags}`);
  assert.equal(cs[0]?.tags.length, 101);
  assert.equal(a.counters.tagsTruncated, 20);
});

test('take() starts a fresh window', () => {
  const a = agg();
  feed(a, 'x:1|c');
  assert.equal(a.take().contexts.length, 0);
});
