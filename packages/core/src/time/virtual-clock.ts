import type { Clock, TimerHandle } from './clock.js';

interface VirtualTimer {
  readonly id: number;
  readonly dueAt: number;
  readonly fn: () => void;
}

/**
 * A clock that moves only when told to. Timers fire in due order (ties in scheduling order) as
 * `advance` passes their due time, and a timer scheduled by a firing timer within the same
 * advance fires in it too, so a chain of timeouts behaves as it would in real time.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock(Date.parse('2026-01-01T00:00:00Z'));
 * let fired = false;
 * clock.setTimeout(() => { fired = true; }, 1000);
 * clock.advance(999); // fired === false
 * clock.advance(1);   // fired === true
 * ```
 */
export class VirtualClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers = new Map<number, VirtualTimer>();

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.#timers.set(id, { id, dueAt: this.#now + delay, fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number') this.#timers.delete(handle);
  }

  /** How many timers are scheduled and not yet fired. */
  pendingTimers(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance: ms must be a finite number >= 0, got ${ms}`);
    this.advanceTo(this.#now + ms);
  }

  /** Moves time forward to `targetMs` (never backwards), firing due timers in order. */
  advanceTo(targetMs: number): void {
    if (targetMs < this.#now) throw new RangeError(`advanceTo: time cannot go back (${targetMs} < ${this.#now})`);
    for (;;) {
      const next = this.#earliestDue(targetMs);
      if (next === undefined) break;
      this.#timers.delete(next.id);
      this.#now = next.dueAt;
      next.fn();
    }
    this.#now = targetMs;
  }

  #earliestDue(limit: number): VirtualTimer | undefined {
    let best: VirtualTimer | undefined;
    for (const timer of this.#timers.values()) {
      if (timer.dueAt > limit) continue;
      if (best === undefined || timer.dueAt < best.dueAt || (timer.dueAt === best.dueAt && timer.id < best.id)) best = timer;
    }
    return best;
  }
}
