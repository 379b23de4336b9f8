// AppSec verdicts on the invocation's spans. The AppSec unit says `pending` when an invocation's event
// reached the WAF and `done` with the tags once its result did; the aws.lambda span (made by a tracer
// or by the extension) gets them, and its inferred parent span gets the event markers
// (DataDog/datadog-lambda-extension, bottlecap/src/appsec/processor/mod.rs tags the same span).
// A payload whose verdict is still pending is held, but never past the next flush by more than
// APPSEC_WAIT_MS: without a verdict by then it ships untagged.
import type { AppSecMessage } from '@dd-lambda/protocol';
import type { Chunk, TracerPayload } from './span.js';

/** How long a flush waits at most for verdicts of held payloads. */
export const APPSEC_WAIT_MS = 25;
/** Verdicts kept for spans that come after them, and payloads held at most. */
export const MAX_VERDICTS = 64;
export const MAX_HELD = 64;
/** What the inferred span gets too. */
const INFERRED_KEYS = ['appsec.event', '_dd.appsec.json'];

interface Verdict {
  meta: Record<string, string>;
  metrics: Record<string, number>;
}

export class AppSecVerdicts {
  readonly #pending = new Set<string>();
  readonly #done = new Map<string, Verdict>();
  #held: TracerPayload[] = [];
  #wake: (() => void) | undefined;
  /** Payloads shipped without the verdict they waited for. */
  untagged = 0;

  /** Records a verdict; returns the held payloads it (or it last) released. */
  onMessage(m: AppSecMessage): TracerPayload[] {
    if (m.state === 'pending') {
      this.#pending.add(m.requestId);
      return [];
    }
    this.#pending.delete(m.requestId);
    this.#done.set(m.requestId, { meta: m.meta, metrics: m.metrics });
    if (this.#done.size > MAX_VERDICTS) this.#done.delete(this.#done.keys().next().value as string);
    const ready: TracerPayload[] = [];
    const still: TracerPayload[] = [];
    for (const p of this.#held) (this.#waitingOn(p) === undefined ? ready : still).push(p);
    this.#held = still;
    for (const p of ready) this.#apply(p);
    if (this.#held.length === 0) this.#wake?.();
    return ready;
  }

  /** True when the payload must wait for a pending verdict (it is held); else its verdicts are applied. */
  hold(p: TracerPayload): boolean {
    if (this.#pending.size > 0 && this.#waitingOn(p) !== undefined && this.#held.length < MAX_HELD) {
      this.#held.push(p);
      return true;
    }
    this.#apply(p);
    return false;
  }

  /** At flush: waits up to `maxMs` for pending verdicts, then releases every held payload. */
  async release(maxMs: number): Promise<TracerPayload[]> {
    if (this.#held.length === 0) return [];
    if (maxMs > 0) {
      await new Promise<void>((resolve) => {
        // Not unref'd: a flush is waiting on it, and it lasts APPSEC_WAIT_MS at most.
        const t = setTimeout(resolve, maxMs);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    const out = this.#held;
    this.#held = [];
    for (const p of out) {
      const waiting = this.#waitingOn(p);
      if (waiting !== undefined) {
        this.untagged++;
        this.#pending.delete(waiting);
      }
      this.#apply(p);
    }
    return out;
  }

  #waitingOn(p: TracerPayload): string | undefined {
    for (const c of p.chunks) {
      for (const s of c.spans) {
        const id = s.name === 'aws.lambda' ? s.meta['request_id'] : undefined;
        if (id !== undefined && this.#pending.has(id)) return id;
      }
    }
    return undefined;
  }

  #apply(p: TracerPayload): void {
    if (this.#done.size === 0) return;
    for (const c of p.chunks) this.#applyChunk(c);
  }

  #applyChunk(c: Chunk): void {
    for (const s of c.spans) {
      const id = s.name === 'aws.lambda' ? s.meta['request_id'] : undefined;
      const v = id === undefined ? undefined : this.#done.get(id);
      if (v === undefined) continue;
      for (const [k, val] of Object.entries(v.meta)) if (k !== '_dd.origin' || s.meta[k] === undefined) s.meta[k] = val;
      Object.assign(s.metrics, v.metrics);
      if (v.metrics['_sampling_priority_v1'] === 2) c.priority = 2;
      const parent = c.spans.find((x) => x.spanId === s.parentId && x.meta['_inferred_span.tag_source'] !== undefined);
      if (parent !== undefined) {
        parent.metrics['_dd.appsec.enabled'] = 1;
        for (const k of INFERRED_KEYS) if (v.meta[k] !== undefined) parent.meta[k] = v.meta[k] as string;
      }
    }
  }
}
