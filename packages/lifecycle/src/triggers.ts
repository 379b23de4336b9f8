// What invoked the function, read from the event (DataDog/datadog-lambda-extension, bottlecap/src/lifecycle/invocation/triggers/): the trigger tags for aws.lambda,
// the inferred span for the managed service in front of it, and where its trace context travels.
// Matching follows bottlecap's order; the event is untrusted JSON, so every field is checked.
import { lowerCarrier } from './propagation.js';
import { obj, str, type Trigger, type TriggerOptions } from './triggers/common.js';
import { alb, functionUrl, httpApi, restApi, webSocket } from './triggers/http.js';
import { dynamodb, eventBridgeSpan, kinesis, msk, s3, sns, sqs } from './triggers/records.js';
import { isStepFunctionEvent, stepFunction } from './triggers/step-functions.js';

export { parameterizePath } from './triggers/common.js';
export type { InferredDraft, Trigger, TriggerOptions } from './triggers/common.js';
export { awsTraceHeader } from './triggers/records.js';
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
  if (isStepFunctionEvent(e)) return stepFunction(e);
  if (str(e['detail-type']) !== undefined && str(e['source']) !== undefined && e['source'] !== 'aws.events') {
    const span = eventBridgeSpan(e, o, Date.now());
    return { source: 'eventbridge', arn: str(e['source']), http: false, carrier: lowerCarrier(obj(e['detail'])['_datadog']), tags: {}, inferred: [span] };
  }
  return undefined;
}
