/**
 * The `maxIdle` countdown of one session: once the session goes idle with its turn over (any stop
 * reason but `requires_action`) and nothing is left to do, the session is served for `maxIdleMs`
 * more and then ended, unless an event comes first. Calls held for a confirmation (and approved
 * calls still running) block the countdown: it starts, in full, when the last of them is done.
 * Event-driven on an injected clock: no polling.
 */
import type { Clock, TimerHandle } from '@envworker/core';

export class IdleClock {
  readonly #maxIdleMs: number;
  readonly #clock: Clock;
  readonly #onExpire: () => void;
  readonly #blockers = new Set<string>();
  #timer: TimerHandle | undefined;
  /** An arm that came while blockers were outstanding; the last unblock applies it. */
  #armPending = false;

  /** `maxIdleMs <= 0` never expires (the session is served until it ends or is stopped). */
  constructor(maxIdleMs: number, clock: Clock, onExpire: () => void) {
    this.#maxIdleMs = maxIdleMs;
    this.#clock = clock;
    this.#onExpire = onExpire;
  }

  /** Whether the countdown is running. */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /** (Re)starts the countdown, or keeps it pending while gated calls are outstanding. */
  arm(): void {
    if (this.#maxIdleMs <= 0) return;
    if (this.#blockers.size > 0) {
      this.#armPending = true;
      return;
    }
    this.#armPending = false;
    this.#clearTimer();
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#onExpire();
    }, this.#maxIdleMs);
  }

  /** Cancels the countdown and any pending arm (blockers stay: they are real work). */
  disarm(): void {
    this.#armPending = false;
    this.#clearTimer();
  }

  /** A gated call appeared: no countdown may run over it. */
  block(callId: string): void {
    this.#blockers.add(callId);
    if (this.#timer !== undefined) {
      this.#clearTimer();
      this.#armPending = true;
    }
  }

  /** A gated call is done; the last one applies a pending arm with a fresh full window. */
  unblock(callId: string): void {
    if (!this.#blockers.delete(callId)) return;
    if (this.#blockers.size === 0 && this.#armPending) this.arm();
  }

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
