// HTTP triggers: API Gateway REST (v1), HTTP (v2) and WebSocket APIs, Lambda function URLs, ALB
// (DataDog/datadog-lambda-extension, bottlecap/src/lifecycle/invocation/triggers/api_gateway_*_event.rs,
// lambda_function_url_event.rs, alb_event.rs).
import { lowerCarrier } from '../propagation.js';
import { apiArn, httpTags, inferred, isAsyncInvoke, num, obj, parameterizePath, service, str, type Obj, type Trigger, type TriggerOptions } from './common.js';

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
    source: 'api-gateway',
    arn,
    http: true,
    carrier: a.headers,
    tags: httpTags(a.method, domain, a.path, a.route, a.headers),
    inferred: [
      inferred(o, {
        name: a.name,
        operation: a.operation,
        service: service(o, apiId, 'lambda_api_gateway', domain, domain ?? 'apigateway'),
        resource: `${a.method ?? ''} ${a.route ?? parameterizePath(a.path ?? '/')}`,
        type: 'web',
        startMs: a.startMs ?? Date.now(),
        async: isAsyncInvoke(a.headers),
        meta: {
          endpoint: a.path,
          'http.url': url,
          'http.method': a.method,
          'http.route': a.route,
          request_id: str(a.rc['requestId']),
          apiid: apiId,
          apiname: apiId,
          stage,
          domain_name: domain,
          dd_resource_key: arn,
          ...a.meta,
        },
      }),
    ],
  };
}

export function httpApi(e: Obj, o: TriggerOptions): Trigger {
  const rc = obj(e['requestContext']);
  const http = obj(rc['http']);
  const routeKey = str(e['routeKey']) ?? str(rc['routeKey']);
  return apiGateway(o, {
    rc,
    headers: lowerCarrier(e['headers']),
    method: str(http['method']),
    path: str(http['path']) ?? str(e['rawPath']),
    route: routeKey !== undefined && routeKey !== '$default' ? routeKey.split(' ').pop() : undefined,
    name: 'aws.httpapi',
    operation: 'aws.httpapi',
    startMs: num(rc['timeEpoch']),
    meta: { 'http.protocol': str(http['protocol']), 'http.source_ip': str(http['sourceIp']), 'http.user_agent': str(http['userAgent']) },
  });
}

export function restApi(e: Obj, o: TriggerOptions): Trigger {
  const rc = obj(e['requestContext']);
  const headers = lowerCarrier(e['headers']);
  return apiGateway(o, {
    rc,
    headers,
    method: str(e['httpMethod']),
    path: str(e['path']),
    route: str(e['resource']),
    name: 'aws.apigateway',
    operation: 'aws.apigateway.rest',
    startMs: num(rc['requestTimeEpoch']),
    meta: { 'http.user_agent': headers['user-agent'], 'http.protocol': str(rc['protocol']), 'http.source_ip': str(obj(rc['identity'])['sourceIp']) },
  });
}

export function webSocket(e: Obj, o: TriggerOptions): Trigger {
  const rc = obj(e['requestContext']);
  const headers = lowerCarrier(e['headers']);
  const domain = str(rc['domainName']);
  const apiId = str(rc['apiId']);
  const arn = apiArn(o, apiId, str(rc['stage']));
  const routeKey = str(rc['routeKey']) ?? '$default';
  return {
    source: 'api-gateway',
    arn,
    http: false,
    carrier: headers,
    tags: domain === undefined ? {} : { 'http.url': `https://${domain}` },
    inferred: [
      inferred(o, {
        name: 'aws.apigateway',
        operation: 'aws.apigateway.websocket',
        service: service(o, apiId, 'lambda_api_gateway', domain, domain ?? 'apigateway'),
        resource: routeKey,
        type: 'web',
        startMs: num(rc['requestTimeEpoch']) ?? Date.now(),
        async: isAsyncInvoke(headers),
        meta: {
          endpoint: routeKey,
          'http.url': domain === undefined ? undefined : `https://${domain}`,
          request_id: str(rc['requestId']),
          apiid: apiId,
          apiname: apiId,
          stage: str(rc['stage']),
          domain_name: domain,
          connection_id: str(rc['connectionId']),
          event_type: str(rc['eventType']),
          message_direction: str(rc['messageDirection']),
          dd_resource_key: arn,
        },
      }),
    ],
  };
}

export function functionUrl(e: Obj, o: TriggerOptions): Trigger {
  const rc = obj(e['requestContext']);
  const http = obj(rc['http']);
  const headers = lowerCarrier(e['headers']);
  const method = str(http['method']);
  const path = str(http['path']) ?? str(e['rawPath']) ?? '/';
  const domain = str(rc['domainName']);
  return {
    source: 'lambda-function-url',
    arn: undefined,
    http: true,
    carrier: headers,
    tags: httpTags(method, domain, path, undefined, headers),
    inferred: [
      inferred(o, {
        name: 'aws.lambda.url',
        service: service(o, domain, 'lambda_url', domain, domain ?? 'lambda_url'),
        resource: `${method ?? ''} ${parameterizePath(path)}`,
        type: 'web',
        startMs: num(rc['timeEpoch']) ?? Date.now(),
        async: false,
        meta: {
          endpoint: path,
          'http.url': domain === undefined ? undefined : `https://${domain}${path}`,
          'http.method': method,
          'http.protocol': str(http['protocol']),
          'http.source_ip': str(http['sourceIp']),
          'http.user_agent': str(http['userAgent']),
          request_id: str(rc['requestId']),
          domain_name: domain,
        },
      }),
    ],
  };
}

export function alb(e: Obj): Trigger {
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
