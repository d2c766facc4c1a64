/**
 * The health rule of `/healthz` as a pure function of its facts: silence of the control plane
 * beyond two heartbeat intervals (or two poll rounds, when longer), a poll loop that stopped
 * reporting while a slot is free, and a worker that failed for good. A stuck poll loop cannot be
 * made on demand with real parts, so it is covered here only.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assessHealth, POLL_CALL_ALLOWANCE_MS, type HealthFacts } from '../src/status/health.js';

const T0 = 1_000_000;

function facts(overrides: Partial<HealthFacts> = {}): HealthFacts {
  return {
    now: T0 + 10_000,
    startedAt: T0,
    lifecycle: 'running',
    slots: { max: 2, busy: 1 },
    lastAnswerAt: T0 + 9_500,
    lastPollActivityAt: T0 + 9_000,
    announcedPauseMs: 0,
    ttlSeconds: 30,
    pollIdleMaxMs: 3000,
    ...overrides,
  };
}

describe('assessHealth', () => {
  it('is healthy while the control plane answers and polls come back', () => {
    expect(assessHealth(facts())).toEqual({ healthy: true, problems: [], controlPlaneSilentMs: 500, silenceLimitMs: 20_000 });
  });

  it('takes the limit from the heartbeat interval (a third of the TTL, 1–30 s), or two poll rounds when longer', () => {
    // TTL 30 s: beats every 10 s, limit 20 s.
    expect(assessHealth(facts({ ttlSeconds: 30 })).silenceLimitMs).toBe(20_000);
    // TTL 2 s: beats every 1 s (the floor); idle polls: 0.999 s + 0 → limit 2 s.
    expect(assessHealth(facts({ ttlSeconds: 2, pollIdleMaxMs: 0 })).silenceLimitMs).toBe(2000);
    // TTL 600 s: beats every 30 s (the ceiling), limit 60 s.
    expect(assessHealth(facts({ ttlSeconds: 600 })).silenceLimitMs).toBe(60_000);
    // A long idle pause: two rounds of 0.999 s + 10 s.
    expect(assessHealth(facts({ ttlSeconds: 2, pollIdleMaxMs: 10_000 })).silenceLimitMs).toBe(21_998);
  });

  it('is unhealthy exactly when the control plane has been silent longer than the limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 0, max: 200_000 }), (ttlSeconds, silentMs) => {
        const now = T0 + 500_000;
        const report = assessHealth(facts({ now, ttlSeconds, pollIdleMaxMs: 0, lastAnswerAt: now - silentMs, lastPollActivityAt: now }));
        expect(report.controlPlaneSilentMs).toBe(silentMs);
        expect(report.healthy).toBe(silentMs <= report.silenceLimitMs);
      }),
    );
  });

  it('counts silence from the start before the first answer', () => {
    const report = assessHealth(facts({ lastAnswerAt: null, now: T0 + 25_000, lastPollActivityAt: T0 + 24_000 }));
    expect(report.healthy).toBe(false);
    expect(report.problems).toEqual(['the control plane has not answered for 25.0s (limit 20.0s)']);
  });

  it('ignores silence while the worker is not talking to the control plane', () => {
    for (const lifecycle of ['idle', 'stopped'] as const) {
      expect(assessHealth(facts({ lifecycle, lastAnswerAt: T0 - 1_000_000 })).healthy).toBe(true);
    }
  });

  it('finds a stuck poll loop: a free slot and no poll back for the limit, the announced pause and a call allowance', () => {
    const stuckAfter = 20_000 + 4000 + POLL_CALL_ALLOWANCE_MS;
    const base = { lastAnswerAt: T0 + 200_000, announcedPauseMs: 4000, lastPollActivityAt: T0 };
    expect(assessHealth(facts({ ...base, now: T0 + stuckAfter })).healthy).toBe(true);
    const stuck = assessHealth(facts({ ...base, now: T0 + stuckAfter + 1 }));
    expect(stuck.problems).toEqual([`the poll loop is stuck: a slot is free but no poll came back for ${((stuckAfter + 1) / 1000).toFixed(1)}s`]);
    // With every slot held there is no poll to wait for.
    expect(assessHealth(facts({ ...base, now: T0 + stuckAfter + 1, slots: { max: 2, busy: 2 } })).healthy).toBe(true);
    // Nor while draining.
    expect(assessHealth(facts({ ...base, now: T0 + stuckAfter + 1, lifecycle: 'draining' })).healthy).toBe(true);
  });

  it('is unhealthy once the worker failed for good', () => {
    expect(assessHealth(facts({ lifecycle: 'failed' })).problems).toEqual(['the worker stopped polling after an error it cannot recover from']);
  });
});
