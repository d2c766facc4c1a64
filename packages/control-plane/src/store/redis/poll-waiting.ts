/**
 * The long polls of one environment waiting in this process, first arrival first, with the one
 * clock timer that wakes them when the next lease ends or the next delivery becomes reclaimable.
 * Waiting holds no Redis connection: a waiter is retried when this process enqueues, when another
 * replica enqueues or re-queues (a pub/sub message), and when that timer fires.
 */
import type { TimerHandle, Work } from '@envworker/core';

/** A poll waiting for an item. */
export interface RedisPollWaiter {
  /** `reclaim_older_than_ms` of that poll, in microseconds. */
  readonly reclaimMicros: number;
  /** Hands the poll its answer and releases its timer and abort listener. Called at most once. */
  readonly finish: (answer: Work | null) => void;
}

export class EnvironmentWaiters {
  readonly waiters = new Set<RedisPollWaiter>();
  timer: { readonly handle: TimerHandle; readonly dueAt: number } | undefined;
  /** A retry pass is running; `again` asks it for one more pass (something changed meanwhile). */
  serving = false;
  again = false;
  /** Counts wake-ups, so a poll can tell whether one came while it was registering. */
  wakes = 0;
}
