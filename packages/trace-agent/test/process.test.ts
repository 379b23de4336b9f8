import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PLACEHOLDER_RESOURCE, TraceProcessor, isOwnTraffic, parseFilters, passesFilters } from '../src/process.js';
import type { TracerSpanMessage } from '@dd-lambda/protocol';
import type { ProcessorOptions } from '../src/process.js';
import type { TracerInfo } from '../src/span.js';
import { OBFUSCATION_DEFAULTS, span } from './helpers.js';

const INFO: TracerInfo = {
  lang: 'nodejs',
  langVersion: '',
  langInterpreter: '',
  langVendor: '',
  tracerVersion: '',
  containerId: '',
  clientComputedTopLevel: false,
  clientComputedStats: false,
  droppedP0Traces: 0,
  droppedP0Spans: 0,
};
const OPTS: ProcessorOptions = {
  tags: { functionname: 'fn', region: 'us-east-1' },
  service: 'my-svc',
  env: 'dev',
  version: undefined,
  computeStats: false,
  require: [],
  reject: [],
  ownPorts: [8124, 8125, 8126, 9001],
  obfuscation: OBFUSCATION_DEFAULTS,
};

test('every kept span gets function tags, _dd.origin and _dd.compute_stats; aws.lambda takes DD_SERVICE', () => {
  const p = new TraceProcessor(OPTS);
  const root = span({ service: 'aws.lambda', name: 'aws.lambda', meta: { 'runtime-id': 'rid' } });
  const child = span({ parentId: root.spanId, type: 'sql', resource: 'SELECT 1' });
  const out = p.process([[root, child]], INFO);
  assert.equal(out.runtimeId, 'rid');
  assert.equal(out.env, 'dev');
  assert.equal(out.tags['_dd.tags.function'], 'functionname:fn,region:us-east-1');
  const [chunk] = out.chunks;
  assert.equal(chunk?.origin, 'lambda');
  assert.equal(root.service, 'my-svc');
  for (const s of [root, child]) {
    assert.deepEqual([s.meta['functionname'], s.meta['region'], s.meta['_dd.origin'], s.meta['origin'], s.meta['_dd.compute_stats']], ['fn', 'us-east-1', 'lambda', 'lambda', '1']);
  }
  assert.equal(child.resource, 'SELECT ?');
  // The tracer computes stats: the backend must not.
  const tracer = new TraceProcessor(OPTS).process([[span()]], { ...INFO, clientComputedStats: true });
  assert.equal(tracer.chunks[0]?.spans[0]?.meta['_dd.compute_stats'], undefined);
  const ext = new TraceProcessor({ ...OPTS, computeStats: true }).process([[span()]], INFO);
  assert.equal(ext.chunks[0]?.spans[0]?.meta['_dd.compute_stats'], undefined);
});

