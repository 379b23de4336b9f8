import assert from 'node:assert/strict';
import { test } from 'node:test';
import { awsTraceHeader, identifyTrigger, parameterizePath } from '../src/triggers.js';
import { extractContext } from '../src/propagation.js';
import type { TriggerOptions } from '../src/triggers.js';
import { event } from './helpers.js';
const O: TriggerOptions = { region: 'us-east-1', partition: 'aws', serviceMapping: {}, awsServiceRepresentation: true, baseService: 'fn' };

function one(name: string, o: TriggerOptions = O) {
  const t = identifyTrigger(event(name), o);
  assert.ok(t, name);
  return t;
}

test('API Gateway REST: route template resource, requestTimeEpoch start, http tags, headers as carrier', () => {
  const t = one('apigw-rest');
  assert.equal(t.source, 'api-gateway');
  assert.equal(t.arn, 'arn:aws:apigateway:us-east-1::/restapis/70ixmpl4fl/stages/Prod');
  assert.deepEqual(t.tags, {
    'http.method': 'GET',
    'http.url': 'https://70ixmpl4fl.execute-api.us-east-2.amazonaws.com/users/123',
    'http.url_details.path': '/users/123',
    'http.route': '/users/{id}',
    'http.useragent': 'curl/7.64.1',
  });
  const s = t.inferred[0];
  assert.deepEqual(
    [t.inferred.length, s?.name, s?.service, s?.resource, s?.type, s?.startMs, s?.async],
    [1, 'aws.apigateway', '70ixmpl4fl.execute-api.us-east-2.amazonaws.com', 'GET /users/{id}', 'web', 1583798639428, false],
  );
  assert.deepEqual(
    [
      s?.meta['operation_name'],
      s?.meta['_inferred_span.tag_source'],
      s?.meta['_inferred_span.synchronicity'],
      s?.meta['span.kind'],
      s?.meta['peer.service'],
      s?.meta['_dd.base_service'],
      s?.meta['stage'],
    ],
    ['aws.apigateway.rest', 'self', 'sync', 'server', '70ixmpl4fl.execute-api.us-east-2.amazonaws.com', 'fn', 'Prod'],
  );
  assert.equal(extractContext(t.carrier ?? {}, ['datadog'])?.traceId, 1111n);
});

test('API Gateway HTTP (v2): routeKey, timeEpoch, tracecontext carrier; async when X-Amz-Invocation-Type is Event', () => {
  const t = one('apigw-http');
  const s = t.inferred[0];
  assert.deepEqual(
    [s?.name, s?.resource, s?.startMs, t.tags['http.url'], t.tags['http.route']],
    ['aws.httpapi', 'GET /orders/{orderId}', 1583348638390, 'https://id.execute-api.us-east-1.amazonaws.com/orders/42', '/orders/{orderId}'],
  );
  assert.equal(extractContext(t.carrier ?? {}, ['datadog', 'tracecontext'])?.samplingPriority, 2);
  const e = event('apigw-http') as { headers: Record<string, string>; routeKey: string };
  e.headers['X-Amz-Invocation-Type'] = 'Event';
  e.routeKey = '$default';
  const a = identifyTrigger(e, O);
  assert.deepEqual([a?.inferred[0]?.async, a?.inferred[0]?.resource], [true, 'GET /orders/{order_id}'], 'without a route the path is parameterized');
});

test('WebSocket, Function URL and ALB', () => {
  const ws = one('apigw-websocket');
  assert.deepEqual(
    [ws.inferred[0]?.name, ws.inferred[0]?.resource, ws.inferred[0]?.meta['connection_id'], ws.inferred[0]?.meta['message_direction'], ws.http],
    ['aws.apigateway', '$connect', 'AAAA1234=', 'IN', false],
  );
  const url = one('function-url');
  assert.deepEqual(
    [url.source, url.inferred[0]?.name, url.inferred[0]?.service, url.inferred[0]?.resource],
    ['lambda-function-url', 'aws.lambda.url', 'abcdefgh.lambda-url.us-west-2.on.aws', 'POST /my/path/{path_id}'],
  );
  assert.equal(extractContext(url.carrier ?? {}, ['b3multi'])?.traceId, 0x48485a3953bb6124n);
  const alb = one('alb');
  assert.deepEqual(
    [alb.source, alb.inferred.length, alb.arn, alb.tags['http.method'], alb.tags['http.url_details.path']],
    ['application-load-balancer', 0, 'arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/lambda-279XGJDqGZ5rsrHC2Fjr/49e9d65c45c6791a', 'GET', '/lambda'],
  );
  assert.equal(extractContext(alb.carrier ?? {}, ['datadog'])?.spanId, 6666n);
});

