// What invoked the function, read from the event (DataDog/datadog-lambda-extension, bottlecap/src/lifecycle/invocation/triggers/): the trigger tags for aws.lambda,
// the inferred span for the managed service in front of it, and where its trace context travels.
// Matching follows bottlecap's order; the event is untrusted JSON, so every field is checked.
import type { Carrier } from './propagation.js';
import { lowerCarrier } from './propagation.js';

export interface InferredDraft {
  name: string;
  service: string;
  resource: string;
  type: string;
  /** Epoch ms when the managed service saw the request. */
  startMs: number;
  /** Async: the span ends when the invocation starts; sync: when it ends. */
  async: boolean;
  meta: Record<string, string>;
}

export interface Trigger {
  /** `function_trigger.event_source` */
  source: string;
  arn: string | undefined;
  /** Tags for the aws.lambda span (http.* for HTTP triggers). */
  tags: Record<string, string>;
  /** Outermost first: e.g. SNS then SQS for an SNS-to-SQS subscription. Empty for ALB. */
  inferred: InferredDraft[];
  /** Trace context carried by the event itself, as lowercase headers. */
  carrier: Carrier | undefined;
  http: boolean;
}

export interface TriggerOptions {
  region: string;
  partition: string;
  /** DD_SERVICE_MAPPING: instance name or generic key (lambda_sqs, ...) -> service. */
  serviceMapping: Readonly<Record<string, string>>;
  /** DD_TRACE_AWS_SERVICE_REPRESENTATION_ENABLED: instance names as services (else the generic name). */
  awsServiceRepresentation: boolean;
  /** The function's own service: `_dd.base_service` on inferred spans. */
  baseService: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};
const isoMs = (v: unknown): number | undefined => {
  const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  return Number.isNaN(t) ? undefined : t;
};

const ID_SEGMENT = /^(?:\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9A-HJKMNP-TV-Z]{26})$/;

/**
 * `/users/123/orders/<uuid>` -> `/users/{user_id}/orders/{order_id}`: ids would make one resource per
 * request. Numeric, UUID and ULID segments are ids; a path that already has `{…}` is a template.
 */
export function parameterizePath(path: string): string {
  if (path.includes('{') && path.includes('}')) return path;
  const parts = path.split('/');
  const out = [''];
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i] as string;
    if (part === '') continue;
    if (!ID_SEGMENT.test(part)) {
      out.push(part);
      continue;
    }
    const prev = parts[i - 1] ?? '';
    const singular = prev.replace(/s+$/, '');
    out.push(i > 1 && prev !== '' ? (singular === 'id' ? '{id}' : `{${singular}_id}`) : '{id}');
  }
  return out.join('/');
}

function lastArnPart(arn: string | undefined, marker: string): string | undefined {
  if (arn === undefined) return undefined;
  const at = arn.indexOf(marker);
  if (at < 0) return arn.split(':').pop();
  return arn.slice(at + marker.length).split('/')[0];
}

/**
 * DD_SERVICE_MAPPING by the trigger's own id (queue name, API id, …), then its generic key
 * (`lambda_sqs`, …); else the instance name, or the generic name without service representation.
 */
function service(o: TriggerOptions, id: string | undefined, generic: string, instance: string | undefined, fallback: string): string {
  if (id !== undefined && o.serviceMapping[id] !== undefined) return o.serviceMapping[id] as string;
  if (o.serviceMapping[generic] !== undefined) return o.serviceMapping[generic] as string;
  if (!o.awsServiceRepresentation || instance === undefined || instance === '') return fallback;
  return instance;
}

function inferred(o: TriggerOptions, d: Omit<InferredDraft, 'meta'> & { meta: Record<string, string | undefined>; operation?: string }): InferredDraft {
  const { operation, ...draft } = d;
  const meta: Record<string, string> = {
    operation_name: operation ?? d.name,
    'span.kind': 'server',
    '_inferred_span.tag_source': 'self',
    '_inferred_span.synchronicity': d.async ? 'async' : 'sync',
    'peer.service': d.service,
    '_dd.base_service': o.baseService,
  };
  for (const [k, v] of Object.entries(d.meta)) if (v !== undefined && v !== '') meta[k] = v;
  return { ...draft, meta };
}

