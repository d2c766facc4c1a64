/**
 * When a work item's ack or its final stop call failed: try again (after how long) or give up.
 * Pure functions of the error, the attempt count and the time, so the property tests drive them
 * directly; randomness (the backoff jitter) is a parameter.
 */
import { WorkApiError } from '../api/errors.js';
import { retryDelay, type RetryPolicy } from '../api/retry.js';

/** What to do after a failed call. */
export type RetryDecision = { readonly action: 'retry'; readonly delayMs: number } | { readonly action: 'give_up' };

/** What {@link ackFailureDecision} weighs. */
export interface AckFailureContext {
  /** Failed attempts before this one (0 after the first failure). */
  readonly attempt: number;
  /** Milliseconds since the poll answered. */
  readonly elapsedMs: number;
  /** The reclaim window: after it, the server may hand the item to another poller. */
  readonly windowMs: number;
  readonly policy: RetryPolicy;
  readonly random: () => number;
}

/**
 * After a failed ack (contract §7.1): retry a transient failure as long as the retry would still
 * be sent within the reclaim window since the poll; give up on anything else. A 409 is a refusal
 * (the item is not deliverable to this worker any more) whatever the `x-should-retry` header says.
 * Acking after the window could take an item the server has meanwhile handed to someone else.
 */
export function ackFailureDecision(error: unknown, context: AckFailureContext): RetryDecision {
  if (!(error instanceof WorkApiError) || error.status === 409 || !error.isTransient()) return { action: 'give_up' };
  const delayMs = retryDelay(context.attempt, context.policy, context.random, error.retryAfterMs);
  if (context.elapsedMs + delayMs >= context.windowMs) return { action: 'give_up' };
  return { action: 'retry', delayMs };
}

/** What to do after a failed `stop {force:true}`. */
export type StopCallDecision = RetryDecision | { readonly action: 'already_stopped' };

/**
 * After a failed final `stop {force:true}`: a 409 means the item is already stopped, which is
 * what the call wanted (contract §2); a transient failure is retried up to `policy.maxRetries`
 * times with backoff; anything else gives up.
 */
export function stopCallDecision(
  error: unknown,
  attempt: number,
  policy: RetryPolicy,
  random: () => number,
): StopCallDecision {
  if (error instanceof WorkApiError && error.status === 409) return { action: 'already_stopped' };
  if (!(error instanceof WorkApiError) || !error.isTransient() || attempt >= policy.maxRetries) return { action: 'give_up' };
  return { action: 'retry', delayMs: retryDelay(attempt, policy, random, error.retryAfterMs) };
}
