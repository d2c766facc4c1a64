/**
 * The server's own word on retrying: `retry-after-ms`, `retry-after` and `x-should-retry`
 * (contract §2). Pure functions of the header values and the current time.
 */

const DECIMAL = /^\d+(\.\d+)?$/;

/**
 * How long the server asks the client to wait, in milliseconds, or `null` when it does not say
 * (or says something unreadable). `retry-after-ms` wins over `retry-after`; `retry-after` is
 * either seconds or an HTTP date, which is measured from `nowMs` (a date in the past means 0).
 */
export function parseRetryAfterMs(retryAfterMs: string | null, retryAfter: string | null, nowMs: number): number | null {
  if (retryAfterMs !== null) {
    const trimmed = retryAfterMs.trim();
    if (DECIMAL.test(trimmed)) return Number(trimmed);
  }
  if (retryAfter === null) return null;
  const trimmed = retryAfter.trim();
  if (DECIMAL.test(trimmed)) return Number(trimmed) * 1000;
  if (!/[a-z]/i.test(trimmed)) return null;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - nowMs);
}

/** `x-should-retry: true|false` as a boolean, or `null` when absent or anything else. */
export function parseShouldRetry(value: string | null): boolean | null {
  const trimmed = value?.trim().toLowerCase();
  if (trimmed === 'true') return true;
  if (trimmed === 'false') return false;
  return null;
}