function apiArn(o: TriggerOptions, apiId: string | undefined, stage: string | undefined): string | undefined {
  return apiId === undefined ? undefined : `arn:${o.partition}:apigateway:${o.region}::/restapis/${apiId}/stages/${stage ?? ''}`;
}

function httpTags(method: string | undefined, domain: string | undefined, path: string | undefined, route: string | undefined, headers: Record<string, string>): Record<string, string> {
  const t: Record<string, string> = {};
  if (method !== undefined) t['http.method'] = method;
  if (domain !== undefined) t['http.url'] = `https://${domain}${path ?? ''}`;
  if (path !== undefined) t['http.url_details.path'] = path;
  if (route !== undefined) t['http.route'] = route;
  if (headers['user-agent'] !== undefined) t['http.useragent'] = headers['user-agent'];
  if (headers['referer'] !== undefined) t['http.referer'] = headers['referer'];
  return t;
}

function isAsyncInvoke(headers: Record<string, string>): boolean {
  return headers['x-amz-invocation-type'] === 'Event';
}

// ---- HTTP triggers ----

/** What REST (v1) and HTTP (v2) API events have in common, once each has read its own fields. */
interface ApiRequest {
  rc: Obj;
  headers: Record<string, string>;
  method: string | undefined;
  path: string | undefined;
  /** The route template, when the event names one. */
  route: string | undefined;
  name: 'aws.apigateway' | 'aws.httpapi';
  operation: string;
  startMs: number | undefined;
  meta: Record<string, string | undefined>;
}

function apiGateway(o: TriggerOptions, a: ApiRequest): Trigger {
  const domain = str(a.rc['domainName']);
  const apiId = str(a.rc['apiId']);
  const stage = str(a.rc['stage']);
  const arn = apiArn(o, apiId, stage);
  const url = domain === undefined ? undefined : `https://${domain}${a.path ?? ''}`;
  return {
    source: 'api-gateway', arn, http: true, carrier: a.headers,
    tags: httpTags(a.method, domain, a.path, a.route, a.headers),
    inferred: [inferred(o, {
      name: a.name, operation: a.operation, service: service(o, apiId, 'lambda_api_gateway', domain, domain ?? 'apigateway'),
      resource: `${a.method ?? ''} ${a.route ?? parameterizePath(a.path ?? '/')}`, type: 'web',
      startMs: a.startMs ?? Date.now(), async: isAsyncInvoke(a.headers),
      meta: {
        endpoint: a.path, 'http.url': url, 'http.method': a.method, 'http.route': a.route, request_id: str(a.rc['requestId']),
        apiid: apiId, apiname: apiId, stage, domain_name: domain, dd_resource_key: arn, ...a.meta,
      },
    })],
  };
}

function httpApi(e: Obj, o: TriggerOptions): Trigger {
  const rc = obj(e['requestContext']);
  const http = obj(rc['http']);
  const routeKey = str(e['routeKey']) ?? str(rc['routeKey']);
  return apiGateway(o, {
    rc, headers: lowerCarrier(e['headers']), method: str(http['method']), path: str(http['path']) ?? str(e['rawPath']),
    route: routeKey !== undefined && routeKey !== '$default' ? routeKey.split(' ').pop() : undefined,
    name: 'aws.httpapi', operation: 'aws.httpapi', startMs: num(rc['timeEpoch']),
    meta: { 'http.protocol': str(http['protocol']), 'http.source_ip': str(http['sourceIp']), 'http.user_agent': str(http['userAgent']) },
  });
}

