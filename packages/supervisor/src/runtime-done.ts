// `end` flushing waits for the invocation's platform.runtimeDone, so the invocation's own data is in
// its flush. The record may come before the wait starts (kept, 64 at most) or never (the wait ends
// at the invocation's deadline).
import type { Logger } from '@dd-lambda/logger';
import type { PlatformEvent } from '@dd-lambda/protocol';

const REMEMBERED = 64;

export class RuntimeDoneWaiter {
  readonly #log: Logger;
  readonly #waiting = new Map<string, () => void>();
  readonly #done = new Set<string>();

  constructor(logger: Logger) {
    this.#log = logger;
  }

  onPlatform(events: readonly PlatformEvent[]): void {
    for (const e of events) {
      if (e.type !== 'platform.runtimeDone') continue;
      const id = (e.record as { requestId?: unknown } | null)?.requestId;
      if (typeof id !== 'string') continue;
      const waiter = this.#waiting.get(id);
      if (waiter) waiter();
      else {
        this.#done.add(id);
        if (this.#done.size > REMEMBERED) this.#done.delete(this.#done.values().next().value as string);
      }
    }
  }

  async wait(requestId: string, deadlineMs: number): Promise<void> {
    if (this.#done.delete(requestId)) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(
        () => {
          this.#waiting.delete(requestId);
          this.#log.warn({ requestId }, 'no platform.runtimeDone before the invocation deadline; flushing anyway');
          resolve();
        },
        Math.max(0, deadlineMs - Date.now()),
      );
      timer.unref();
      this.#waiting.set(requestId, () => {
        clearTimeout(timer);
        this.#waiting.delete(requestId);
        resolve();
      });
    });
  }
}
