import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isCardNumber,
  obfuscateJson,
  obfuscateMemcached,
  obfuscateRedis,
  obfuscateSpan,
  obfuscateSql,
  obfuscateUrl,
  parseReplaceRules,
  quantizeRedis,
} from '../src/obfuscate/index.js';
import type { ObfuscationOptions } from '../src/obfuscate/index.js';
import { OBFUSCATION_DEFAULTS, span } from './helpers.js';

const OFF: ObfuscationOptions = OBFUSCATION_DEFAULTS;

test('SQL: literals, comments, lists and values collapse; identifiers stay', () => {
  const cases: [string, string][] = [
    ['SELECT * FROM users WHERE id = 42', 'SELECT * FROM users WHERE id = ?'],
    ["SELECT a, b FROM t WHERE name = 'O''Brien' AND id IN (1, 2, 3)", 'SELECT a, b FROM t WHERE name = ? AND id IN ( ? )'],
    ["INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, NULL)", 'INSERT INTO t ( a, b ) VALUES ( ? )'],
    ['SELECT * FROM t -- trailing\n WHERE x > -1.5e3 /* block */ LIMIT 10', 'SELECT * FROM t WHERE x > ? LIMIT ?'],
    ['UPDATE "Users" SET flag = TRUE WHERE id = $1', 'UPDATE "Users" SET flag = ? WHERE id = ?'],
    ['SELECT t.col1, count(*) FROM s.t WHERE t.col2 = 0x1F', 'SELECT t.col1, count ( * ) FROM s.t WHERE t.col2 = ?'],
    ['SELECT $$quoted body$$, a-1 FROM t;', 'SELECT ?, a - ? FROM t'],
  ];
  for (const [q, want] of cases) assert.equal(obfuscateSql(q), want, q);
});

test('redis: resource quantized to commands, raw command values hidden when enabled', () => {
  assert.equal(quantizeRedis('SET mykey myvalue\nGET mykey'), 'SET GET');
  assert.equal(quantizeRedis('client list'), 'CLIENT LIST');
  assert.equal(quantizeRedis('GET a\nGET b\nGET c\nGET d'), 'GET GET GET ...');
  assert.equal(obfuscateRedis('GEOADD key longitude latitude member', false), 'GEOADD key longitude latitude ?');
  assert.equal(obfuscateRedis('SET k secret EX 10', false), 'SET k ? EX 10');
  assert.equal(obfuscateRedis('AUTH user pass', false), 'AUTH ?');
  assert.equal(obfuscateRedis('HSET h f1 v1 f2 v2', false), 'HSET h f1 ? f2 ?');
  assert.equal(obfuscateRedis('GEOADD key longitude latitude member', true), 'GEOADD ?');
});

test('URLs: credentials always go; query and digit segments per flag', () => {
  assert.equal(obfuscateUrl('http://foo.com/id/123/page/q?search=bar&page=2', true, true), 'http://foo.com/id/?/page/q?');
  assert.equal(obfuscateUrl('https://user:pw@host:8443/a/b?x=1', false, false), 'https://host:8443/a/b?x=1');
  assert.equal(obfuscateUrl('/users/42?token=abc', true, false), '/users/42?');
  assert.equal(obfuscateUrl('/users/42', false, true), '/users/?');
  assert.equal(obfuscateUrl('http://h/a\u0001b?q', true, false), '?');
});

test('memcached, JSON bodies and card numbers', () => {
  assert.equal(obfuscateMemcached('set key 0 0 5\r\nvalue'), 'set key 0 0 5');
  assert.equal(obfuscateJson('{"find":"users","filter":{"age":{"$gt":30},"tags":["a","b"]}}'), '{"find":"?","filter":{"age":{"$gt":"?"},"tags":["?","?"]}}');
  assert.equal(obfuscateJson('{"truncated'), '?');
  assert.equal(isCardNumber('4111 1111 1111 1111'), true);
  assert.equal(isCardNumber('4111 1111 1111 1112'), false);
  assert.equal(isCardNumber('12345'), false);
});

test('span obfuscation dispatches on type, then applies replace rules', () => {
  const sql = span({ type: 'sql', resource: "SELECT * FROM t WHERE a = 'secret'" });
  obfuscateSpan(sql, OFF);
  assert.deepEqual([sql.resource, sql.meta['sql.query']], ['SELECT * FROM t WHERE a = ?', 'SELECT * FROM t WHERE a = ?']);
  const redis = span({ type: 'redis', resource: 'SET k v', meta: { 'redis.raw_command': 'SET k v' } });
  obfuscateSpan(redis, OFF);
  assert.deepEqual([redis.resource, redis.meta['redis.raw_command']], ['SET', 'SET k v']);
  obfuscateSpan(redis, { ...OFF, redis: true });
  assert.equal(redis.meta['redis.raw_command'], 'SET k ?');
  const mongo = span({ type: 'mongodb', meta: { 'mongodb.query': '{"a":1}' } });
  obfuscateSpan(mongo, OFF);
  assert.equal(mongo.meta['mongodb.query'], '{"a":"?"}');
  const es = span({ type: 'elasticsearch', meta: { 'elasticsearch.body': '{"query":{"match":{"user":"kim"}}}' } });
  obfuscateSpan(es, { ...OFF, elasticsearch: false });
  assert.equal(es.meta['elasticsearch.body'], '{"query":{"match":{"user":"kim"}}}');
  obfuscateSpan(es, OFF);
  assert.equal(es.meta['elasticsearch.body'], '{"query":{"match":{"user":"?"}}}');
  const web = span({ type: 'web', meta: { 'http.url': 'http://h/u/12?x=1', 'card.number': '4111-1111-1111-1111' } });
  obfuscateSpan(web, { ...OFF, httpRemovePathsWithDigits: true });
  assert.deepEqual([web.meta['http.url'], web.meta['card.number']], ['http://h/u/??x=1', '?']);
  const mem = span({ type: 'memcached', meta: { 'memcached.command': 'set k 0 0 1\r\nv' } });
  obfuscateSpan(mem, OFF);
  assert.equal(mem.meta['memcached.command'], 'set k 0 0 1\r\nv');
  obfuscateSpan(mem, { ...OFF, memcached: true });
  assert.equal(mem.meta['memcached.command'], 'set k 0 0 1');

  const { rules, errors } = parseReplaceRules([
    { name: 'custom.tag', pattern: '(/foo/bar/).*', repl: '${1}extra' },
    { name: '*', pattern: 'token=\\w+', repl: 'token=?' },
    { name: 'resource.name', pattern: '\\d+', repl: 'N' },
    { name: 'bad', pattern: '(' },
    { pattern: 'x' },
  ]);
  assert.equal(rules.length, 3);
  assert.deepEqual(
    errors.map((e) => e.code),
    ['TA_ERR_CONFIG', 'TA_ERR_CONFIG'],
  );
  const tagged = span({ resource: 'GET /u/12?token=abc', meta: { 'custom.tag': '/foo/bar/foo', other: 'token=xyz' } });
  obfuscateSpan(tagged, { ...OFF, replace: rules });
  assert.deepEqual([tagged.meta['custom.tag'], tagged.meta['other'], tagged.resource], ['/foo/bar/extra', 'token=?', 'GET /u/N?token=?']);
});