function restApi(e: Obj, o: TriggerOptions): Trigger {
  const rc = obj(e['requestContext']);
  const headers = lowerCarrier(e['headers']);
  return apiGateway(o, {
    rc, headers, method: str(e['httpMethod']), path: str(e['path']), route: str(e['resource']),
    name: 'aws.apigateway', operation: 'aws.apigateway.rest', startMs: num(rc['requestTimeEpoch']),
    meta: { 'http.user_agent': headers['user-agent'], 'http.protocol': str(rc['protocol']), 'http.source_ip': str(obj(rc['identity'])['sourceIp']) },
  });
}

function webSocket(e: Obj, o: TriggerOptions): Trigger {
  const rc = obj(e['requestContext']);
  const headers = lowerCarrier(e['headers']);
  const domain = str(rc['domainName']);
  const apiId = str(rc['apiId']);
  const arn = apiArn(o, apiId, str(rc['stage']));
  const routeKey = str(rc['routeKey']) ?? '$default';
  return {
    source: 'api-gateway', arn, http: false, carrier: headers,
    tags: domain === undefined ? {} : { 'http.url': `https://${domain}` },
    inferred: [inferred(o, {
      name: 'aws.apigateway', operation: 'aws.apigateway.websocket', service: service(o, apiId, 'lambda_api_gateway', domain, domain ?? 'apigateway'), resource: routeKey, type: 'web',
      startMs: num(rc['requestTimeEpoch']) ?? Date.now(), async: isAsyncInvoke(headers),
      meta: {
        endpoint: routeKey, 'http.url': domain === undefined ? undefined : `https://${domain}`, request_id: str(rc['requestId']),
        apiid: apiId, apiname: apiId, stage: str(rc['stage']), domain_name: domain, connection_id: str(rc['connectionId']),
        event_type: str(rc['eventType']), message_direction: str(rc['messageDirection']), dd_resource_key: arn,
      },
    })],
  };
}

function functionUrl(e: Obj, o: TriggerOptions): Trigger {
  const rc = obj(e['requestContext']);
  const http = obj(rc['http']);
  const headers = lowerCarrier(e['headers']);
  const method = str(http['method']);
  const path = str(http['path']) ?? str(e['rawPath']) ?? '/';
  const domain = str(rc['domainName']);
  return {
    source: 'lambda-function-url', arn: undefined, http: true, carrier: headers,
    tags: httpTags(method, domain, path, undefined, headers),
    inferred: [inferred(o, {
      name: 'aws.lambda.url', service: service(o, domain, 'lambda_url', domain, domain ?? 'lambda_url'), resource: `${method ?? ''} ${parameterizePath(path)}`, type: 'web',
      startMs: num(rc['timeEpoch']) ?? Date.now(), async: false,
      meta: {
        endpoint: path, 'http.url': domain === undefined ? undefined : `https://${domain}${path}`, 'http.method': method,
        'http.protocol': str(http['protocol']), 'http.source_ip': str(http['sourceIp']), 'http.user_agent': str(http['userAgent']),
        request_id: str(rc['requestId']), domain_name: domain,
      },
    })],
  };
}

function alb(e: Obj): Trigger {
  const headers = lowerCarrier(e['headers'] ?? e['multiValueHeaders']);
  const method = str(e['httpMethod']);
  const path = str(e['path']);
  const tags: Record<string, string> = {};
  if (method !== undefined) tags['http.method'] = method;
  if (path !== undefined) tags['http.url_details.path'] = path;
  if (headers['host'] !== undefined) tags['http.url'] = `http://${headers['host']}${path ?? ''}`;
  if (headers['user-agent'] !== undefined) tags['http.useragent'] = headers['user-agent'];
  return { source: 'application-load-balancer', arn: str(obj(obj(e['requestContext'])['elb'])['targetGroupArn']), http: true, carrier: headers, tags, inferred: [] };
}

// ---- record triggers ----

