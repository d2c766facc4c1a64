/**
 * The real memory store, observed: it counts the long polls it holds. A poll the proxy forwarded
 * is either parked here (quiet: it waits for the virtual clock or an enqueue) or still on its way
 * through the HTTP layer (busy); `settle()` tells the two apart by this count.
 */
import type { Work } from '@envworker/core';
import { MemoryWorkStore, type PollInput } from '../../src/index.js';

export class ObservedStore extends MemoryWorkStore {
  #waiting = 0;

  /** Long polls that have not been answered yet. */
  get waitingPolls(): number {
    return this.#waiting;
  }

  override poll(environmentId: string, input: PollInput): Promise<Work | null> {
    const answer = super.poll(environmentId, input);
    if (input.blockMs === undefined) return answer;
    this.#waiting += 1;
    return answer.finally(() => {
      this.#waiting -= 1;
    });
  }
}
