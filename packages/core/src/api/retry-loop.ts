/**
 * Running a call with retries: each failure the call's rule deems retryable is followed by a
 * sleep on the injected clock (abortable by the caller's signal), then another attempt.
 */
import type { Clock } from '../time/clock.js';
import { WorkApiError } from './errors.js';
import { retryDelay, type RetryPolicy } from './retry.js';
import { abortedError } from './transport.js';

/** The retry settings of one call. */
export interface RetryContext {
  readonly operation: string;
  readonly policy: RetryPolicy;
  readonly clock: Clock;
  readonly random: () => number;
  readonly signal: AbortSignal | undefined;
  /** Whether a failure may be retried at all; the attempt budget is checked separately. */
  readonly mayRetry: (err: WorkApiError) => boolean;
}

/** Runs `attempt` until it succeeds, fails for good, or the policy's retries are spent. */
export async function withRetries<T>(attempt: () => Promise<T>, context: RetryContext): Promise<T> {
  for (let retries = 0; ; retries++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof WorkApiError) || retries >= context.policy.maxRetries || !context.mayRetry(err)) throw err;
      const delay = retryDelay(retries, context.policy, context.random, err.retryAfterMs);
      await sleep(context, delay);
    }
  }
}

/** Waits `ms` on the clock; a zero wait takes no timer. Rejects with an `aborted` error on abort. */
function sleep({ clock, signal, operation }: RetryContext, ms: number): Promise<void> {
  if (signal === undefined) {
    return ms <= 0 ? Promise.resolve() : new Promise((resolve) => clock.setTimeout(resolve, ms));
  }
  if (signal.aborted) return Promise.reject(abortedError(operation, signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(abortedError(operation, signal));
    };
    const handle = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