/** SQS's AWSTraceHeader, when a Datadog tracer wrote it (the root's random part is our trace id, zero padded). */
export function awsTraceHeader(value: string | undefined): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const parts: Record<string, string> = {};
  for (const kv of value.split(';')) {
    const eq = kv.indexOf('=');
    if (eq > 0) parts[kv.slice(0, eq).trim()] = kv.slice(eq + 1).trim();
  }
  const root = /^1-[0-9a-f]{8}-00000000([0-9a-f]{16})$/i.exec(parts['Root'] ?? '');
  const parent = /^[0-9a-f]{16}$/i.exec(parts['Parent'] ?? '');
  if (root === null || parent === null) return undefined;
  const out: Record<string, string> = {
    'x-datadog-trace-id': BigInt(`0x${root[1] as string}`).toString(),
    'x-datadog-parent-id': BigInt(`0x${parent[0]}`).toString(),
  };
  if (parts['Sampled'] !== undefined) out['x-datadog-sampling-priority'] = parts['Sampled'] === '1' ? '1' : '0';
  return out;
}

/** `_datadog` JSON, as a string or base64 bytes. */
function ddJson(text: string | undefined, base64 = false): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(base64 ? Buffer.from(text, 'base64').toString('utf8') : text);
    const c = lowerCarrier(parsed);
    return Object.keys(c).length > 0 ? c : undefined;
  } catch {
    return undefined;
  }
}

function snsMessageCarrier(sns: Obj): Record<string, string> | undefined {
  const attr = obj(obj(sns['MessageAttributes'])['_datadog']);
  return ddJson(str(attr['Value']), str(attr['Type']) === 'Binary');
}

function snsSpan(sns: Obj, o: TriggerOptions, startFallback: number): InferredDraft {
  const topicArn = str(sns['TopicArn']);
  const topic = topicArn?.split(':').pop();
  return inferred(o, {
    name: 'aws.sns', service: service(o, topic, 'lambda_sns', topic, 'sns'), resource: topic ?? 'sns', type: 'web',
    startMs: isoMs(sns['Timestamp']) ?? startFallback, async: true,
    meta: { topicname: topic, topic_arn: topicArn, message_id: str(sns['MessageId']), type: str(sns['Type']), subject: str(sns['Subject']), event_subscription_arn: undefined },
  });
}

function eventBridgeSpan(e: Obj, o: TriggerOptions, startFallback: number): InferredDraft {
  const source = str(e['source']);
  const detail = obj(e['detail']);
  const dd = obj(detail['_datadog']);
  // The tracer that put the event may record the exact send time; `time` has second precision.
  const start = num(dd['x-datadog-start-time']) ?? isoMs(e['time']) ?? startFallback;
  const bus = str(dd['x-datadog-resource-name']);
  return inferred(o, {
    name: 'aws.eventbridge', service: service(o, bus ?? source, 'lambda_eventbridge', bus ?? source, 'eventbridge'), resource: bus ?? source ?? 'eventbridge', type: 'web',
    startMs: start, async: true,
    meta: { detail_type: str(e['detail-type']), source, event_id: str(e['id']) },
  });
}

function sqs(r: Obj, o: TriggerOptions): Trigger {
  const arn = str(r['eventSourceARN']);
  const queue = arn?.split(':').pop();
  const attrs = obj(r['attributes']);
  const sent = num(attrs['SentTimestamp']) ?? Date.now();
  const span = inferred(o, {
    name: 'aws.sqs', service: service(o, queue, 'lambda_sqs', queue, 'sqs'), resource: queue ?? 'sqs', type: 'web', startMs: sent, async: true,
    meta: {
      queuename: queue, event_source_arn: arn, receipt_handle: str(r['receiptHandle']), sender_id: str(attrs['SenderId']),
      retry_count: str(attrs['ApproximateReceiveCount']), message_id: str(r['messageId']),
    },
  });
  const spans: InferredDraft[] = [span];
  const ddAttr = obj(obj(r['messageAttributes'])['_datadog']);
  let carrier = ddJson(str(ddAttr['stringValue'])) ?? ddJson(str(ddAttr['binaryValue']), true);
  // SNS or EventBridge delivering into the queue: the message body is their envelope, and their span wraps ours.
  const body = str(r['body']);
  if (body !== undefined && body.startsWith('{')) {
    let inner: Obj = {};
    try {
      inner = obj(JSON.parse(body));
    } catch {
      inner = {};
    }
    if (str(inner['Type']) === 'Notification' && str(inner['TopicArn']) !== undefined) {
      spans.unshift(snsSpan(inner, o, sent));
      carrier ??= snsMessageCarrier(inner);
    } else if (str(inner['detail-type']) !== undefined && str(inner['source']) !== undefined) {
      spans.unshift(eventBridgeSpan(inner, o, sent));
      carrier ??= lowerCarrier(obj(inner['detail'])['_datadog']);
    }
  }
  carrier ??= awsTraceHeader(str(attrs['AWSTraceHeader']));
  return { source: 'sqs', arn, http: false, carrier, tags: {}, inferred: spans };
}

