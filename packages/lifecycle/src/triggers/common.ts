// What every trigger reader shares: the Trigger it returns, the options, checked reads of untrusted
// JSON, and the naming rules of inferred spans (DataDog/datadog-lambda-extension,
// bottlecap/src/lifecycle/invocation/triggers/mod.rs).
import type { Carrier, SpanContext } from '../propagation.js';
import type { SpanPointer } from './span-pointers.js';

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
  /** A trace context the event implies without headers (Step Functions); wins over every carrier. */
  context?: SpanContext;
  /** S3 object / DynamoDB item pointers: `_dd.span_links` on the root of the spans we make. */
  pointers?: SpanPointer[] | undefined;
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

export type Obj = Record<string, unknown>;
export const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};
export const isoMs = (v: unknown): number | undefined => {
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

export function lastArnPart(arn: string | undefined, marker: string): string | undefined {
  if (arn === undefined) return undefined;
  const at = arn.indexOf(marker);
  if (at < 0) return arn.split(':').pop();
  return arn.slice(at + marker.length).split('/')[0];
}

/**
 * DD_SERVICE_MAPPING by the trigger's own id (queue name, API id, …), then its generic key
 * (`lambda_sqs`, …); else the instance name, or the generic name without service representation.
 */
export function service(o: TriggerOptions, id: string | undefined, generic: string, instance: string | undefined, fallback: string): string {
  if (id !== undefined && o.serviceMapping[id] !== undefined) return o.serviceMapping[id] as string;
  if (o.serviceMapping[generic] !== undefined) return o.serviceMapping[generic] as string;
  if (!o.awsServiceRepresentation || instance === undefined || instance === '') return fallback;
  return instance;
}

export function inferred(o: TriggerOptions, d: Omit<InferredDraft, 'meta'> & { meta: Record<string, string | undefined>; operation?: string }): InferredDraft {
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

export function apiArn(o: TriggerOptions, apiId: string | undefined, stage: string | undefined): string | undefined {
  return apiId === undefined ? undefined : `arn:${o.partition}:apigateway:${o.region}::/restapis/${apiId}/stages/${stage ?? ''}`;
}

export function httpTags(
  method: string | undefined,
  domain: string | undefined,
  path: string | undefined,
  route: string | undefined,
  headers: Record<string, string>,
): Record<string, string> {
  const t: Record<string, string> = {};
  if (method !== undefined) t['http.method'] = method;
  if (domain !== undefined) t['http.url'] = `https://${domain}${path ?? ''}`;
  if (path !== undefined) t['http.url_details.path'] = path;
  if (route !== undefined) t['http.route'] = route;
  if (headers['user-agent'] !== undefined) t['http.useragent'] = headers['user-agent'];
  if (headers['referer'] !== undefined) t['http.referer'] = headers['referer'];
  return t;
}

export function isAsyncInvoke(headers: Record<string, string>): boolean {
  return headers['x-amz-invocation-type'] === 'Event';
}
