/**
 * The distinct `Anthropic-Worker-ID`s that polled an environment recently (`workers_polling` of
 * the stats). Each poll moves its worker to the end of a map, so the map stays in order of last
 * poll and forgetting the stale ones only ever looks at its head.
 */

/** How far back a poll counts for `workers_polling` (contract §3). */
export const WORKERS_POLLING_WINDOW_MICROS = 30_000_000;

export class RecentWorkers {
  readonly #lastPollAt = new Map<string, number>();

  /** Records a poll by `workerId` at `nowMicros`. */
  record(workerId: string, nowMicros: number): void {
    this.#lastPollAt.delete(workerId);
    this.#lastPollAt.set(workerId, nowMicros);
    this.#forgetStale(nowMicros);
  }

  /** How many distinct workers polled within the window ending at `nowMicros`. */
  count(nowMicros: number): number {
    this.#forgetStale(nowMicros);
    return this.#lastPollAt.size;
  }

  #forgetStale(nowMicros: number): void {
    for (const [workerId, at] of this.#lastPollAt) {
      if (nowMicros - at <= WORKERS_POLLING_WINDOW_MICROS) break;
      this.#lastPollAt.delete(workerId);
    }
  }
}
