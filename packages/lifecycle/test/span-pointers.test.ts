// Span pointers: the hashes bottlecap's tests expect for the same inputs (DataDog/datadog-lambda-extension,
// bottlecap/src/lifecycle/invocation/triggers/{s3,dynamodb}_event.rs and traces/span_pointers.rs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dynamodbPointer, s3Pointer, withPointerLinks } from '../src/triggers/span-pointers.js';
import { event, harness, invocationEvents, T0 } from './helpers.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('S3 object and DynamoDB item hashes; key order does not matter; unusable keys give no pointer', () => {
  assert.deepEqual(s3Pointer('test-bucket', 'test/key', '0123456789abcdef0123456789abcdef'), [{ hash: '40df87dbfdf59f32253a2668c23e51b4', kind: 'aws.s3.object' }]);
  assert.deepEqual(
    s3Pointer('test-bucket', 'test/key', '"0123456789abcdef0123456789abcdef"'),
    s3Pointer('test-bucket', 'test/key', '0123456789abcdef0123456789abcdef'),
    'quoted ETag',
  );
  assert.equal(s3Pointer('test-bucket', '', 'e'), undefined);
  assert.deepEqual(dynamodbPointer('TestTable', { id: { S: 'abc123' } }), [{ hash: '69706c9e1e41a2f0cf8c0650f91cb0c2', kind: 'aws.dynamodb.item' }]);
  const two = dynamodbPointer('TestTable', { num_key: { N: '42' }, bin_key: { B: b64('Hello World') } });
  assert.deepEqual(two, [{ hash: '2031d2d69b45adc3d5c27691924ddfcc', kind: 'aws.dynamodb.item' }]);
  assert.deepEqual(dynamodbPointer('TestTable', { bin_key: { B: b64('Hello World') }, num_key: { N: '42' } }), two);
  assert.equal(dynamodbPointer('TestTable', { id: { BOOL: true } }), undefined);
  assert.equal(dynamodbPointer('TestTable', {}), undefined);
  assert.equal(dynamodbPointer('TestTable', { id: { B: Buffer.from([0xff, 0xfe]).toString('base64') } }), undefined, 'not UTF-8');
});

test('links append to existing _dd.span_links; unreadable ones are replaced', () => {
  const p = { hash: 'h', kind: 'aws.s3.object' } as const;
  const links = JSON.parse(withPointerLinks('[{"trace_id":1}]', [p])) as unknown[];
  assert.deepEqual(links, [
    { trace_id: 1 },
    {
      trace_id: 0,
      span_id: 0,
      trace_id_high: 0,
      tracestate: '',
      flags: 0,
      attributes: { 'link.kind': 'span-pointer', 'ptr.dir': 'u', 'ptr.hash': 'h', 'ptr.kind': 'aws.s3.object' },
    },
  ]);
  assert.equal((JSON.parse(withPointerLinks('{oops', [p])) as unknown[]).length, 1);
});

test('S3 and DynamoDB invocations: the pointer is on the root span we make (the inferred one)', () => {
  for (const [name, kind, root] of [
    ['s3', 'aws.s3.object', 'aws.s3'],
    ['dynamodb', 'aws.dynamodb.item', 'aws.dynamodb'],
  ] as const) {
    const h = harness();
    h.p.invoke('r1', T0);
    const e = invocationEvents('r1', T0, { runtimeMs: 10, reportMs: 11 });
    h.p.platform([e.start]);
    h.p.startInvocation({ 'lambda-runtime-aws-request-id': 'r1' }, Buffer.from(JSON.stringify(event(name))));
    h.p.endInvocation({ 'lambda-runtime-aws-request-id': 'r1' }, Buffer.from('{}'));
    h.p.platform([e.done]);
    const withLinks = h.spans.filter((s) => s.meta['_dd.span_links'] !== undefined);
    assert.deepEqual(
      withLinks.map((s) => s.name),
      [root],
      name,
    );
    const [link] = JSON.parse(withLinks[0]?.meta['_dd.span_links'] ?? '[]') as { attributes: Record<string, string> }[];
    assert.equal(link?.attributes['ptr.kind'], kind);
    assert.match(link?.attributes['ptr.hash'] ?? '', /^[0-9a-f]{32}$/);
  }
});
