/**
 * The health rule of `/healthz`: a worker is unhealthy when the control plane has not answered
 * for two heartbeat intervals, or when its poll loop is stuck (a slot is free, yet no poll has
 * come back for far longer than a poll can take). The rule is a pure function of the facts;
 * `HealthTracker` gathers the facts from the worker's events.
 */
import {
  beatIntervalMs,
  DEFAULT_INITIAL_TTL_SECONDS,
  POLL_LIMITS,
  type WorkerEvent,
  type WorkerLifecycle,
  type WorkerStatus,
} from '@envworker/core';
import type { Observable, Subscription } from 'rxjs';

/**
 * How long one poll call may take before the loop counts as stuck, beyond the silence limit and
 * the announced backoff: the client's 30 s timeout, its own retries of a poll that never reached
 * the server, and their backoff. A loop that hangs for real is silent far longer; one that is
 * merely slow is caught by the silence rule first.
 */
export const POLL_CALL_ALLOWANCE_MS = 60_000;

/** What the rule looks at. Times are on one clock, in milliseconds. */
export interface HealthFacts {
  readonly now: number;
  /** When the worker started polling. */
  readonly startedAt: number;
  readonly lifecycle: WorkerLifecycle;
  readonly slots: { readonly max: number; readonly busy: number };
  /** The control plane's last answer to any call, errors included; `null`: none yet. */
  readonly lastAnswerAt: number | null;
  /** The last time the poll loop reported (a claim, an empty poll, an error) or a slot came free. */
  readonly lastPollActivityAt: number | null;
  /** The backoff the poll loop announced with its last report (after an error), else 0. */
  readonly announcedPauseMs: number;
  /** The lease TTL in force: the last one granted, else the one asked for, else the worker's assumption. */
  readonly ttlSeconds: number;
  /** The longest pause after an empty poll. */
  readonly pollIdleMaxMs: number;
}

/** The verdict, with the numbers behind it. */
export interface HealthReport {
  readonly healthy: boolean;
  /** What is wrong, one sentence each; empty when healthy. */
  readonly problems: readonly string[];
  /** Since the control plane last answered (or since the start, before its first answer). */
  readonly controlPlaneSilentMs: number;
  /** Silence beyond this is unhealthy: two heartbeat intervals, or two poll rounds when those are longer. */
  readonly silenceLimitMs: number;
}

/** While these, the worker talks to the control plane and a silence means trouble. */
const ACTIVE: readonly WorkerLifecycle[] = ['running', 'draining', 'stopping'];

/** Applies the health rule. */
export function assessHealth(facts: HealthFacts): HealthReport {
  // A worker holding no item talks to the control plane only by polling: one poll round is a long
  // poll and the pause after it, which may be longer than a heartbeat interval.
  const pollRoundMs = POLL_LIMITS.maxBlockMs + facts.pollIdleMaxMs;
  const silenceLimitMs = 2 * Math.max(beatIntervalMs(facts.ttlSeconds), pollRoundMs);
  const controlPlaneSilentMs = facts.now - (facts.lastAnswerAt ?? facts.startedAt);
  const problems: string[] = [];
  if (ACTIVE.includes(facts.lifecycle) && controlPlaneSilentMs > silenceLimitMs) {
    problems.push(`the control plane has not answered for ${seconds(controlPlaneSilentMs)} (limit ${seconds(silenceLimitMs)})`);
  }
  if (facts.lifecycle === 'running' && facts.slots.busy < facts.slots.max) {
    const quietMs = facts.now - Math.max(facts.lastPollActivityAt ?? facts.startedAt, facts.startedAt);
    const stuckAfterMs = silenceLimitMs + facts.announcedPauseMs + POLL_CALL_ALLOWANCE_MS;
    if (quietMs > stuckAfterMs) problems.push(`the poll loop is stuck: a slot is free but no poll came back for ${seconds(quietMs)}`);
  }
  if (facts.lifecycle === 'failed') problems.push('the worker stopped polling after an error it cannot recover from');
  return { healthy: problems.length === 0, problems, controlPlaneSilentMs, silenceLimitMs };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Gathers the facts of {@link assessHealth} from a worker's events. */
export class HealthTracker {
  readonly #subscription: Subscription;
  readonly #startedAt: number;
  readonly #requestedTtlSeconds: number | undefined;
  readonly #pollIdleMaxMs: number;
  #lastPollActivityAt: number | null = null;
  #announcedPauseMs = 0;
  #grantedTtlSeconds: number | null = null;

  /**
   * @param events the worker's events (subscribed at once).
   * @param startedAt when the worker started polling.
   * @param requestedTtlSeconds the TTL the worker asks for, if any.
   * @param pollIdleMaxMs the longest pause after an empty poll.
   */
  constructor(events: Observable<WorkerEvent>, startedAt: number, requestedTtlSeconds: number | undefined, pollIdleMaxMs: number) {
    this.#startedAt = startedAt;
    this.#requestedTtlSeconds = requestedTtlSeconds;
    this.#pollIdleMaxMs = pollIdleMaxMs;
    this.#subscription = events.subscribe({ next: (event) => this.#onEvent(event) });
  }

  /** The facts now, given the worker's status, the control plane's last answer and the time. */
  facts(status: WorkerStatus, lastAnswerAt: number | null, now: number): HealthFacts {
    return {
      now,
      startedAt: this.#startedAt,
      lifecycle: status.lifecycle,
      slots: { max: status.slots.max, busy: status.slots.busy },
      lastAnswerAt,
      lastPollActivityAt: this.#lastPollActivityAt,
      announcedPauseMs: this.#announcedPauseMs,
      ttlSeconds: this.#grantedTtlSeconds ?? this.#requestedTtlSeconds ?? DEFAULT_INITIAL_TTL_SECONDS,
      pollIdleMaxMs: this.#pollIdleMaxMs,
    };
  }

  /** Stops following the events. */
  stop(): void {
    this.#subscription.unsubscribe();
  }

  #onEvent(event: WorkerEvent): void {
    switch (event.type) {
      case 'claimed':
      case 'poll_empty':
        this.#pollActivity(event.at, 0);
        return;
      case 'poll_error':
        this.#pollActivity(event.at, event.retry_in_ms);
        return;
      case 'stopped':
        // The freed slot starts a poll; the loop is judged from here.
        this.#pollActivity(event.at, this.#announcedPauseMs);
        return;
      case 'lease_renewed':
        this.#grantedTtlSeconds = event.ttl_seconds;
        return;
      default:
        return;
    }
  }

  #pollActivity(at: number, pauseMs: number): void {
    this.#lastPollActivityAt = Math.max(this.#lastPollActivityAt ?? at, at);
    this.#announcedPauseMs = pauseMs;
  }
}