function sns(r: Obj, o: TriggerOptions): Trigger {
  const s = obj(r['Sns']);
  const spans = [snsSpan(s, o, Date.now())];
  let carrier = snsMessageCarrier(s);
  const msg = str(s['Message']);
  if (msg !== undefined && msg.startsWith('{')) {
    try {
      const inner = obj(JSON.parse(msg));
      if (str(inner['detail-type']) !== undefined && str(inner['source']) !== undefined) {
        spans.unshift(eventBridgeSpan(inner, o, spans[0]?.startMs ?? Date.now()));
        carrier ??= lowerCarrier(obj(inner['detail'])['_datadog']);
      }
    } catch {
      // a plain message
    }
  }
  return { source: 'sns', arn: str(s['TopicArn']), http: false, carrier, tags: {}, inferred: spans };
}

function dynamodb(r: Obj, o: TriggerOptions): Trigger {
  const arn = str(r['eventSourceARN']);
  const table = lastArnPart(arn, ':table/');
  const d = obj(r['dynamodb']);
  const created = num(d['ApproximateCreationDateTime']);
  return {
    source: 'dynamodb', arn, http: false, carrier: undefined, tags: {},
    inferred: [inferred(o, {
      name: 'aws.dynamodb', service: service(o, table, 'lambda_dynamodb', table, 'dynamodb'), resource: table ?? 'dynamodb', type: 'web',
      startMs: created !== undefined ? created * 1000 : Date.now(), async: true,
      meta: {
        tablename: table, event_source_arn: arn, event_id: str(r['eventID']), event_name: str(r['eventName']), event_version: str(r['eventVersion']),
        stream_view_type: str(d['StreamViewType']), size_bytes: num(d['SizeBytes'])?.toString(),
      },
    })],
  };
}

function s3(r: Obj, o: TriggerOptions): Trigger {
  const s = obj(r['s3']);
  const bucket = obj(s['bucket']);
  const object = obj(s['object']);
  const name = str(bucket['name']);
  return {
    source: 's3', arn: str(bucket['arn']), http: false, carrier: undefined, tags: {},
    inferred: [inferred(o, {
      name: 'aws.s3', service: service(o, name, 'lambda_s3', name, 's3'), resource: name ?? 's3', type: 'web',
      startMs: isoMs(r['eventTime']) ?? Date.now(), async: true,
      meta: {
        bucketname: name, bucket_arn: str(bucket['arn']), object_key: str(object['key']), object_size: num(object['size'])?.toString(),
        object_etag: str(object['eTag']), event_name: str(r['eventName']),
      },
    })],
  };
}

function kinesis(r: Obj, o: TriggerOptions): Trigger {
  const arn = str(r['eventSourceARN']);
  const stream = lastArnPart(arn, ':stream/');
  const k = obj(r['kinesis']);
  const arrival = num(k['approximateArrivalTimestamp']);
  const eventId = str(r['eventID']);
  let carrier: Record<string, string> | undefined;
  const data = str(k['data']);
  if (data !== undefined && data.length < 1_400_000) {
    try {
      const parsed = obj(JSON.parse(Buffer.from(data, 'base64').toString('utf8')));
      const c = lowerCarrier(parsed['_datadog']);
      if (Object.keys(c).length > 0) carrier = c;
    } catch {
      // not JSON: no context
    }
  }
  return {
    source: 'kinesis', arn, http: false, carrier, tags: {},
    inferred: [inferred(o, {
      name: 'aws.kinesis', service: service(o, stream, 'lambda_kinesis', stream, 'kinesis'), resource: stream ?? 'kinesis', type: 'web',
      startMs: arrival !== undefined ? arrival * 1000 : Date.now(), async: true,
      meta: {
        streamname: stream, shardid: eventId?.split(':')[0], event_source_arn: arn, event_id: eventId, event_name: str(r['eventName']),
        event_version: str(r['eventVersion']), partition_key: str(k['partitionKey']),
      },
    })],
  };
}

