/**
 * The sandboxes of the simulation: core's real `functionRuntime`, running a work function that
 * works for the item's `duration_ms` (metadata) of the worker's virtual time, or until its signal
 * fires, and writes its start and end to the journal. The function honours its signal at once: a
 * function that ignored it could only be abandoned by the in-process runtime, which is that
 * runtime's documented limit, not the worker's.
 *
 * Work directories are kept (`keepWorkdir`) so that a sandbox's exit involves no file I/O that
 * `settle()` could not see; the test removes the whole root at the end. Each start (which creates
 * a directory) is counted as activity until it settles.
 */
import { functionRuntime, type Clock, type SandboxRuntime, type Work, type WorkContext } from '@envworker/core';
import type { Journal } from './journal.js';

/** The metadata key holding how long an item's work takes, in virtual milliseconds. */
export const DURATION_KEY = 'duration_ms';

/** Counts promises in progress. */
export class Activity {
  #pending = 0;

  get pending(): number {
    return this.#pending;
  }

  track<T>(promise: Promise<T>): Promise<T> {
    this.#pending += 1;
    return promise.finally(() => {
      this.#pending -= 1;
    });
  }
}

/** A function runtime for worker `worker`, on that worker's clock view. */
export function journaledRuntime(worker: string, clock: Clock, journal: Journal, activity: Activity): SandboxRuntime {
  const work = (item: Work, ctx: WorkContext): Promise<void> =>
    new Promise<void>((resolve) => {
      const run = journal.start(worker, item.id, clock.now());
      const end = (how: 'finished' | 'aborted'): void => {
        if (run.endedAt !== null) return;
        clock.clearTimeout(timer);
        journal.end(run, clock.now(), how);
        resolve();
      };
      const timer = clock.setTimeout(() => end('finished'), Number(item.metadata[DURATION_KEY] ?? '0'));
      if (ctx.signal.aborted) end('aborted');
      else ctx.signal.addEventListener('abort', () => end('aborted'), { once: true });
    });
  const inner = functionRuntime(work, { clock, keepWorkdir: true, logLevel: 'silent' });
  return {
    name: `journaled-${worker}`,
    start: (spec, signal) => activity.track(inner.start(spec, signal)),
  };
}
