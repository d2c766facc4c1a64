/**
 * The long polls in flight on one server: it sheds load beyond `maxWaitingPolls` (529 with
 * `retry-after`), keeps the waiting-polls gauge, and lets shutdown answer them all at once.
 */
import type { Gauge } from 'prom-client';
import { ApiError } from './api-error.js';

/** Seconds a shed poll is told to wait. */
const SHED_RETRY_AFTER_SECONDS = 1;

export class PollGate {
  readonly #max: number;
  readonly #gauge: Gauge;
  readonly #onShed: () => void;
  readonly #waiting = new Set<AbortController>();

  constructor(maxWaitingPolls: number, gauge: Gauge, onShed: () => void) {
    this.#max = maxWaitingPolls;
    this.#gauge = gauge;
    this.#onShed = onShed;
  }

  /** Admits a long poll and returns the controller that aborts it; throws 529 when full. */
  enter(): AbortController {
    if (this.#waiting.size >= this.#max) {
      this.#onShed();
      throw ApiError.overloaded('too many polls are waiting on this control plane; retry later', SHED_RETRY_AFTER_SECONDS);
    }
    const controller = new AbortController();
    this.#waiting.add(controller);
    this.#gauge.set(this.#waiting.size);
    return controller;
  }

  leave(controller: AbortController): void {
    this.#waiting.delete(controller);
    this.#gauge.set(this.#waiting.size);
  }

  /** Aborts every waiting poll: each then answers `null` at once. */
  abortAll(): void {
    for (const controller of this.#waiting) controller.abort();
  }
}
