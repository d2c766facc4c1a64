import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRetryAfterMs, parseShouldRetry } from '../src/api/retry-after.js';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  MAX_RETRY_AFTER_MS,
  resolveRetryPolicy,
  retryDelay,
  type RetryPolicy,
} from '../src/api/retry.js';

const policyArb: fc.Arbitrary<RetryPolicy> = fc
  .tuple(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 1_000_000 }))
  .map(([maxRetries, a, b]) => ({ maxRetries, baseDelayMs: Math.min(a, b), maxDelayMs: Math.max(a, b) }));
const unitArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const attemptArb = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 1_000_000 }));

describe('backoffDelay (full jitter)', () => {
  it('is random() times min(maxDelayMs, baseDelayMs * 2^attempt)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), policyArb, unitArb, (attempt, policy, r) => {
        const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
        expect(backoffDelay(attempt, policy, () => r)).toBe(r * ceiling);
      }),
    );
  });

  it('stays within [0, maxDelayMs] and is a finite number for any attempt, however large', () => {
    fc.assert(
      fc.property(attemptArb, policyArb, unitArb, (attempt, policy, r) => {
        const delay = backoffDelay(attempt, policy, () => r);
        expect(Number.isFinite(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(policy.maxDelayMs);
      }),
    );
  });

  it('never lowers its ceiling as attempts grow', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60 }), policyArb, (attempt, policy) => {
        const almostOne = () => 1 - Number.EPSILON;
        expect(backoffDelay(attempt + 1, policy, almostOne)).toBeGreaterThanOrEqual(backoffDelay(attempt, policy, almostOne));
      }),
    );
  });

  it('tolerates a broken random source (NaN, negative, above 1) without leaving [0, ceiling]', () => {
    fc.assert(
      fc.property(fc.double(), fc.integer({ min: 0, max: 10 }), (r, attempt) => {
        const delay = backoffDelay(attempt, DEFAULT_RETRY_POLICY, () => r);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(Math.min(DEFAULT_RETRY_POLICY.maxDelayMs, DEFAULT_RETRY_POLICY.baseDelayMs * 2 ** attempt));
      }),
    );
  });

  it('gives the documented default ceilings 500, 1000, 2000, 4000, 8000, 8000 ms', () => {
    const ceilings = [0, 1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, DEFAULT_RETRY_POLICY, () => 1));
    expect(ceilings).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
    expect(DEFAULT_RETRY_POLICY).toEqual({ maxRetries: 3, baseDelayMs: 500, maxDelayMs: 8000 });
  });
});

describe('retryDelay', () => {
  it('takes the server delay when there is one, capped at 60 s, whatever the jitter', () => {
    fc.assert(
      fc.property(attemptArb, policyArb, unitArb, fc.double({ min: 0, max: 1e9, noNaN: true }), (attempt, policy, r, server) => {
        expect(retryDelay(attempt, policy, () => r, server)).toBe(Math.min(server, MAX_RETRY_AFTER_MS));
      }),
    );
  });

  it('falls back to backoff when the server gives no usable delay', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 30 }),
        policyArb,
        unitArb,
        fc.constantFrom(null, -1, Number.NaN, Number.POSITIVE_INFINITY),
        (attempt, policy, r, server) => {
          expect(retryDelay(attempt, policy, () => r, server)).toBe(backoffDelay(attempt, policy, () => r));
        },
      ),
    );
  });
});

describe('resolveRetryPolicy', () => {
  it('fills in defaults field by field', () => {
    expect(resolveRetryPolicy()).toEqual(DEFAULT_RETRY_POLICY);
    expect(resolveRetryPolicy({ maxRetries: 0 })).toEqual({ ...DEFAULT_RETRY_POLICY, maxRetries: 0 });
  });

  it('rejects bad fields with an error naming the field', () => {
    expect(() => resolveRetryPolicy({ maxRetries: -1 })).toThrow(/retry\.maxRetries/);
    expect(() => resolveRetryPolicy({ baseDelayMs: 1.5 })).toThrow(/retry\.baseDelayMs/);
    expect(() => resolveRetryPolicy({ maxDelayMs: Number.NaN })).toThrow(/retry\.maxDelayMs/);
    expect(() => resolveRetryPolicy({ baseDelayMs: 10, maxDelayMs: 5 })).toThrow(/retry\.maxDelayMs must be >= retry\.baseDelayMs/);
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2026-11-28T17:00:00Z');

  it('reads retry-after-ms as milliseconds and lets it win over retry-after', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 1000 }), (ms, seconds) => {
        expect(parseRetryAfterMs(String(ms), String(seconds), now)).toBe(ms);
      }),
    );
    expect(parseRetryAfterMs('250.5', null, now)).toBe(250.5);
  });

  it('reads retry-after as seconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), (seconds) => {
        expect(parseRetryAfterMs(null, String(seconds), now)).toBe(seconds * 1000);
      }),
    );
    expect(parseRetryAfterMs(null, '1.5', now)).toBe(1500);
  });

  it('reads retry-after as an HTTP date measured from now, and a past date as 0', () => {
    expect(parseRetryAfterMs(null, new Date(now + 7000).toUTCString(), now)).toBe(7000);
    expect(parseRetryAfterMs(null, new Date(now - 7000).toUTCString(), now)).toBe(0);
  });

  it('falls back to retry-after when retry-after-ms is unreadable, and ignores garbage', () => {
    expect(parseRetryAfterMs('soon', '2', now)).toBe(2000);
    for (const bad of ['', '-1', 'soon', '1e3', '0x10', '12abc']) {
      expect(parseRetryAfterMs(null, bad, now)).toBeNull();
      expect(parseRetryAfterMs(bad, null, now)).toBeNull();
    }
    expect(parseRetryAfterMs(null, null, now)).toBeNull();
  });
});

describe('parseShouldRetry', () => {
  it('reads true and false (any case), and nothing else', () => {
    expect(parseShouldRetry('true')).toBe(true);
    expect(parseShouldRetry(' FALSE ')).toBe(false);
    for (const other of [null, '', 'yes', '1', '0']) expect(parseShouldRetry(other)).toBeNull();
  });
});