function msk(e: Obj, o: TriggerOptions): Trigger | undefined {
  const records = obj(e['records']);
  const first = Object.values(records).find((v) => Array.isArray(v) && v.length > 0) as unknown[] | undefined;
  const r = obj(first?.[0]);
  if (str(r['topic']) === undefined) return undefined;
  const arn = str(e['eventSourceArn']);
  const cluster = lastArnPart(arn, ':cluster/');
  // Kafka headers: [{key: [byte, ...]}, ...]
  const carrier: Record<string, string> = {};
  for (const h of Array.isArray(r['headers']) ? r['headers'] : []) {
    for (const [k, v] of Object.entries(obj(h))) {
      if (Array.isArray(v) && v.every((b) => typeof b === 'number')) carrier[k.toLowerCase()] = Buffer.from(v as number[]).toString('utf8');
    }
  }
  return {
    source: 'msk', arn, http: false, carrier: Object.keys(carrier).length > 0 ? carrier : undefined, tags: {},
    inferred: [inferred(o, {
      name: 'aws.msk', service: service(o, cluster, 'lambda_msk', cluster, 'msk'), resource: str(r['topic']) ?? 'msk', type: 'web',
      startMs: num(r['timestamp']) ?? Date.now(), async: true,
      meta: { cluster_name: cluster, topic: str(r['topic']), partition: num(r['partition'])?.toString(), offset: num(r['offset'])?.toString(), event_source_arn: arn },
    })],
  };
}

/** The trigger of one invocation event, or undefined for direct invocations and unknown shapes. */
export function identifyTrigger(event: unknown, o: TriggerOptions): Trigger | undefined {
  const e = obj(event);
  const rc = obj(e['requestContext']);
  const domain = str(rc['domainName']) ?? '';
  if (e['version'] === '2.0' && typeof e['rawQueryString'] === 'string' && !domain.includes('lambda-url')) return httpApi(e, o);
  if (str(rc['stage']) !== undefined && str(e['httpMethod']) !== undefined && str(e['resource']) !== undefined) return restApi(e, o);
  if (str(rc['messageDirection']) !== undefined) return webSocket(e, o);
  if (str(obj(rc['elb'])['targetGroupArn']) !== undefined) return alb(e);
  if (domain.includes('lambda-url')) return functionUrl(e, o);
  if (typeof e['records'] === 'object' && e['records'] !== null && str(e['eventSource']) === 'aws:kafka') return msk(e, o);
  const records = Array.isArray(e['Records']) ? e['Records'] : undefined;
  const r = obj(records?.[0]);
  if (records !== undefined) {
    const src = str(r['eventSource']) ?? str(r['EventSource']);
    if (src === 'aws:sqs') return sqs(r, o);
    if (src === 'aws:sns') return sns(r, o);
    if (src === 'aws:dynamodb') return dynamodb(r, o);
    if (src === 'aws:s3') return s3(r, o);
    if (src === 'aws:kinesis') return kinesis(r, o);
  }
  if (str(e['detail-type']) !== undefined && str(e['source']) !== undefined && e['source'] !== 'aws.events') {
    const span = eventBridgeSpan(e, o, Date.now());
    return { source: 'eventbridge', arn: str(e['source']), http: false, carrier: lowerCarrier(obj(e['detail'])['_datadog']), tags: {}, inferred: [span] };
  }
  return undefined;
}
