/**
 * A virtual clock that records every delay the client asks of it, so tests assert timeouts and
 * backoff sleeps exactly instead of measuring wall time. `autoAdvanceSleeps` lets a retry loop
 * run to its end in virtual time: each sleep is advanced through as soon as it is scheduled,
 * while the attempt timeout (a distinctive value the test chooses) is left alone.
 */
import type { Clock, TimerHandle } from '../../src/time/clock.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';

/** 2026-11-28T17:00:00Z, a whole second, so HTTP dates in `retry-after` are exact. */
export const CLOCK_START_MS = Date.parse('2026-11-28T17:00:00Z');

export class RecordingClock implements Clock {
  readonly virtual = new VirtualClock(CLOCK_START_MS);
  /** Every delay passed to `setTimeout`, in order. */
  readonly requested: number[] = [];
  #onSchedule: ((ms: number) => void) | undefined;

  now(): number {
    return this.virtual.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    this.requested.push(ms);
    const handle = this.virtual.setTimeout(fn, ms);
    this.#onSchedule?.(ms);
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.virtual.clearTimeout(handle);
  }

  advance(ms: number): void {
    this.virtual.advance(ms);
  }

  /**
   * From now on, every timer other than one of `attemptTimeoutMs` is a backoff sleep: it is
   * recorded in the returned array, `beforeWake` runs, and time advances through it.
   */
  autoAdvanceSleeps(attemptTimeoutMs: number, beforeWake?: (ms: number) => Promise<void>): number[] {
    const sleeps: number[] = [];
    this.#onSchedule = (ms) => {
      if (ms === attemptTimeoutMs) return;
      sleeps.push(ms);
      // Advance after the client has finished scheduling, never inside its setTimeout call.
      void Promise.resolve()
        .then(() => beforeWake?.(ms))
        .then(() => this.virtual.advance(ms));
    };
    return sleeps;
  }
}
