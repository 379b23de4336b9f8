import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDatagram } from '../src/parse.js';
import type { DsdEvent, DsdServiceCheck, DsdSink, MalformedReason, WireType } from '../src/parse.js';

interface Rec {
  metrics: { name: string; type: WireType; values: string; rate: number; tags: string; timestamp: number }[];
  events: DsdEvent[];
  checks: DsdServiceCheck[];
  bad: { reason: MalformedReason; line: string }[];
}

function parse(text: string): Rec {
  const r: Rec = { metrics: [], events: [], checks: [], bad: [] };
  const sink: DsdSink = {
    metric: (name, type, values, rate, tags, timestamp) => r.metrics.push({ name, type, values, rate, tags, timestamp }),
    event: (e) => r.events.push(e),
    serviceCheck: (c) => r.checks.push(c),
    malformed: (reason, line) => r.bad.push({ reason, line }),
  };
  parseDatagram(text, sink);
  return r;
}

test('every metric type, with rate, tags, timestamp and container in any order', () => {
  const r = parse(
    [
      'page.views:1|c',
      'temp:21.5|g|#room:a,floor:2',
      'users:alice|s',
      'lat:12|ms|@0.5|#svc:web',
      'size:512|h',
      'dist:9|d|T1700000000|#g:v,d:y', // hot-shots: T before #
      'cnt:3|c|#a:b|c:in-5546|e:ext|card:low',
      'cnt2:1|c|c:abc|@0.25|T1700000001|#x:y',
    ].join('\n'),
  );
  assert.deepEqual(r.bad, []);
  assert.deepEqual(
    r.metrics.map((m) => [m.name, m.type, m.values, m.rate, m.tags, m.timestamp]),
    [
      ['page.views', 'c', '1', 1, '', 0],
      ['temp', 'g', '21.5', 1, 'room:a,floor:2', 0],
      ['users', 's', 'alice', 1, '', 0],
      ['lat', 'ms', '12', 0.5, 'svc:web', 0],
      ['size', 'h', '512', 1, '', 0],
      ['dist', 'd', '9', 1, 'g:v,d:y', 1700000000],
      ['cnt', 'c', '3', 1, 'a:b', 0],
      ['cnt2', 'c', '1', 0.25, 'x:y', 1700000001],
    ],
  );
});

test('packed values stay joined for the aggregator; names may hold dots, dashes and unicode', () => {
  const r = parse('pk.dist:1:2:32|d\nmy-app.ünï:4|c|#t:ü');
  assert.deepEqual(
    r.metrics.map((m) => [m.name, m.values, m.tags]),
    [
      ['pk.dist', '1:2:32', ''],
      ['my-app.ünï', '4', 't:ü'],
    ],
  );
});

test('a malformed line is reported and the rest of the datagram is kept', () => {
  const r = parse(['ok.one:1|c', 'novalue', ':1|c', 'x:|c', 'x:1|q', 'x:1|c|@2', 'x:1|c|@abc', 'x:1|d|Tsoon', 'x:1|c|T-5', 'ok.two:2|g', '', 'ok.three:3|d\r'].join('\n'));
  assert.deepEqual(
    r.metrics.map((m) => m.name),
    ['ok.one', 'ok.two', 'ok.three'],
  );
  assert.deepEqual(
    r.bad.map((b) => b.reason),
    ['no_value', 'empty_name', 'bad_value', 'bad_type', 'bad_sample_rate', 'bad_sample_rate', 'bad_timestamp', 'bad_timestamp'],
  );
});

test('events: hot-shots (UTF-16 lengths) and spec clients (UTF-8 byte lengths), escaped newlines, all fields', () => {
  // Observed hot-shots 17 output: title "Title ü" has .length 7 but 8 UTF-8 bytes.
  const hs = parse('_e{7,12}:Title ü|line1\\nline2|d:1700000000|h:h1|k:k|p:low|s:src|t:error|#g:v,e:1');
  assert.deepEqual(hs.bad, []);
  assert.deepEqual(hs.events[0], {
    title: 'Title ü',
    text: 'line1\nline2',
    timestamp: 1700000000,
    host: 'h1',
    aggregationKey: 'k',
    priority: 'low',
    sourceType: 'src',
    alertType: 'error',
    tags: 'g:v,e:1',
  });
  const spec = parse('_e{8,5}:Title ü|héllo|#a:b');
  assert.equal(spec.events[0]?.title, 'Title ü');
  assert.equal(spec.events[0]?.text, 'héllo');
  assert.equal(spec.events[0]?.tags, 'a:b');
  const pipes = parse('_e{3,3}:a|b|c|d|t:success');
  assert.deepEqual([pipes.events[0]?.title, pipes.events[0]?.text, pipes.events[0]?.alertType], ['a|b', 'c|d', 'success']);
  const bad = parse('_e{9,2}:short|xx\n_e{x,1}:a|b\n_e{1,1}a|b\nok:1|c');
  assert.equal(bad.bad.length, 3);
  assert.equal(bad.metrics.length, 1);
});

test('service checks: status range, fields, message last and allowed to hold pipes', () => {
  const r = parse('_sc|svc.check|1|d:1700000000|h:h2|#g:v,sc:1|c:in-1|m:msg | here');
  assert.deepEqual(r.checks[0], { name: 'svc.check', status: 1, timestamp: 1700000000, host: 'h2', message: 'msg | here', tags: 'g:v,sc:1' });
  const bad = parse('_sc|x|7\n_sc||0\n_sc|y|0|d:zz');
  assert.deepEqual(
    bad.bad.map((b) => b.reason),
    ['bad_service_check', 'bad_service_check', 'bad_service_check'],
  );
});
