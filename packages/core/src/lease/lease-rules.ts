/**
 * The lease rules (contract §7, items 2–5) as pure functions of (previous lease, the beat's
 * answer or error, its send time, now). They hold every decision about a lease; the heartbeat
 * stream only runs them on a clock and does the I/O, and the property tests drive them directly.
 *
 * All times are milliseconds on the stream's clock.
 */
import type { WorkApiError } from '../api/errors.js';
import { DEFAULT_LEASE, NO_HEARTBEAT, type HeartbeatResponse } from '../api/wire.js';
import type { LeaseEvent } from './lease-events.js';

/** What this worker knows of one item's lease. Immutable: every rule returns a new value. */
export interface Lease {
  /**
   * The `expected_last_heartbeat` of the next beat: {@link NO_HEARTBEAT} until the first answer
   * that extended the lease, then that answer's `last_heartbeat`, exactly as the server wrote it.
   */
  readonly expected: string;
  /**
   * The send time of the last beat that extended the lease (initially the send time of the ack).
   * The send time, not the answer's arrival: the server extended the lease no earlier than the
   * beat left, so measuring from here never keeps a sandbox longer than a TTL past the last
   * moment the lease was known to be good.
   */
  readonly lastGoodSentAt: number;
  /** The TTL of the lease in seconds: the last extending answer's `ttl_seconds`. */
  readonly ttlSeconds: number;
  /** Whether `stop_requested` was already emitted (it is emitted once). */
  readonly stopRequested: boolean;
}

/** The outcome of one rule: the next lease, the event to emit if any, and whether the stream ends. */
export interface LeaseStep {
  readonly lease: Lease;
  readonly event?: LeaseEvent;
  /** True exactly when `event` is `stopped` or `lost`: the stream completes after it. */
  readonly terminal: boolean;
}

/** Options of {@link initialLease}. */
export interface InitialLeaseOptions {
  /** Clock time the ack was sent: the lease is taken as good from then. */
  readonly leaseStartedAt: number;
  /** The TTL assumed until the first answer tells the real one; default {@link DEFAULT_INITIAL_TTL_SECONDS}. */
  readonly initialTtlSeconds?: number | undefined;
}

/**
 * The TTL assumed before the first answer: the contract's minimum TTL (10 s). After an ack the
 * server holds the item for its default TTL (120 s on the contract's defaults), but a server may
 * be configured with a shorter one, and no TTL it can apply is below its minimum, so assuming the
 * minimum never keeps a sandbox running on a lease the server may already have dropped.
 */
export const DEFAULT_INITIAL_TTL_SECONDS = DEFAULT_LEASE.minTtlSeconds;

/** Bounds of {@link beatIntervalMs}, in milliseconds. */
export const BEAT_INTERVAL_BOUNDS = {
  /** No faster than once a second, whatever the TTL: a beat is a request to a shared server. */
  minMs: 1_000,
  /** No slower than every 30 s, so a long TTL still notices a stop request soon. */
  maxMs: 30_000,
} as const;

/** The lease of a freshly acked item, before any beat. Throws a `RangeError` naming a bad field. */
export function initialLease(options: InitialLeaseOptions): Lease {
  const { leaseStartedAt, initialTtlSeconds = DEFAULT_INITIAL_TTL_SECONDS } = options;
  if (typeof leaseStartedAt !== 'number' || !Number.isFinite(leaseStartedAt)) {
    throw new RangeError('leaseStartedAt must be a finite number (clock milliseconds)');
  }
  if (typeof initialTtlSeconds !== 'number' || !Number.isFinite(initialTtlSeconds) || initialTtlSeconds <= 0) {
    throw new RangeError('initialTtlSeconds must be a finite number > 0');
  }
  return { expected: NO_HEARTBEAT, lastGoodSentAt: leaseStartedAt, ttlSeconds: initialTtlSeconds, stopRequested: false };
}

/** When the lease goes stale: a whole TTL after the send time of the last good beat. */
export function staleAt(lease: Lease): number {
  return lease.lastGoodSentAt + lease.ttlSeconds * 1000;
}

/**
 * How long after one beat was sent the next one goes out (and how long a beat may take before
 * it is cut off): a third of the TTL, between 1 s and 30 s, in whole milliseconds.
 *
 * Why a third: each beat is cut off after one interval, so beats sent at 0, ⅓ and ⅔ of the TTL
 * have all ended by the TTL. If one of them is cut off or fails, two more still fit before the
 * lease goes stale, which is the contract's "at least two beats in every TTL window" with one to
 * spare. A half would leave no room for a beat that is cut off.
 */
export function beatIntervalMs(ttlSeconds: number): number {
  const third = Math.floor((ttlSeconds * 1000) / 3);
  return Math.min(BEAT_INTERVAL_BOUNDS.maxMs, Math.max(BEAT_INTERVAL_BOUNDS.minMs, third));
}

