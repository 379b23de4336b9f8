// Operation name, resource and type of an OTLP span, as Datadog's OTLP ingest derives them
// (DataDog/datadog-agent pkg/trace/traceutil/otel_util.go, the "v2" operation names; the same rules as
// DataDog/datadog-lambda-extension bottlecap/src/otlp/transform.rs). Old and current semantic
// convention keys are both read: OpenTelemetry JS instrumentations still emit the old ones by default.
import type { OtlpSpan } from './model.js';
import { SPAN_KIND } from './model.js';

/** Attribute lookup for one span: its own attributes, then (where the rules say so) its resource's. */
export interface Attrs {
  span(key: string): string;
  either(key: string): string;
}

/** The first key with a non-empty value. */
function first(get: (k: string) => string, ...keys: string[]): string {
  for (const k of keys) {
    const v = get(k);
    if (v !== '') return v;
  }
  return '';
}

export function kindName(s: OtlpSpan): (typeof SPAN_KIND)[number] {
  return SPAN_KIND[s.kind] ?? 'unspecified';
}

const AWS_LAMBDA_SCOPE = 'opentelemetry.instrumentation.aws_lambda';

export function operationName(s: OtlpSpan, a: Attrs, scopeName: string): string {
  const own = a.span('operation.name');
  if (own !== '') return own;
  const kind = kindName(s);
  const server = kind === 'server';
  const client = kind === 'client';
  // The aws-lambda instrumentation's invocation span is Datadog's aws.lambda.
  if (server && scopeName === AWS_LAMBDA_SCOPE) return 'aws.lambda';
  if (first(a.span, 'http.request.method', 'http.method') !== '') {
    if (server) return 'http.server.request';
    if (client) return 'http.client.request';
  }
  const summary = a.span('db.query.summary');
  if (summary !== '') return summary.toLowerCase();
  const address = a.span('server.address');
  const port = a.span('server.port');
  const target = first(a.span, 'db.collection.name', 'db.stored_procedure.name', 'db.namespace') || (address !== '' && port !== '' ? `${address}:${port}` : '');
  const dbOp = first(a.span, 'db.operation.name');
  if (target !== '') return (dbOp !== '' ? `${dbOp} ${target}` : target).toLowerCase();
  const dbSystem = first(a.span, 'db.system.name', 'db.system');
  if (dbSystem !== '') return dbSystem.toLowerCase();
  const msgSystem = a.span('messaging.system');
  const msgOp = first(a.span, 'messaging.operation.type', 'messaging.operation');
  if (msgSystem !== '' && msgOp !== '' && kind !== 'internal' && kind !== 'unspecified') return `${msgSystem}.${msgOp}`.toLowerCase();
  const rpc = a.span('rpc.system').toLowerCase();
  if (rpc === 'aws-api' && client) {
    const service = a.span('rpc.service').toLowerCase();
    return service !== '' ? `aws.${service}.request` : 'aws.client.request';
  }
  if (rpc !== '' && client) return `${rpc}.client.request`;
  if (rpc !== '' && server) return `${rpc}.server.request`;
  const provider = a.span('faas.invoked_provider');
  const invoked = a.span('faas.invoked_name');
  if (provider !== '' && invoked !== '' && client) return `${provider}.${invoked}.invoke`.toLowerCase();
  const trigger = a.span('faas.trigger');
  if (trigger !== '' && server) return `${trigger}.invoke`.toLowerCase();
  if (a.span('graphql.operation.type') !== '') return 'graphql.server.request';
  const protocol = a.span('network.protocol.name').toLowerCase();
  if (server) return protocol !== '' ? `${protocol}.server.request` : 'server.request';
  if (client) return protocol !== '' ? `${protocol}.client.request` : 'client.request';
  return kind === 'unspecified' ? 'internal' : kind;
}

export function resourceName(s: OtlpSpan, a: Attrs): string {
  const own = a.either('resource.name');
  if (own !== '') return own;
  let method = first(a.either, 'http.request.method', 'http.method');
  if (method !== '') {
    if (method === '_OTHER') method = 'HTTP';
    const route = a.either('http.route');
    return kindName(s) === 'server' && route !== '' ? `${method} ${route}` : method;
  }
  const msgOp = first(a.either, 'messaging.operation.type', 'messaging.operation');
  if (msgOp !== '') {
    const dest = a.either('messaging.destination.name');
    return dest !== '' ? `${msgOp} ${dest}` : msgOp;
  }
  const rpcMethod = a.either('rpc.method');
  if (rpcMethod !== '') {
    const service = a.either('rpc.service');
    return service !== '' ? `${service} ${rpcMethod}` : rpcMethod;
  }
  const gql = a.either('graphql.operation.type');
  if (gql !== '') {
    const name = a.either('graphql.operation.name');
    return name !== '' ? `${gql} ${name}` : gql;
  }
  const dbSystem = first(a.either, 'db.system.name', 'db.system');
  if (dbSystem !== '') return first(a.either, 'db.query.text', 'db.statement') || dbSystem;
  return s.name;
}

export function spanType(s: OtlpSpan, a: Attrs): string {
  const own = a.either('span.type');
  if (own !== '') return own;
  const kind = kindName(s);
  if (kind === 'server') return 'web';
  if (kind !== 'client') return 'custom';
  const db = first(a.either, 'db.system.name', 'db.system').toLowerCase();
  if (db === '') return 'http';
  return db === 'redis' || db === 'memcached' ? 'cache' : 'db';
}
