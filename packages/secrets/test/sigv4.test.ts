// The signer against AWS's published SigV4 test suite (aws-sig-v4-test-suite: AKIDEXAMPLE, us-east-1,
// "service", 2015-08-30T12:36:00Z), and endpoint selection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointFor, regionOfArn } from '../src/endpoints.js';
import { signV4 } from '../src/sigv4.js';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const date = new Date('2015-08-30T12:36:00Z');
const host = 'example.amazonaws.com';

// [name, method, path, query, extra headers, body, expected signature]
const SUITE: [string, string, string, Record<string, string>, Record<string, string>, string, string][] = [
  ['get-vanilla', 'GET', '/', {}, {}, '', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
  ['get-vanilla-empty-query-key', 'GET', '/', { Param1: 'value1' }, {}, '', 'a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb'],
  ['get-vanilla-query-order-key-case', 'GET', '/', { Param2: 'value2', Param1: 'value1' }, {}, '', 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500'],
  [
    'get-vanilla-query-unreserved',
    'GET',
    '/',
    { '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz': '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz' },
    {},
    '',
    '9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197',
  ],
  ['get-vanilla-utf8-query', 'GET', '/', { ሴ: 'bar' }, {}, '', '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04'],
  ['get-unreserved', 'GET', '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', {}, {}, '', '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f'],
  ['get-utf8', 'GET', '/ሴ', {}, {}, '', '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85'],
  ['get-header-value-trim', 'GET', '/', {}, { 'my-header1': 'value1', 'my-header2': '"a   b   c"' }, '', 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736'],
  ['get-header-key-duplicate', 'GET', '/', {}, { 'my-header1': 'value2,value2,value1' }, '', 'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea'],
  ['post-vanilla', 'POST', '/', {}, {}, '', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'],
  ['post-vanilla-query', 'POST', '/', { Param1: 'value1' }, {}, '', '28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11'],
  ['post-vanilla-query-nonunreserved', 'POST', '/', { '@#$%^': '', '+': '/,?><`";:\\|][{}' }, {}, '', '66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e'],
  ['post-header-key-sort', 'POST', '/', {}, { 'my-header1': 'value1' }, '', 'c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c'],
  ['post-header-value-case', 'POST', '/', {}, { 'my-header1': 'VALUE1' }, '', 'cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d'],
  [
    'post-x-www-form-urlencoded',
    'POST',
    '/',
    {},
    { 'content-type': 'application/x-www-form-urlencoded' },
    'Param1=value1',
    'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  ],
  [
    'post-x-www-form-urlencoded-parameters',
    'POST',
    '/',
    {},
    { 'content-type': 'application/x-www-form-urlencoded; charset=utf8' },
    'Param1=value1',
    '1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe',
  ],
];

for (const [name, method, path, query, headers, body, signature] of SUITE) {
  test(`SigV4 test suite: ${name}`, () => {
    const signed = signV4({ method, host, path, query, headers, body, region: 'us-east-1', service: 'service', credentials, date });
    const names = ['host', 'x-amz-date', ...Object.keys(headers)].sort().join(';');
    assert.equal(
      signed.headers['authorization'],
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${names}, Signature=${signature}`,
    );
    assert.equal(signed.headers['x-amz-date'], '20150830T123600Z');
  });
}

test('a session token is sent and signed', () => {
  const signed = signV4({
    method: 'POST',
    host,
    path: '/',
    headers: {},
    body: '',
    region: 'us-east-1',
    service: 'service',
    credentials: { ...credentials, sessionToken: 'tok' },
    date,
  });
  assert.equal(signed.headers['x-amz-security-token'], 'tok');
  assert.match(signed.headers['authorization'] ?? '', /SignedHeaders=host;x-amz-date;x-amz-security-token,/);
});

test("endpoints: region, China partition, FIPS by flag and in GovCloud, the SDKs' override variables", () => {
  assert.equal(endpointFor('secretsmanager', 'eu-west-1', false).href, 'https://secretsmanager.eu-west-1.amazonaws.com/');
  assert.equal(endpointFor('kms', 'cn-north-1', false).href, 'https://kms.cn-north-1.amazonaws.com.cn/');
  assert.equal(endpointFor('ssm', 'us-east-1', true).href, 'https://ssm-fips.us-east-1.amazonaws.com/');
  assert.equal(endpointFor('kms', 'us-gov-west-1', false).href, 'https://kms-fips.us-gov-west-1.amazonaws.com/');
  assert.equal(endpointFor('kms', 'us-east-1', false, { kms: 'http://127.0.0.1:4566', all: 'http://other' }).href, 'http://127.0.0.1:4566/');
  assert.equal(endpointFor('ssm', 'us-east-1', false, { kms: 'http://x', all: 'https://vpce.example' }).href, 'https://vpce.example/');
  assert.equal(regionOfArn('arn:aws:secretsmanager:ap-south-1:123456789012:secret:dd-AbCdEf'), 'ap-south-1');
  assert.equal(regionOfArn('/datadog/api-key'), undefined);
});
