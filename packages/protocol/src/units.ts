// The unit topology in one place: every pipeline unit, what it owns (ingresses, supervisor events), the
// peer messages it accepts and the ones it sends to whom. The types make a wrong destination or message
// a compile error (UnitContext.send); the table is what the layer build writes units.json from, what
// worker hosts check arriving messages against, and what ARCHITECTURE.md is tested against.
import type {
  AppSecMessage,
  DogStatsDLines,
  DurableContextMessage,
  Ingress,
  MetricPoints,
  OutOfMemoryMessage,
  SpansMessage,
  TracerSpanMessage,
  UnitEvent,
  UnitMessage,
} from './messages.js';

/** The peer messages each unit accepts. */
export interface UnitInbox {
  dogstatsd: DogStatsDLines | MetricPoints;
  'trace-agent': SpansMessage | AppSecMessage;
  logs: DurableContextMessage;
  lifecycle: TracerSpanMessage | OutOfMemoryMessage;
  appsec: never;
}

export type UnitName = keyof UnitInbox;
export type MessageFor<U extends UnitName> = UnitInbox[U];
export type UnitMessageTag = UnitMessage['t'];

export interface UnitTableEntry<U extends UnitName = UnitName> {
  /** One line for ARCHITECTURE.md and the logs. */
  what: string;
  ingress: readonly Ingress[];
  events: readonly UnitEvent[];
  /** Relative CPU weight used to spread units over workers. */
  weight: number;
  /** A boolean Config field that must be true for the unit to run. */
  enabledBy?: string;
  accepts: readonly MessageFor<U>['t'][];
  sends: { readonly [To in UnitName]?: readonly MessageFor<To>['t'][] };
}

export const UNIT_TABLE: { readonly [U in UnitName]: UnitTableEntry<U> } = {
  dogstatsd: {
    what: 'DogStatsD: datagrams to series, sketches, events and service checks',
    ingress: ['dogstatsd'],
    events: [],
    weight: 1,
    accepts: ['DSD_LINES', 'METRICS'],
    sends: {},
  },
  'trace-agent': {
    what: 'trace agent: tracer and OTLP payloads to AgentPayload and stats, APM proxies',
    ingress: ['apm', 'otlp-http', 'otlp-grpc'],
    events: [],
    weight: 2,
    accepts: ['SPANS', 'APPSEC'],
    sends: { dogstatsd: ['DSD_LINES'], lifecycle: ['TRACER_SPAN'], logs: ['DURABLE_CONTEXT'] },
  },
  logs: {
    what: 'logs: Telemetry API records to intake logs',
    ingress: ['telemetry'],
    events: [],
    weight: 1,
    enabledBy: 'logsEnabled',
    accepts: ['DURABLE_CONTEXT'],
    sends: { lifecycle: ['OOM'] },
  },
  lifecycle: {
    what: 'lifecycle: universal instrumentation, enhanced metrics, invocation spans',
    ingress: ['lifecycle'],
    events: ['invocation', 'platform'],
    weight: 1,
    accepts: ['OOM', 'TRACER_SPAN'],
    sends: { dogstatsd: ['METRICS'], 'trace-agent': ['SPANS'] },
  },
  appsec: {
    what: "AppSec: the WAF over each invocation's event and response (from the runtime-API proxy)",
    ingress: [],
    events: ['runtime'],
    weight: 2,
    enabledBy: 'appsecEnabled',
    accepts: [],
    sends: { 'trace-agent': ['APPSEC'] },
  },
};

export const UNIT_NAMES = Object.keys(UNIT_TABLE) as UnitName[];

export function isUnitName(name: string): name is UnitName {
  return Object.hasOwn(UNIT_TABLE, name);
}

/** Whether `to` takes messages tagged `tag` (checked where messages arrive: they cross threads untyped). */
export function accepts(to: string, tag: unknown): boolean {
  return isUnitName(to) && (UNIT_TABLE[to].accepts as readonly unknown[]).includes(tag);
}

/** The typed way to reach another unit (UnitContext.send has this shape). */
export type SendToUnit = <To extends UnitName>(to: To, msg: MessageFor<To>, transfer?: ArrayBuffer[]) => void;
