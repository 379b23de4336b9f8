// StatsPayload (msgpack, Go field names) for POST /api/v0.2/stats: tracer-computed
// ClientStatsPayloads from /v0.6/stats are forwarded; the extension's own buckets use the same
// shapes. Tracer payloads are re-shaped to the known schema: unknown keys are dropped, integers
// made integers, so one odd tracer cannot get a whole stats request refused.
import { Packr } from 'msgpackr';
import { unpack } from './decode.js';
import { TraceAgentError } from './errors.js';

export interface GroupedStats {
  Service: string;
  Name: string;
  Resource: string;
  HTTPStatusCode: number;
  Type: string;
  DBType: string;
  Hits: number;
  Errors: number;
  Duration: number;
  OkSummary: Uint8Array;
  ErrorSummary: Uint8Array;
  Synthetics: boolean;
  TopLevelHits: number;
  SpanKind: string;
  PeerTags: string[];
  IsTraceRoot: number;
  GRPCStatusCode: string;
  HTTPMethod: string;
  HTTPEndpoint: string;
}

export interface StatsBucket {
  Start: number | bigint;
  Duration: number | bigint;
  Stats: Partial<GroupedStats>[];
  AgentTimeShift?: number;
}

export type ClientStatsPayload = Record<string, unknown> & { Stats: StatsBucket[] };

type Field = 'str' | 'uint' | 'int' | 'bool' | 'bin' | 'strs';
const GROUP_FIELDS: Record<string, Field> = {
  Service: 'str',
  Name: 'str',
  Resource: 'str',
  HTTPStatusCode: 'uint',
  Type: 'str',
  DBType: 'str',
  Hits: 'uint',
  Errors: 'uint',
  Duration: 'uint',
  OkSummary: 'bin',
  ErrorSummary: 'bin',
  Synthetics: 'bool',
  TopLevelHits: 'uint',
  SpanKind: 'str',
  PeerTags: 'strs',
  IsTraceRoot: 'int',
  GRPCStatusCode: 'str',
  HTTPMethod: 'str',
  HTTPEndpoint: 'str',
};
const BUCKET_FIELDS: Record<string, Field> = { Start: 'uint', Duration: 'uint', AgentTimeShift: 'int' };
const CLIENT_FIELDS: Record<string, Field> = {
  Hostname: 'str',
  Env: 'str',
  Version: 'str',
  Lang: 'str',
  TracerVersion: 'str',
  RuntimeID: 'str',
  Sequence: 'uint',
  AgentAggregation: 'str',
  Service: 'str',
  ContainerID: 'str',
  Tags: 'strs',
  GitCommitSha: 'str',
  ImageTag: 'str',
  ProcessTags: 'str',
  ProcessTagsHash: 'uint',
};

const packr = new Packr({ useRecords: false, variableMapSize: true });

function fail(path: string, msg: string): never {
  throw new TraceAgentError('TA_ERR_DECODE', `${path}: ${msg}`);
}

function coerce(v: unknown, f: Field, path: string): unknown {
  if (v === null || v === undefined) return undefined;
  switch (f) {
    case 'str':
      if (typeof v !== 'string') fail(path, 'expected a string');
      return v;
    case 'bool':
      return Boolean(v);
    case 'bin':
      if (!(v instanceof Uint8Array)) fail(path, 'expected binary');
      return v;
    case 'strs':
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) fail(path, 'expected an array of strings');
      return v;
    case 'uint':
    case 'int': {
      if (typeof v === 'bigint') return f === 'uint' && v < 0n ? 0 : v;
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, 'expected a number');
      const n = Math.round(v);
      return f === 'uint' && n < 0 ? 0 : n;
    }
  }
}

function shape(v: unknown, fields: Record<string, Field>, path: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) fail(path, 'expected a map');
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const f = fields[k];
    if (f === undefined) continue;
    const c = coerce(x, f, `${path}.${k}`);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

/** Decodes a tracer's /v0.6/stats body; undefined for an empty payload (a no-op, as the agent treats it). */
export function decodeClientStats(body: Uint8Array): ClientStatsPayload | undefined {
  const raw = unpack(body);
  if (raw === null) return undefined;
  const out = shape(raw, CLIENT_FIELDS, 'ClientStatsPayload') as ClientStatsPayload;
  const stats = (raw as Record<string, unknown>)['Stats'];
  if (stats !== null && stats !== undefined && !Array.isArray(stats)) fail('ClientStatsPayload.Stats', 'expected an array');
  out.Stats = ((stats as unknown[] | null | undefined) ?? []).map((b, i) => {
    const bucket = shape(b, BUCKET_FIELDS, `Stats[${i}]`) as unknown as StatsBucket;
    const groups = (b as Record<string, unknown>)['Stats'];
    if (groups !== null && groups !== undefined && !Array.isArray(groups)) fail(`Stats[${i}].Stats`, 'expected an array');
    bucket.Stats = ((groups as unknown[] | null | undefined) ?? []).map((g, j) => shape(g, GROUP_FIELDS, `Stats[${i}].Stats[${j}]`));
    return bucket;
  });
  return out.Stats.length === 0 ? undefined : out;
}

/** The msgpack StatsPayload around client payloads. */
export function statsPayloadBody(stats: readonly ClientStatsPayload[], clientComputed: boolean, agentEnv: string, agentVersion: string): Buffer {
  return packr.pack({ AgentHostname: '', AgentEnv: agentEnv, Stats: stats, AgentVersion: agentVersion, ClientComputed: clientComputed });
}
