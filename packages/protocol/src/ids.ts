// Span and trace ids made by the extension (aws.lambda, cold-start and inferred spans, the trace
// agent's cold-start link): random, non-zero, below 2^63 as the tracers' own ids are.
import { randomFillSync } from 'node:crypto';

const pool = new BigUint64Array(64);
let next = pool.length;

export function randomSpanId(): bigint {
  for (;;) {
    if (next === pool.length) {
      randomFillSync(pool);
      next = 0;
    }
    const id = (pool[next++] as bigint) & 0x7fff_ffff_ffff_ffffn;
    if (id !== 0n) return id;
  }
}
