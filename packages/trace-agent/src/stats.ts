// Extension-side trace stats (DD_LAMBDA_EXTENSION_COMPUTE_STATS): the agent's concentrator, written
// from its documented behaviour. Eligible spans (top level, measured, or of kind server, client,
// producer, consumer) are counted in 10 s buckets by end time, keyed by the agent's aggregation
// key; durations go into DDSketches (relative accuracy 1 %) encoded as the sketches-go protobuf.
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import type { Span, TracerPayload } from './span.js';
import type { ClientStatsPayload, GroupedStats, StatsBucket } from './stats-payload.js';

export const BUCKET_NS = 10_000_000_000n;
const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const MULTIPLIER = 1 / Math.log(GAMMA);
/** Values below this are counted as zero (sketches-go: the smallest normal double times gamma). */
const MIN_INDEXABLE = 2.2250738585072014e-308 * GAMMA;
const MAX_BINS = 2048;

const ELIGIBLE_KINDS = new Set(['server', 'client', 'producer', 'consumer']);
const PEER_KINDS = new Set(['client', 'producer', 'consumer']);
/** Tags that identify the peer of client/producer/consumer spans (the agent's default peer tags). */
export const PEER_TAGS: readonly string[] = [
  '_dd.base_service',
  'amqp.destination',
  'amqp.exchange',
  'amqp.queue',
  'aws.queue.name',
  'aws.s3.bucket',
  'bucketname',
  'cassandra.keyspace',
  'db.cassandra.contact.points',
  'db.couchbase.seed.nodes',
  'db.hostname',
  'db.instance',
  'db.name',
  'db.namespace',
  'db.system',
  'grpc.host',
  'hostname',
  'http.host',
  'http.server_name',
  'messaging.destination',
  'messaging.destination.name',
  'messaging.kafka.bootstrap.servers',
  'messaging.rabbitmq.exchange',
  'messaging.system',
  'mongodb.db',
  'msmq.queue.path',
  'net.peer.name',
  'network.destination.ip',
  'network.destination.name',
  'out.host',
  'peer.hostname',
  'peer.service',
  'queuename',
  'rpc.service',
  'rpc.system',
  'server.address',
  'streamname',
  'tablename',
  'topicname',
  'aws.dynamodb.table_name',
  'aws.kinesis.stream_name',
  'aws.sns.topic_arn',
  'aws.sqs.queue_name',
];

/** A DDSketch with a logarithmic mapping and a dense store that collapses its lowest bins. */
export class DDSketch {
  readonly #bins = new Map<number, number>();
  zeroCount = 0;
  count = 0;

