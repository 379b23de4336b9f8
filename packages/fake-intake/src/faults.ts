// Fault injection: rules that make matching requests fail (a status, latency, a hang, a reset),
// for tests of what the extension does when the intake misbehaves.
import type { PayloadKind } from './types.js';

export interface FaultRule {
  /** Which requests: exact path, a RegExp on the path, or a payload kind; all when omitted. */
  path?: string | RegExp;
  kind?: PayloadKind;
  /** Answer with this status (and body) instead of processing. */
  status?: number;
  body?: string;
  /** Wait this long before answering (or before processing, when no status is given). */
  latencyMs?: number;
  /** Never answer; the socket stays open until the client gives up or the intake closes. */
  hang?: boolean;
  /** Destroy the connection without an answer. */
  reset?: boolean;
  /** How many requests the rule applies to; unlimited when omitted. */
  times?: number;
}

export interface Fault {
  readonly rule: FaultRule;
  /** How many requests the rule has hit so far. */
  readonly hits: number;
  remove(): void;
}

interface Entry {
  rule: FaultRule;
  hits: number;
  removed: boolean;
}

export class FaultList {
  readonly #faults: Entry[] = [];

  add(rule: FaultRule): Fault {
    const entry: Entry = { rule, hits: 0, removed: false };
    this.#faults.push(entry);
    return {
      rule,
      get hits() {
        return entry.hits;
      },
      remove: () => {
        entry.removed = true;
      },
    };
  }

  clear(): void {
    for (const f of this.#faults) f.removed = true;
    this.#faults.length = 0;
  }

  /** The first live rule matching the request (its hit counted), if any. */
  match(path: string, kind: PayloadKind): Entry | undefined {
    for (const f of this.#faults) {
      if (f.removed) continue;
      const r = f.rule;
      if (r.times !== undefined && f.hits >= r.times) continue;
      if (typeof r.path === 'string' && r.path !== path) continue;
      if (r.path instanceof RegExp && !r.path.test(path)) continue;
      if (r.kind !== undefined && r.kind !== kind) continue;
      f.hits++;
      return f;
    }
    return undefined;
  }
}
