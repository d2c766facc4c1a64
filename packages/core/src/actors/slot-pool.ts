/**
 * The worker's slots: at most `max` work items (and the polls that may bring one) at a time. The
 * supervisor owns the pool; a poll takes a slot before it goes out and hands it to the item it
 * brings back, or gives it back when it brings nothing.
 */
import { Observable } from 'rxjs';

/** One taken slot. `release` gives it back; calling it again does nothing. */
export interface Slot {
  release(): void;
}

/** Where slots come from, as the poll stream sees it. */
export interface SlotSource {
  /**
   * Emits one slot as soon as one is free, then completes. Unsubscribing before that gives up
   * the place in line; after it, the subscriber owns the slot and must release it.
   */
  acquire$(): Observable<Slot>;
}

/** A fixed number of slots, handed out first come, first served. */
export class SlotPool implements SlotSource {
  readonly max: number;
  #taken = 0;
  readonly #waiters: Array<(slot: Slot) => void> = [];

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('max must be an integer >= 1');
    this.max = max;
  }

  /** Slots taken now. */
  get taken(): number {
    return this.#taken;
  }

  /** Slots free now. */
  get free(): number {
    return this.max - this.#taken;
  }

  acquire$(): Observable<Slot> {
    return new Observable<Slot>((subscriber) => {
      const grant = (slot: Slot): void => {
        subscriber.next(slot);
        subscriber.complete();
      };
      if (this.#taken < this.max) {
        grant(this.#take());
        return undefined;
      }
      this.#waiters.push(grant);
      return () => {
        const index = this.#waiters.indexOf(grant);
        if (index !== -1) this.#waiters.splice(index, 1);
      };
    });
  }

  #take(): Slot {
    this.#taken += 1;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#taken -= 1;
        const next = this.#waiters.shift();
        if (next !== undefined) next(this.#take());
      },
    };
  }
}
