import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DropLedger, cutBatches, mirrorBases, mirrorsAt, total } from '../src/kit.js';

test('cutBatches: by count, by bytes with overhead, order kept, an oversize item alone', () => {
  const size = (s: string): number => s.length;
  assert.deepEqual(cutBatches(['a', 'b', 'c', 'd', 'e'], size, { maxItems: 2, maxBytes: 100 }), [['a', 'b'], ['c', 'd'], ['e']]);
  assert.deepEqual(cutBatches(['aaa', 'bbb', 'ccc'], size, { maxBytes: 8, overheadBytes: 2 }), [['aaa', 'bbb'], ['ccc']]);
  assert.deepEqual(cutBatches(['a', 'x'.repeat(50), 'b'], size, { maxBytes: 10 }), [['a'], ['x'.repeat(50)], ['b']]);
  assert.deepEqual(cutBatches([], size, { maxBytes: 10 }), []);
});

test('mirrors: one per key, trailing slashes removed, the payload path appended', () => {
  const bases = mirrorBases({ 'https://a.example/': ['k1', 'k2'], 'https://b.example': ['k3'] });
  assert.deepEqual(mirrorsAt(bases, '/api/v2/series'), [
    { url: 'https://a.example/api/v2/series', apiKey: 'k1' },
    { url: 'https://a.example/api/v2/series', apiKey: 'k2' },
    { url: 'https://b.example/api/v2/series', apiKey: 'k3' },
  ]);
});

test('DropLedger: each read gives the growth since the previous one, reasons that did not grow left out', () => {
  const l = new DropLedger();
  assert.deepEqual(l.take({ a: 2, b: 0 }), { a: 2 });
  assert.deepEqual(l.take({ a: 2, b: 3 }), { b: 3 });
  assert.deepEqual(l.take({ a: 5, b: 3, c: 1 }), { a: 3, c: 1 });
  assert.equal(total({ a: 3, c: 1 }), 4);
});
