/**
 * The retry policy of the Work API client (contract §2): exponential backoff with full jitter and
 * a cap, unless the server names its own delay. Pure: randomness is a parameter, so the delays are
 * property-tested directly.
 */
import { requireInteger } from './validate.js';

/** How often and how patiently a failed call is repeated. */
export interface RetryPolicy {
  /** Retries after the first attempt (so at most `maxRetries + 1` attempts). */
  readonly maxRetries: number;
  /** The backoff ceiling of the first retry; it doubles with every retry after that. */
  readonly baseDelayMs: number;
  /** The highest backoff ceiling, whatever the attempt. */
  readonly maxDelayMs: number;
}

/** 3 retries, ceilings 500 ms, 1 s, 2 s, … up to 8 s. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ maxRetries: 3, baseDelayMs: 500, maxDelayMs: 8000 });

/** The longest wait a server's `retry-after` can impose; a longer one is cut to this. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** Past this exponent the ceiling is `maxDelayMs` for any sane base, and `2 ** n` stays finite. */
const MAX_EXPONENT = 1000;

/**
 * Fills in the defaults of a partial policy and checks it; errors name the field (`retry.maxRetries`).
 */
export function resolveRetryPolicy(partial: Partial<RetryPolicy> = {}, name = 'retry'): RetryPolicy {
  const maxRetries = requireInteger(partial.maxRetries ?? DEFAULT_RETRY_POLICY.maxRetries, `${name}.maxRetries`, 0, 100);
  const baseDelayMs = requireInteger(partial.baseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs, `${name}.baseDelayMs`, 0);
  const maxDelayMs = requireInteger(partial.maxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs, `${name}.maxDelayMs`, 0);
  if (maxDelayMs < baseDelayMs) throw new RangeError(`${name}.maxDelayMs must be >= ${name}.baseDelayMs`);
  return { maxRetries, baseDelayMs, maxDelayMs };
}

/**
 * The backoff before retry number `attempt + 1` (attempt 0 is the first retry): full jitter,
 * `random() * min(maxDelayMs, baseDelayMs * 2 ** attempt)`. `random` returns a number in [0, 1).
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), MAX_EXPONENT);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  const sample = random();
  const jitter = Number.isFinite(sample) ? Math.min(Math.max(sample, 0), 1) : 0;
  return jitter * ceiling;
}

/**
 * The wait before the next retry: the server's `retry-after` when it gave one (at most
 * {@link MAX_RETRY_AFTER_MS}), else {@link backoffDelay}.
 */
export function retryDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number,
  serverDelayMs: number | null,
): number {
  if (serverDelayMs !== null && Number.isFinite(serverDelayMs) && serverDelayMs >= 0) {
    return Math.min(serverDelayMs, MAX_RETRY_AFTER_MS);
  }
  return backoffDelay(attempt, policy, random);
}
