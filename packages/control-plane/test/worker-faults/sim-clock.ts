/**
 * Time for the fault simulation: ONE `VirtualClock` under everything, seen through two kinds of
 * view.
 *
 * - `TrackedClock` is the clock of the control plane and of the network (the fault proxies). It
 *   passes every timer to the virtual clock and remembers when each is due, so the driver can move
 *   time from one due timer to the next and let the real I/O that each one starts settle in between.
 *   (Moving a `VirtualClock` far in one call fires every timer on the way without running any I/O
 *   between them: a beat would be cut off by its own timeout before its answer could arrive.)
 * - `FreezableClock` is one worker's view (its actors, its client, its sandboxes). Freezing it is
 *   how the test suspends a worker process: the wall clock goes on (`now()` keeps moving, as it does
 *   for a stopped process), but no timer of the worker runs; the ones that fell due while it was
 *   frozen run on `thaw()`, in due order, as a process resumed after SIGSTOP runs its overdue timers.
 */
import type { Clock, TimerHandle, VirtualClock } from '@envworker/core';

/** A `Clock` over a `VirtualClock` that knows when its next timer is due. */
export class TrackedClock implements Clock {
  readonly #clock: VirtualClock;
  readonly #due = new Map<TimerHandle, number>();

  constructor(clock: VirtualClock) {
    this.#clock = clock;
  }

  now(): number {
    return this.#clock.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    // The same rule as VirtualClock: anything but a positive finite delay is due now.
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const handle = this.#clock.setTimeout(() => {
      this.#due.delete(handle);
      fn();
    }, delay);
    this.#due.set(handle, this.#clock.now() + delay);
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#due.delete(handle);
    this.#clock.clearTimeout(handle);
  }

  /** Clock time of the earliest pending timer, if any. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const dueAt of this.#due.values()) if (next === undefined || dueAt < next) next = dueAt;
    return next;
  }
}

interface ViewTimer {
  handle: TimerHandle;
  readonly fn: () => void;
  /** Cleared, or already run: it must not run (again). */
  done: boolean;
}

/** One worker's view of the shared clock, which can be frozen and thawed. */
export class FreezableClock implements Clock {
  readonly #base: Clock;
  readonly #timers = new Map<TimerHandle, ViewTimer>();
  /** Timers that fell due while frozen, in the order they fell due. */
  #overdue: ViewTimer[] = [];
  #frozen = false;

  constructor(base: Clock) {
    this.#base = base;
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  now(): number {
    return this.#base.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: ViewTimer = { handle: undefined, fn, done: false };
    timer.handle = this.#base.setTimeout(() => {
      if (timer.done) return;
      if (this.#frozen) this.#overdue.push(timer);
      else this.#run(timer);
    }, ms);
    this.#timers.set(timer.handle, timer);
    return timer.handle;
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = this.#timers.get(handle);
    if (timer !== undefined) timer.done = true;
    this.#timers.delete(handle);
    this.#base.clearTimeout(handle);
  }

  freeze(): void {
    this.#frozen = true;
  }

  /** Resumes the worker: runs every timer that fell due while it was frozen (unless one of them clears another). */
  thaw(): void {
    this.#frozen = false;
    const overdue = this.#overdue;
    this.#overdue = [];
    for (const timer of overdue) if (!timer.done) this.#run(timer);
  }

  #run(timer: ViewTimer): void {
    timer.done = true;
    this.#timers.delete(timer.handle);
    timer.fn();
  }
}