  add(v: number): void {
    this.count++;
    if (v < MIN_INDEXABLE) {
      this.zeroCount++;
      return;
    }
    const i = Math.floor(Math.log(v) * MULTIPLIER);
    this.#bins.set(i, (this.#bins.get(i) ?? 0) + 1);
    if (this.#bins.size > MAX_BINS) this.#collapse();
  }

  #collapse(): void {
    const keys = [...this.#bins.keys()].sort((a, b) => a - b);
    const extra = keys.length - MAX_BINS;
    const into = keys[extra] as number;
    let moved = 0;
    for (const k of keys.slice(0, extra)) {
      moved += this.#bins.get(k) ?? 0;
      this.#bins.delete(k);
    }
    this.#bins.set(into, (this.#bins.get(into) ?? 0) + moved);
  }

  /** Approximate quantile (for tests): the value of the bin holding rank q·(n−1). */
  quantile(q: number): number {
    const rank = q * (this.count - 1);
    let seen = this.zeroCount;
    if (rank < seen) return 0;
    for (const k of [...this.#bins.keys()].sort((a, b) => a - b)) {
      seen += this.#bins.get(k) ?? 0;
      if (seen > rank) return Math.exp(k / MULTIPLIER) * (1 + RELATIVE_ACCURACY);
    }
    return Number.NaN;
  }

  /** sketches-go `DDSketch` protobuf: mapping(gamma, offset 0, NONE), contiguous positive bins, zeroCount. */
  encode(): Uint8Array {
    const w = new BinaryWriter();
    w.tag(1, WireType.LengthDelimited).fork();
    w.tag(1, WireType.Bit64).double(GAMMA);
    w.join();
    if (this.#bins.size > 0) {
      const keys = [...this.#bins.keys()].sort((a, b) => a - b);
      const lo = keys[0] as number;
      const hi = keys[keys.length - 1] as number;
      w.tag(2, WireType.LengthDelimited).fork();
      w.tag(2, WireType.LengthDelimited).fork();
      for (let k = lo; k <= hi; k++) w.double(this.#bins.get(k) ?? 0);
      w.join();
      if (lo !== 0) w.tag(3, WireType.Varint).sint32(lo);
      w.join();
    }
    if (this.zeroCount > 0) w.tag(4, WireType.Bit64).double(this.zeroCount);
    return w.finish();
  }
}

interface Group {
  key: Omit<GroupedStats, 'Hits' | 'Errors' | 'Duration' | 'OkSummary' | 'ErrorSummary' | 'TopLevelHits'>;
  hits: number;
  errors: number;
  duration: bigint;
  topLevelHits: number;
  ok: DDSketch;
  err: DDSketch;
}

export interface ConcentratorOptions {
  env: string;
  version: string;
  now?: () => number;
}

export function isEligible(s: Span): boolean {
  if (s.metrics['_dd.partial_version'] !== undefined) return false;
  return s.metrics['_top_level'] === 1 || s.metrics['_dd.measured'] === 1 || ELIGIBLE_KINDS.has(s.meta['span.kind'] ?? '');
}

function statusCode(s: Span): number {
  const v = s.meta['http.status_code'] ?? (s.metrics['http.status_code'] !== undefined ? String(s.metrics['http.status_code']) : undefined);
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

export class StatsConcentrator {
  readonly #o: ConcentratorOptions;
  readonly #buckets = new Map<bigint, Map<string, Group>>();
  #sequence = 0;

  constructor(o: ConcentratorOptions) {
    this.#o = o;
  }

  add(payload: TracerPayload): void {
    for (const chunk of payload.chunks) {
      const synthetics = chunk.origin.startsWith('synthetics');
      for (const s of chunk.spans) {
        if (!isEligible(s)) continue;
        this.#addSpan(s, synthetics);
      }
    }
  }

  #addSpan(s: Span, synthetics: boolean): void {
    const end = s.start + s.duration;
    const bucketStart = end - (end % BUCKET_NS);
    let groups = this.#buckets.get(bucketStart);
    if (!groups) this.#buckets.set(bucketStart, (groups = new Map()));
    const kind = (s.meta['span.kind'] ?? '').toLowerCase();
    const peerTags = PEER_KINDS.has(kind) ? PEER_TAGS.filter((t) => s.meta[t] !== undefined && s.meta[t] !== '').map((t) => `${t}:${s.meta[t]}`) : [];
    const key: Group['key'] = {
      Service: s.service,
      Name: s.name,
      Resource: s.resource,
      HTTPStatusCode: statusCode(s),
      Type: s.type,
      DBType: '',
      Synthetics: synthetics,
      SpanKind: kind,
      PeerTags: peerTags,
      IsTraceRoot: s.parentId === 0n ? 1 : 2,
      GRPCStatusCode: s.meta['rpc.grpc.status_code'] ?? s.meta['grpc.code'] ?? '',
      HTTPMethod: s.meta['http.method'] ?? '',
      HTTPEndpoint: s.meta['http.endpoint'] ?? s.meta['http.route'] ?? '',
    };
    const id = JSON.stringify(Object.values(key));
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { key, hits: 0, errors: 0, duration: 0n, topLevelHits: 0, ok: new DDSketch(), err: new DDSketch() }));
    g.hits++;
    g.duration += s.duration;
    if (s.metrics['_top_level'] === 1) g.topLevelHits++;
    if (s.error !== 0) {
      g.errors++;
      g.err.add(Number(s.duration));
    } else {
      g.ok.add(Number(s.duration));
    }
  }

  /** Buckets that are over (all of them when `final`), as one ClientStatsPayload; undefined when none. */
  flush(final: boolean): ClientStatsPayload | undefined {
    const nowNs = BigInt((this.#o.now ?? Date.now)()) * 1_000_000n;
    const out: StatsBucket[] = [];
    for (const [start, groups] of [...this.#buckets].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (!final && start + BUCKET_NS > nowNs) continue;
      this.#buckets.delete(start);
      out.push({
        Start: start,
        Duration: BUCKET_NS,
        Stats: [...groups.values()].map(
          (g) =>
            ({
              ...g.key,
              Hits: g.hits,
              Errors: g.errors,
              Duration: g.duration,
              TopLevelHits: g.topLevelHits,
              OkSummary: g.ok.encode(),
              ErrorSummary: g.err.encode(),
            }) as unknown as Partial<GroupedStats>,
        ),
      });
    }
    if (out.length === 0) return undefined;
    return { Hostname: '', Env: this.#o.env, Version: this.#o.version, Lang: '', TracerVersion: '', RuntimeID: '', Sequence: ++this.#sequence, Stats: out };
  }
}
