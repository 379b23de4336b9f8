import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSketches, decodeSeries } from '@dd-lambda/fake-intake';
import { originOf } from '../src/origin.js';
import { seriesBatches, sketchBatches } from '../src/serialize.js';
import { Aggregator } from '../src/aggregator.js';
import { parseDatagram } from '../src/parse.js';

test('origin: category from function_arn or the platform origin tag, service from the name prefix; Datadog metrics and untagged ones get none', () => {
  const lambda = ['function_arn:arn:aws:lambda:us-east-1:1:function:f'];
  assert.deepEqual(originOf('aws.lambda.enhanced.invocations', lambda), { origin_product: 1, origin_category: 38, origin_service: 473 });
  assert.deepEqual(originOf('runtime.memory.used', lambda), { origin_product: 1, origin_category: 38, origin_service: 474 });
  assert.deepEqual(originOf('jvm.heap', lambda), { origin_product: 1, origin_category: 38, origin_service: 474 });
  assert.deepEqual(originOf('my.custom.metric', lambda), { origin_product: 1, origin_category: 38, origin_service: 472 });
  assert.deepEqual(originOf('gcp.run.enhanced.cold_start', ['origin:cloudrun']), { origin_product: 1, origin_category: 36, origin_service: 473 });
  assert.deepEqual(originOf('my.metric', ['origin:appservice']), { origin_product: 1, origin_category: 35, origin_service: 472 });
  assert.deepEqual(originOf('my.metric', ['origin:containerapp']), { origin_product: 1, origin_category: 37, origin_service: 472 });
  assert.deepEqual(originOf('azure.functions.enhanced.instance', ['origin:azurefunction']), { origin_product: 1, origin_category: 71, origin_service: 473 });
  assert.equal(originOf('datadog.agent.running', lambda), undefined);
  assert.equal(originOf('unknown.metric', ['unknown:tag']), undefined);
  assert.equal(originOf('m', ['origin:lambda']), undefined);
});

test('origin metadata on the wire: series JSON and SketchPayload carry it, and the strict intake decoders read it back', () => {
  const arn = ['function_arn:arn:aws:lambda:us-east-1:1:function:f'];
  const agg = new Aggregator({ customTags: arn, extensionTags: arn, maxContexts: 100, dedupeLibraryEnhanced: false, now: () => 1_700_000_000_000 });
  parseDatagram('my.count:1|c', agg);
  parseDatagram('aws.lambda.enhanced.duration:2|d', agg);
  const { contexts } = agg.take();
  const series = decodeSeries(seriesBatches(contexts)[0]?.body ?? Buffer.alloc(0)).series;
  assert.deepEqual(series[0]?.metadata, { origin: { origin_product: 1, origin_category: 38, origin_service: 472 } });
  const sketches = decodeSketches(sketchBatches(contexts)[0]?.body ?? Buffer.alloc(0)).sketches;
  assert.deepEqual(sketches[0]?.metadata?.origin, { origin_product: 1, origin_category: 38, origin_service: 473 });
});
