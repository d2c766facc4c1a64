/**
 * Time as a dependency. Everything in envworker that waits or reads the time takes a `Clock`, so
 * tests can run leases, timeouts and expiries in virtual time instead of sleeping. The timer half
 * has the shape of xstate's clock, so one object drives the actors' `after` timers too.
 */

/** An opaque handle of a scheduled timer. */
export type TimerHandle = unknown;

/** The time source and timer scheduler that envworker components run on. */
export interface Clock {
  /** Milliseconds since the Unix epoch; may carry a fraction (sub-millisecond precision). */
  now(): number;
  /** Calls `fn` once, `ms` milliseconds from now. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; cancelling one that already ran or was cancelled is a no-op. */
  clearTimeout(handle: TimerHandle): void;
}

/** The wall clock with microsecond precision, and Node's own timers. */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
