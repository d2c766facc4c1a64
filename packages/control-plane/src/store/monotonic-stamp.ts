/**
 * The time source of a store's timestamps: the injected clock in whole microseconds, but never
 * the same value twice and never going back. That makes `created_at` unique (a total order for
 * list pagination) and `last_heartbeat` strictly increasing (a fencing token), even when two
 * calls fall in the same microsecond or a clock stands still, as a virtual one does.
 */
import { millisToMicros, type Clock } from '@envworker/core';

export class MonotonicStamp {
  readonly #clock: Clock;
  #last = -1;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The clock's reading in microseconds, as is (for comparisons against deadlines). */
  nowMicros(): number {
    return millisToMicros(this.#clock.now());
  }

  /** A fresh timestamp: the clock's reading, or one microsecond past the previous stamp if that is later. */
  next(): number {
    this.#last = Math.max(this.nowMicros(), this.#last + 1);
    return this.#last;
  }
}
