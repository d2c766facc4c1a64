/**
 * The long polls waiting on one environment, in arrival order, so that the first to arrive is the
 * first served. It also tracks the smallest `reclaim_older_than_ms` among them, which tells when
 * the next delivered-but-unacked item can be reclaimed by any of them.
 */

/** A poll waiting for an item. */
export interface PollWaiter<W> {
  /** `reclaim_older_than_ms` of that poll, in microseconds. */
  readonly reclaimMicros: number;
  /** Hands the poll its answer and releases its timer and abort listener. Called at most once. */
  readonly finish: (answer: W | null) => void;
}

export class PollWaiters<W> {
  readonly #waiters = new Set<PollWaiter<W>>();
  /** How many waiters use each reclaim age; a handful of distinct values in practice. */
  readonly #reclaimCounts = new Map<number, number>();

  get size(): number {
    return this.#waiters.size;
  }

  add(waiter: PollWaiter<W>): void {
    this.#waiters.add(waiter);
    this.#reclaimCounts.set(waiter.reclaimMicros, (this.#reclaimCounts.get(waiter.reclaimMicros) ?? 0) + 1);
  }

  /** Removes a waiter; returns `false` when it was already gone (served, timed out or aborted). */
  remove(waiter: PollWaiter<W>): boolean {
    if (!this.#waiters.delete(waiter)) return false;
    const count = (this.#reclaimCounts.get(waiter.reclaimMicros) ?? 1) - 1;
    if (count === 0) this.#reclaimCounts.delete(waiter.reclaimMicros);
    else this.#reclaimCounts.set(waiter.reclaimMicros, count);
    return true;
  }

  /** The smallest reclaim age among the waiters, `Infinity` when there are none. */
  minReclaimMicros(): number {
    let min = Infinity;
    for (const reclaim of this.#reclaimCounts.keys()) if (reclaim < min) min = reclaim;
    return min;
  }

  /** The waiters, first arrival first. Removing the current one while iterating is safe. */
  [Symbol.iterator](): IterableIterator<PollWaiter<W>> {
    return this.#waiters.values();
  }
}