test('SQS: queue name service, SentTimestamp start, _datadog attribute first, AWSTraceHeader otherwise; SNS inside SQS wraps it', () => {
  const t = one('sqs');
  const s = t.inferred[0];
  assert.deepEqual(
    [t.source, t.arn, s?.name, s?.service, s?.resource, s?.startMs, s?.async, s?.meta['retry_count']],
    ['sqs', 'arn:aws:sqs:us-east-2:123456789012:my-queue', 'aws.sqs', 'my-queue', 'my-queue', 1545082649183, true, '1'],
  );
  assert.equal(extractContext(t.carrier ?? {}, ['datadog'])?.traceId, 7777n);
  const e = event('sqs') as { Records: { messageAttributes: Record<string, unknown> }[] };
  delete (e.Records[0] as { messageAttributes: Record<string, unknown> }).messageAttributes['_datadog'];
  const xray = identifyTrigger(e, O);
  assert.deepEqual(xray?.carrier, { 'x-datadog-trace-id': String(0x08addb5b3a2d5f4fn), 'x-datadog-parent-id': String(0x5cfc2b8c5f8e4b1an), 'x-datadog-sampling-priority': '1' });
  assert.equal(awsTraceHeader('Root=1-65f2f78c-123456788addb5b3a2d5f4f0;Parent=5cfc2b8c5f8e4b1a'), undefined, 'not a Datadog-written root');

  const w = one('sqs-sns');
  assert.deepEqual(
    w.inferred.map((x) => [x.name, x.service, x.startMs]),
    [
      ['aws.sns', 'my-topic', Date.parse('2019-01-02T12:45:07.000Z')],
      ['aws.sqs', 'my-queue', 1546433108000],
    ],
  );
  assert.equal(extractContext(w.carrier ?? {}, ['datadog'])?.traceId, 9999n);
});

test('SNS (binary _datadog), DynamoDB, S3, EventBridge, Kinesis, MSK', () => {
  const sns = one('sns');
  assert.deepEqual(
    [sns.source, sns.inferred[0]?.service, sns.inferred[0]?.meta['subject'], extractContext(sns.carrier ?? {}, ['datadog'])?.traceId],
    ['sns', 'sns-lambda', 'TestInvoke', 4242n],
  );
  const ddb = one('dynamodb');
  assert.deepEqual(
    [ddb.inferred[0]?.name, ddb.inferred[0]?.service, ddb.inferred[0]?.startMs, ddb.inferred[0]?.meta['event_name'], ddb.inferred[0]?.meta['size_bytes']],
    ['aws.dynamodb', 'ExampleTableWithStream', 1428537600000, 'INSERT', '26'],
  );
  const s3 = one('s3');
  assert.deepEqual(
    [s3.arn, s3.inferred[0]?.service, s3.inferred[0]?.meta['object_key'], s3.inferred[0]?.startMs],
    ['arn:aws:s3:::example-bucket', 'example-bucket', 'test/key', 0],
  );
  const eb = one('eventbridge');
  assert.deepEqual(
    [eb.source, eb.inferred[0]?.name, eb.inferred[0]?.service, eb.inferred[0]?.startMs, extractContext(eb.carrier ?? {}, ['datadog'])?.traceId],
    ['eventbridge', 'aws.eventbridge', 'orders-bus', 1709287199500, 3333n],
  );
  const k = one('kinesis');
  assert.deepEqual(
    [k.inferred[0]?.service, k.inferred[0]?.startMs, k.inferred[0]?.meta['shardid'], extractContext(k.carrier ?? {}, ['datadog'])?.traceId],
    ['lambda-stream', 1545084650987, 'shardId-000000000006', 5151n],
  );
  const m = one('msk');
  assert.deepEqual(
    [m.source, m.inferred[0]?.name, m.inferred[0]?.service, m.inferred[0]?.resource, m.inferred[0]?.meta['offset'], extractContext(m.carrier ?? {}, ['datadog'])?.spanId],
    ['msk', 'aws.msk', 'vpc-2priv-2pub', 'mytopic', '15', 456n],
  );
});

test('DD_SERVICE_MAPPING by instance or generic key; representation off uses generic names; unknown events have no trigger', () => {
  assert.equal(one('sqs', { ...O, serviceMapping: { 'my-queue': 'orders' } }).inferred[0]?.service, 'orders');
  assert.equal(one('sqs', { ...O, serviceMapping: { lambda_sqs: 'all-queues' } }).inferred[0]?.service, 'all-queues');
  assert.equal(one('apigw-rest', { ...O, serviceMapping: { lambda_api_gateway: 'gw' } }).inferred[0]?.service, 'gw');
  assert.equal(
    one('apigw-rest', { ...O, serviceMapping: { '70ixmpl4fl': 'by-api-id', lambda_api_gateway: 'gw' } }).inferred[0]?.service,
    'by-api-id',
    'API Gateway maps by API id',
  );
  assert.equal(one('sqs', { ...O, awsServiceRepresentation: false }).inferred[0]?.service, 'sqs');
  for (const e of [{}, { hello: 'world' }, null, 'text', [1, 2], { Records: [{ eventSource: 'aws:unknown' }] }, { 'detail-type': 'Scheduled Event', source: 'aws.events' }]) {
    assert.equal(identifyTrigger(e, O), undefined, JSON.stringify(e));
  }
  assert.equal(parameterizePath('/users/123/orders/9f8e7d6c-aaaa-bbbb-cccc-000000000000/items'), '/users/{user_id}/orders/{order_id}/items');
  assert.equal(parameterizePath('/42'), '/{id}');
  assert.equal(parameterizePath('/api/v2/files/01ARZ3NDEKTSV4RRFFQ69G5FAV'), '/api/v2/files/{file_id}', 'v2 is not an id; a ULID is');
  assert.equal(parameterizePath('/ids/7'), '/ids/{id}');
  assert.equal(parameterizePath('/users/{id}/x/5'), '/users/{id}/x/5', 'a template stays as it is');
});
