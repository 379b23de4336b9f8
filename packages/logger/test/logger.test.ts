import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { hostname } from 'node:os';
import pino from 'pino';
import { createBootLogger, createBootLogger as createLogger } from '../src/boot.js';
import type { Logger } from '../src/types.js';

// pino is the reference for the line shape (what Datadog's log pipeline and people read); the writer
// replaced it in the extension, and these tests hold the two together.
const REDACT = ['apiKey', 'api_key', '*.apiKey', '*.api_key', 'config.apiKey', 'headers["dd-api-key"]', '*.headers["dd-api-key"]', 'headers.authorization'];
function pinoLines(level: 'debug' | 'info'): { lines: string[]; logger: Logger } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const logger = pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { pid: process.pid, hostname: hostname(), component: 'x', thread: 'w1' } }, destination);
  return { lines, logger: logger as unknown as Logger };
}

test('createLogger is the line writer', () => {
  const out: string[] = [];
  createLogger({ level: 'info', bindings: { component: 'c' }, write: (l) => out.push(l) }).info('x');
  assert.equal(JSON.parse(out[0] ?? '').component, 'c');
});

test('the boot writer and pino emit the same shape', () => {
  const bootLines: string[] = [];
  const boot = createBootLogger({ level: 'info', bindings: { component: 'x', thread: 'w1' }, write: (l) => bootLines.push(l) });
  const { lines, logger } = pinoLines('info');
  for (const l of [boot, logger]) {
    l.info({ n: 1 }, 'hello');
    l.debug('hidden');
    l.child({ sub: 'y' }).warn('child');
  }
  assert.equal(bootLines.length, 2);
  assert.equal(lines.length, 2);
  for (const [a, b] of [
    [bootLines[0], lines[0]],
    [bootLines[1], lines[1]],
  ]) {
    const ja = JSON.parse(a ?? ''),
      jb = JSON.parse(b ?? '');
    assert.deepEqual(Object.keys(ja).sort(), Object.keys(jb).sort());
    for (const k of ['level', 'pid', 'hostname', 'component', 'thread', 'msg']) assert.equal(ja[k], jb[k], k);
  }
  assert.equal(JSON.parse(bootLines[1] ?? '').sub, 'y');
  assert.equal(boot.isLevelEnabled('debug'), false);
  assert.equal(boot.isLevelEnabled('warn'), true);
});

test('API keys are censored in both loggers', () => {
  const bootLines: string[] = [];
  const boot = createBootLogger({ level: 'trace', write: (l) => bootLines.push(l) });
  const { lines, logger } = pinoLines('debug');
  for (const l of [boot, logger]) {
    l.debug({ apiKey: 'SECRET1', config: { apiKey: 'SECRET2' }, headers: { 'dd-api-key': 'SECRET3' } }, 'config');
  }
  const all = bootLines.join('') + lines.join('');
  assert.ok(!/SECRET/.test(all), all);
  assert.equal((all.match(/\[redacted\]/g) ?? []).length, 6);
});

test('errors and bigints serialise in the boot writer', () => {
  const out: string[] = [];
  const boot = createBootLogger({ level: 'info', write: (l) => out.push(l) });
  boot.error({ err: Object.assign(new Error('bad'), { code: 'E_X' }), id: 2n ** 64n }, 'failed');
  const j = JSON.parse(out[0] ?? '');
  assert.equal(j.err.code, 'E_X');
  assert.equal(j.err.message, 'bad');
  assert.equal(j.id, '18446744073709551616');
  assert.equal(j.level, 50);
});
