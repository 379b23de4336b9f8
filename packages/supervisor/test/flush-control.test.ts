import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADAPTED_INTERVAL_MS, FlushControl, RING_SIZE } from '../src/flush-control.js';

const S = 1000;

test('default: end of every invocation until 20 are seen', () => {
  const fc = new FlushControl({ kind: 'default' }, 30 * S, 0);
  for (let i = 0; i < RING_SIZE - 1; i++) assert.equal(fc.evaluate(i * S), 'end', `invocation ${i + 1}`);
  assert.equal(fc.intervalMs, 60 * S);
});

test('default adapts: frequent invocations flush continuously (within the flush timeout) or periodically, every 20 s', () => {
  // 20 invocations 1 s apart: 19 s elapsed < 30 s flush timeout => continuous.
  const fast = new FlushControl({ kind: 'default' }, 30 * S, 0);
  let t = 100 * S;
  for (let i = 0; i < RING_SIZE - 1; i++, t += S) fast.evaluate(t);
  assert.equal(fast.evaluate(t), 'continuous');
  fast.flushed(t);
  t += S;
  assert.equal(fast.evaluate(t), 'dont', 'not again before 20 s');
  t += ADAPTED_INTERVAL_MS;
  // The 20 most recent now span 39 s, more than the flush timeout: periodic from here.
  assert.equal(fast.evaluate(t), 'periodic');

  // 20 invocations 10 s apart: average gap < 120 s but 190 s elapsed > 30 s => periodic.
  const mid = new FlushControl({ kind: 'default' }, 30 * S, 0);
  t = 1_000_000;
  for (let i = 0; i < RING_SIZE - 1; i++, t += 10 * S) mid.evaluate(t);
  assert.equal(mid.evaluate(t), 'periodic');

  // 20 invocations 200 s apart: average gap >= 120 s => stays at end.
  const slow = new FlushControl({ kind: 'default' }, 30 * S, 0);
  t = 0;
  for (let i = 0; i < RING_SIZE; i++, t += 200 * S) assert.equal(slow.evaluate(t), 'end');
  // The ring slides: a burst adapts as soon as the 20 most recent average under 120 s apart; one
  // slow entry still among them keeps the span over the flush timeout, so periodic.
  for (let i = 0; i < RING_SIZE - 2; i++, t += S) slow.evaluate(t);
  assert.equal(slow.evaluate(t), 'periodic');
});

test('explicit strategies', () => {
  const end = new FlushControl({ kind: 'end' }, 30 * S, 0);
  for (let i = 0; i < 30; i++) assert.equal(end.evaluate(i), 'end');
  assert.equal(end.intervalMs, undefined);

  // The interval counts from the extension's start: the first invocation flushes only once it has passed.
  const early = new FlushControl({ kind: 'periodically', intervalMs: 10 * S }, 30 * S, 95 * S);
  assert.equal(early.evaluate(100 * S), 'dont', 'not on the first invocation 5 s after start');
  assert.equal(early.evaluate(106 * S), 'periodic');
  const periodic = new FlushControl({ kind: 'periodically', intervalMs: 10 * S }, 30 * S, 0);
  assert.equal(periodic.evaluate(100 * S), 'periodic');
  periodic.flushed(100 * S);
  assert.equal(periodic.evaluate(105 * S), 'dont');
  assert.equal(periodic.evaluate(111 * S), 'periodic');
  assert.equal(periodic.intervalMs, 10 * S);

  const cont = new FlushControl({ kind: 'continuously', intervalMs: 5 * S }, 30 * S, 0);
  assert.equal(cont.evaluate(50 * S), 'continuous');
  cont.flushed(50 * S);
  assert.equal(cont.evaluate(52 * S), 'dont');

  const endP = new FlushControl({ kind: 'end-periodically', intervalMs: 5 * S }, 30 * S, 0);
  assert.equal(endP.evaluate(50 * S), 'end');
  endP.flushed(50 * S);
  assert.equal(endP.evaluate(51 * S), 'dont');
  assert.equal(endP.evaluate(56 * S), 'end');
});
