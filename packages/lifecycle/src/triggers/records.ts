// Record triggers: SQS, SNS (and SNS or EventBridge through SQS), DynamoDB and Kinesis streams, S3,
// MSK, EventBridge (DataDog/datadog-lambda-extension, bottlecap/src/lifecycle/invocation/triggers/*_event.rs),
// with the trace context each carries.
import { lowerCarrier } from '../propagation.js';
import { inferred, isoMs, lastArnPart, num, obj, service, str, type InferredDraft, type Obj, type Trigger, type TriggerOptions } from './common.js';
import { dynamodbPointer, s3Pointer } from './span-pointers.js';

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
    name: 'aws.sns',
    service: service(o, topic, 'lambda_sns', topic, 'sns'),
    resource: topic ?? 'sns',
    type: 'web',
    startMs: isoMs(sns['Timestamp']) ?? startFallback,
    async: true,
    meta: { topicname: topic, topic_arn: topicArn, message_id: str(sns['MessageId']), type: str(sns['Type']), subject: str(sns['Subject']), event_subscription_arn: undefined },
  });
}

export function eventBridgeSpan(e: Obj, o: TriggerOptions, startFallback: number): InferredDraft {
  const source = str(e['source']);
  const detail = obj(e['detail']);
  const dd = obj(detail['_datadog']);
  // The tracer that put the event may record the exact send time; `time` has second precision.
  const start = num(dd['x-datadog-start-time']) ?? isoMs(e['time']) ?? startFallback;
  const bus = str(dd['x-datadog-resource-name']);
  return inferred(o, {
    name: 'aws.eventbridge',
    service: service(o, bus ?? source, 'lambda_eventbridge', bus ?? source, 'eventbridge'),
    resource: bus ?? source ?? 'eventbridge',
    type: 'web',
    startMs: start,
    async: true,
    meta: { detail_type: str(e['detail-type']), source, event_id: str(e['id']) },
  });
}

export function sqs(r: Obj, o: TriggerOptions): Trigger {
  const arn = str(r['eventSourceARN']);
  const queue = arn?.split(':').pop();
  const attrs = obj(r['attributes']);
  const sent = num(attrs['SentTimestamp']) ?? Date.now();
  const span = inferred(o, {
    name: 'aws.sqs',
    service: service(o, queue, 'lambda_sqs', queue, 'sqs'),
    resource: queue ?? 'sqs',
    type: 'web',
    startMs: sent,
    async: true,
    meta: {
      queuename: queue,
      event_source_arn: arn,
      receipt_handle: str(r['receiptHandle']),
      sender_id: str(attrs['SenderId']),
      retry_count: str(attrs['ApproximateReceiveCount']),
      message_id: str(r['messageId']),
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

export function sns(r: Obj, o: TriggerOptions): Trigger {
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

export function dynamodb(r: Obj, o: TriggerOptions): Trigger {
  const arn = str(r['eventSourceARN']);
  const table = lastArnPart(arn, ':table/');
  const d = obj(r['dynamodb']);
  const created = num(d['ApproximateCreationDateTime']);
  return {
    source: 'dynamodb',
    arn,
    http: false,
    carrier: undefined,
    pointers: dynamodbPointer(table, obj(d['Keys'])),
    tags: {},
    inferred: [
      inferred(o, {
        name: 'aws.dynamodb',
        service: service(o, table, 'lambda_dynamodb', table, 'dynamodb'),
        resource: table ?? 'dynamodb',
        type: 'web',
        startMs: created !== undefined ? created * 1000 : Date.now(),
        async: true,
        meta: {
          tablename: table,
          event_source_arn: arn,
          event_id: str(r['eventID']),
          event_name: str(r['eventName']),
          event_version: str(r['eventVersion']),
          stream_view_type: str(d['StreamViewType']),
          size_bytes: num(d['SizeBytes'])?.toString(),
        },
      }),
    ],
  };
}

export function s3(r: Obj, o: TriggerOptions): Trigger {
  const s = obj(r['s3']);
  const bucket = obj(s['bucket']);
  const object = obj(s['object']);
  const name = str(bucket['name']);
  return {
    source: 's3',
    arn: str(bucket['arn']),
    http: false,
    carrier: undefined,
    pointers: s3Pointer(name, str(object['key']), str(object['eTag'])),
    tags: {},
    inferred: [
      inferred(o, {
        name: 'aws.s3',
        service: service(o, name, 'lambda_s3', name, 's3'),
        resource: name ?? 's3',
        type: 'web',
        startMs: isoMs(r['eventTime']) ?? Date.now(),
        async: true,
        meta: {
          bucketname: name,
          bucket_arn: str(bucket['arn']),
          object_key: str(object['key']),
          object_size: num(object['size'])?.toString(),
          object_etag: str(object['eTag']),
          event_name: str(r['eventName']),
        },
      }),
    ],
  };
}

export function kinesis(r: Obj, o: TriggerOptions): Trigger {
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
    source: 'kinesis',
    arn,
    http: false,
    carrier,
    tags: {},
    inferred: [
      inferred(o, {
        name: 'aws.kinesis',
        service: service(o, stream, 'lambda_kinesis', stream, 'kinesis'),
        resource: stream ?? 'kinesis',
        type: 'web',
        startMs: arrival !== undefined ? arrival * 1000 : Date.now(),
        async: true,
        meta: {
          streamname: stream,
          shardid: eventId?.split(':')[0],
          event_source_arn: arn,
          event_id: eventId,
          event_name: str(r['eventName']),
          event_version: str(r['eventVersion']),
          partition_key: str(k['partitionKey']),
        },
      }),
    ],
  };
}

export function msk(e: Obj, o: TriggerOptions): Trigger | undefined {
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
    source: 'msk',
    arn,
    http: false,
    carrier: Object.keys(carrier).length > 0 ? carrier : undefined,
    tags: {},
    inferred: [
      inferred(o, {
        name: 'aws.msk',
        service: service(o, cluster, 'lambda_msk', cluster, 'msk'),
        resource: str(r['topic']) ?? 'msk',
        type: 'web',
        startMs: num(r['timestamp']) ?? Date.now(),
        async: true,
        meta: { cluster_name: cluster, topic: str(r['topic']), partition: num(r['partition'])?.toString(), offset: num(r['offset'])?.toString(), event_source_arn: arn },
      }),
    ],
  };
}
