import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROTOCOL } from '../src/messages.js';
import { classifyFromWorker, classifyToWorker, ownArrayBuffer, toWireError } from '../src/wire.js';

test('messages without our marker are foreign; marked ones with unknown tags are flagged', () => {
  assert.deepEqual(classifyToWorker({ t: 'FLUSH' }), { kind: 'foreign' });
  assert.deepEqual(classifyToWorker('x'), { kind: 'foreign' });
  assert.deepEqual(classifyToWorker({ p: PROTOCOL, t: 'NOPE' }), { kind: 'unknown', tag: 'NOPE' });
  assert.equal(classifyToWorker({ p: PROTOCOL, t: 'FLUSH', id: 1 }).kind, 'ok');
  // A worker-bound tag is not valid in the other direction.
  assert.equal(classifyFromWorker({ p: PROTOCOL, t: 'FLUSH', id: 1 }).kind, 'unknown');
  assert.equal(classifyFromWorker({ p: PROTOCOL, t: 'READY' }).kind, 'ok');
});

test('errors keep their code and message; non-errors get the fallback code', () => {
  const e = Object.assign(new Error('boom'), { code: 'X_ERR_BOOM' });
  const w = toWireError(e);
  assert.equal(w.code, 'X_ERR_BOOM');
  assert.equal(w.message, 'boom');
  assert.ok(w.stack?.includes('boom'));
  assert.deepEqual(toWireError('str', 'Y'), { code: 'Y', message: 'str' });
  assert.equal(toWireError(new Error('plain')).code, 'DDL_ERR_UNKNOWN');
  // The result survives structured cloning unchanged.
  assert.deepEqual(structuredClone(w), w);
});

test('ownArrayBuffer never hands out a shared pool', () => {
  const pooled = Buffer.from('hello'); // small Buffers are slices of an 8 KiB pool
  const ab = ownArrayBuffer(pooled);
  assert.equal(ab.byteLength, 5);
  assert.notEqual(ab, pooled.buffer);
  assert.equal(Buffer.from(ab).toString(), 'hello');
  const whole = new Uint8Array(16);
  assert.equal(ownArrayBuffer(whole), whole.buffer);
});
