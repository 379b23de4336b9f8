import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSeries, decodeSketches } from '@dd-lambda/fake-intake';
import { Aggregator } from '../src/aggregator.js';
import { parseDatagram } from '../src/parse.js';
import { seriesBatches, sketchBatches, SERIES_TYPE } from '../src/serialize.js';
import type { Context } from '../src/aggregator.js';

function contexts(lines: string[]): Context[] {
  const a = new Aggregator({ customTags: [], extensionTags: [], maxContexts: 100_000, dedupeLibraryEnhanced: true, now: () => 1_700_000_000_000 });
  parseDatagram(lines.join('\n'), a);
  return a.take().contexts;
}

test('series batches respect the item and byte limits and decode strictly', () => {
  const cs = contexts(Array.from({ length: 2500 }, (_, i) => `m${i}:1|c|#k:v`));
  const byItems = seriesBatches(cs);
  assert.deepEqual(
    byItems.map((b) => b.points),
    [1000, 1000, 500],
  );
  for (const b of byItems) assert.equal(decodeSeries(b.body).series.length, b.points);
  const byBytes = seriesBatches(cs, 1000, 20_000);
  assert.ok(byBytes.length > 3);
  assert.ok(byBytes.every((b) => b.body.length <= 20_000));
  assert.equal(
    byBytes.reduce((n, b) => n + b.points, 0),
    2500,
  );
  const s = decodeSeries(byItems[0]?.body ?? Buffer.alloc(0)).series[0];
  assert.deepEqual([s?.type, s?.interval, s?.points], [SERIES_TYPE.count, 10, [{ timestamp: 1_700_000_000, value: 1 }]]);
});

test('sketch batches respect the item limit; each is a valid SketchPayload', () => {
  const cs = contexts(Array.from({ length: 1500 }, (_, i) => `d${i}:${i}|d`));
  const batches = sketchBatches(cs);
  assert.deepEqual(
    batches.map((b) => b.points),
    [1000, 500],
  );
  const decoded = decodeSketches(batches[1]?.body ?? Buffer.alloc(0));
  assert.equal(decoded.sketches.length, 500);
  assert.equal(decoded.sketches[0]?.dogsketches[0]?.cnt, 1n);
  assert.deepEqual(
    sketchBatches(cs, 1000, 5_000).every((b) => b.body.length <= 5_000),
    true,
  );
});