test("the extension's own traffic, local DNS and the serverless placeholder are dropped; children move up", () => {
  const own = new Set([8124, 8125, 8126, 9001]);
  assert.equal(isOwnTraffic(span({ meta: { 'http.url': 'http://127.0.0.1:9001/2018-06-01/runtime/invocation/next' } }), own), true);
  assert.equal(isOwnTraffic(span({ meta: { 'http.url': 'http://localhost:8124/lambda/start-invocation' } }), own), true);
  assert.equal(isOwnTraffic(span({ meta: { 'out.host': '127.0.0.1', 'network.destination.port': '8126' } }), own), true);
  assert.equal(isOwnTraffic(span({ name: 'tcp.connect', meta: { 'tcp.remote.host': '127.0.0.1' }, metrics: { 'tcp.remote.port': 9001 } }), own), true);
  assert.equal(isOwnTraffic(span({ name: 'dns.lookup', meta: { 'dns.hostname': 'localhost' } }), own), true);
  assert.equal(isOwnTraffic(span({ meta: { 'dns.address': '169.254.79.129' } }), own), true);
  assert.equal(isOwnTraffic(span({ meta: { 'http.url': 'http://127.0.0.1:3000/x' } }), own), false);
  assert.equal(isOwnTraffic(span({ meta: { 'http.url': 'https://example.com:8126/' } }), own), false);
  assert.equal(isOwnTraffic(span({ name: 'dns.lookup', meta: { 'dns.hostname': 'example.com' } }), own), false);

  const told: TracerSpanMessage[] = [];
  const p = new TraceProcessor({ ...OPTS, onTracerSpan: (m) => told.push(m) });
  const root = span({ name: 'aws.lambda' });
  const placeholder = span({ parentId: root.spanId, resource: PLACEHOLDER_RESOURCE, meta: { request_id: 'r1', language: 'java' }, metrics: { _sampling_priority_v1: 1 } });
  const grandchild = span({ parentId: placeholder.spanId });
  const call = span({ parentId: root.spanId, meta: { 'http.url': 'http://127.0.0.1:8124/lambda/end-invocation' } });
  const underCall = span({ parentId: call.spanId });
  const out = p.process([[root, placeholder, grandchild, call, underCall]], INFO);
  assert.deepEqual(
    out.chunks[0]?.spans.map((s) => s.spanId),
    [root.spanId, grandchild.spanId, underCall.spanId],
  );
  // The placeholder's children keep its id: the extension's aws.lambda span takes it over.
  assert.equal(grandchild.parentId, placeholder.spanId);
  assert.equal(underCall.parentId, root.spanId, 'own traffic is cut out and its children move up');
  assert.equal(p.counters.droppedSpans, 2);
  assert.deepEqual(
    told.map((m) => [m.kind, m.requestId, m.spanId, m.parentId, m.meta['language'], m.metrics['_sampling_priority_v1']]),
    [['placeholder', 'r1', placeholder.spanId, root.spanId, 'java', 1]],
  );
  // A chunk left with nothing is dropped and counted.
  p.process([[span({ meta: { 'http.url': 'http://127.0.0.1:8125/' } })]], INFO);
  assert.equal(p.counters.droppedTraces.empty_after_drops, 1);
});

test('the first aws.lambda.load span is parented to a fresh id, reported for the cold-start span', () => {
  const told: TracerSpanMessage[] = [];
  const p = new TraceProcessor({ ...OPTS, onTracerSpan: (m) => told.push(m), newSpanId: () => 777n });
  const root = span({ name: 'aws.lambda' });
  const load = span({ name: 'aws.lambda.load', parentId: root.spanId, meta: { request_id: 'r1' } });
  const req = span({ name: 'aws.lambda.require', parentId: load.spanId });
  p.process([[root, load, req]], INFO);
  assert.equal(load.parentId, 777n);
  assert.equal(req.parentId, load.spanId);
  assert.deepEqual(
    told.map((m) => [m.kind, m.traceId, m.spanId, m.parentId]),
    [['cold-start-parent', root.traceId, 777n, root.spanId]],
  );
  const again = span({ name: 'aws.lambda.load', parentId: 5n });
  p.process([[again]], INFO);
  assert.equal(again.parentId, 5n, "only the sandbox's first load span is linked");
  assert.equal(told.length, 1);
});

test('DD_APM_FILTER_TAGS_*: require all, reject any, exact, presence and regex, on the root', () => {
  const req = parseFilters(['env:prod', 'team'], false).filters;
  const rej = [...parseFilters(['http.url:/health'], false).filters, ...parseFilters(['user:^bot-.*$'], true).filters];
  const bad = parseFilters(['x:('], true);
  assert.deepEqual(
    bad.errors.map((e) => e.code),
    ['TA_ERR_CONFIG'],
  );
  assert.equal(passesFilters(span({ meta: { env: 'prod', team: 'a' } }), req, rej), true);
  assert.equal(passesFilters(span({ meta: { env: 'prod' } }), req, rej), false);
  assert.equal(passesFilters(span({ meta: { env: 'prod', team: 'a', 'http.url': '/health' } }), req, rej), false);
  assert.equal(passesFilters(span({ meta: { env: 'prod', team: 'a', user: 'bot-7' } }), req, rej), false);
  assert.equal(passesFilters(span({ resource: 'GET /health' }), parseFilters(['resource:GET /health'], false).filters, []), true);

  const p = new TraceProcessor({ ...OPTS, reject: parseFilters(['env:test'], false).filters });
  const root = span({ meta: { env: 'test' } });
  const out = p.process([[root, span({ parentId: root.spanId })], [span({ traceId: 9n })]], INFO);
  assert.equal(out.chunks.length, 1);
  assert.equal(p.counters.droppedTraces.filtered, 1);
});
