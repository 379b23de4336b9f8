// Cold-start checkpoints (as in Datadog's PR #1284): the time of each init boundary from process
// start, with sub-ms resolution. Recording is a performance.now() call, so it stays on at every level.
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface Checkpoint {
  name: string;
  /** ms since the previous checkpoint. */
  deltaMs: number;
  /** ms since process start (performance.timeOrigin). */
  totalMs: number;
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

export class Checkpoints {
  readonly #list: Checkpoint[] = [{ name: 'process start', deltaMs: 0, totalMs: 0 }];
  #emitted = false;

  mark(name: string): Checkpoint {
    const totalMs = performance.now();
    const prev = this.#list[this.#list.length - 1]?.totalMs ?? 0;
    const cp = { name, deltaMs: round(totalMs - prev), totalMs: round(totalMs) };
    this.#list.push(cp);
    return cp;
  }

  get list(): readonly Checkpoint[] {
    return this.#list;
  }

  find(name: string): Checkpoint | undefined {
    return this.#list.find((c) => c.name === name);
  }

  /**
   * The machine-readable form for the bench: `1`/`true`/`stdout` prints one line, an absolute path
   * appends a JSON line to that file. Emitted once.
   */
  emit(target: string | undefined, write: (line: string) => void): void {
    if (this.#emitted || target === undefined) return;
    this.#emitted = true;
    const record = JSON.stringify({ pid: process.pid, timeOrigin: performance.timeOrigin, checkpoints: this.#list });
    if (target.startsWith('/')) {
      try {
        appendFileSync(target, `${record}\n`);
      } catch {
        write(`DD_EXTENSION_CHECKPOINTS ${record}\n`);
      }
    } else if (/^(1|true|stdout)$/i.test(target)) {
      write(`DD_EXTENSION_CHECKPOINTS ${record}\n`);
    }
  }
}