/**
 * The rule for a beat the server answered (2xx), sent at `sentAt` and answered at `now`;
 * `lateMs` is how long after its due time it was sent (see {@link beatDueAt}), carried on `renewed`.
 *
 * - `state: stopped`: `stopped`, terminal.
 * - `state: stopping` or `lease_extended: false`: `stop_requested` the first time; afterwards
 *   `renewed` while the lease is still extended (the holder keeps beating while its sandbox winds
 *   down), and no event for an answer that did not extend it.
 * - otherwise: `renewed`.
 *
 * An answer that extended the lease sets `expected` to its `last_heartbeat`, `lastGoodSentAt` to
 * `sentAt` and `ttlSeconds` to its `ttl_seconds`; one that did not leaves the lease as it was.
 */
export function applyBeatAnswer(lease: Lease, answer: HeartbeatResponse, sentAt: number, now: number, lateMs = 0): LeaseStep {
  if (answer.state === 'stopped') {
    return { lease, event: { type: 'stopped', at: now, response: answer }, terminal: true };
  }
  const extended = answer.lease_extended;
  const next: Lease = extended
    ? {
        expected: answer.last_heartbeat,
        // Beats never overlap, so send times only grow; `max` keeps the rule monotone anyway.
        lastGoodSentAt: Math.max(lease.lastGoodSentAt, sentAt),
        ttlSeconds: answer.ttl_seconds,
        stopRequested: lease.stopRequested,
      }
    : lease;
  const stopAsked = answer.state === 'stopping' || !extended;
  if (stopAsked && !lease.stopRequested) {
    return { lease: { ...next, stopRequested: true }, event: { type: 'stop_requested', at: now, response: answer }, terminal: false };
  }
  if (!extended) return { lease: next, terminal: false };
  return {
    lease: next,
    event: { type: 'renewed', at: now, response: answer, latencyMs: Math.max(0, now - sentAt), lateMs },
    terminal: false,
  };
}

/**
 * The rule for a beat that failed at `now`.
 *
 * - 412: `lost` (`precondition`), with the server's `current_state` when it sent one; terminal.
 * - 409 (the item is still queued: it was never acknowledged, or was re-queued) and every other
 *   error that is not transient (401, 403, 404, 400, an unreadable answer…): `lost` (`fatal`);
 *   terminal. The stream never passes its own abort here: it has stopped listening by then.
 * - transient (408, 429, 5xx, 529, timeout, connection error): no event and the lease unchanged,
 *   unless a whole TTL has passed since the last good beat was sent: then `lost` (`stale`).
 */
export function applyBeatError(lease: Lease, error: WorkApiError, now: number): LeaseStep {
  if (error.status === 412) {
    const currentState = error.currentState;
    const event: LeaseEvent =
      currentState === null
        ? { type: 'lost', at: now, reason: 'precondition', error }
        : { type: 'lost', at: now, reason: 'precondition', currentState, error };
    return { lease, event, terminal: true };
  }
  if (error.status === 409 || !error.isTransient()) {
    return { lease, event: { type: 'lost', at: now, reason: 'fatal', error }, terminal: true };
  }
  return checkStale(lease, now);
}

/** `lost` (`stale`), terminal, once a whole TTL has passed since the last good beat was sent; else nothing. */
export function checkStale(lease: Lease, now: number): LeaseStep {
  if (now >= staleAt(lease)) return { lease, event: { type: 'lost', at: now, reason: 'stale' }, terminal: true };
  return { lease, terminal: false };
}

/**
 * When the next beat is due, given the beat that was sent at `sentAt` and settled at `now`
 * without ending the lease: one interval (of the lease's current TTL) after that send time. If
 * the server asked for a wait (`retry-after-ms` or `retry-after`, as a 429 or 529 does), that wait
 * from now instead, but never past the moment the lease goes stale. A beat sent after its due
 * time is late by the difference: the previous beat's answer came after it, or the timer fired late.
 */
export function beatDueAt(lease: Lease, sentAt: number, now: number, error?: WorkApiError): number {
  const retryAfterMs = error?.retryAfterMs;
  if (retryAfterMs !== undefined && retryAfterMs !== null) {
    return now + Math.min(Math.max(0, retryAfterMs), Math.max(0, staleAt(lease) - now));
  }
  return sentAt + beatIntervalMs(lease.ttlSeconds);
}

/** When the next beat goes out: at its due time ({@link beatDueAt}), or at once if that has passed. */
export function nextBeatAt(lease: Lease, sentAt: number, now: number, error?: WorkApiError): number {
  return Math.max(now, beatDueAt(lease, sentAt, now, error));
}
