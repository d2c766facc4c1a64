/**
 * Property tests of the pure lease rules: arbitrary sequences of beats, each answered (any state,
 * extended or not, any `last_heartbeat` and TTL) or failed (412, 401/403/404, 409, 400, 5xx, 529
 * and 429 with or without `retry-after`, timeouts, connection errors), at arbitrary clock steps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONNECTION_ERROR, errorTypeForStatus, TIMEOUT_ERROR, WorkApiError } from '../src/api/errors.js';
import { formatTimestamp } from '../src/api/timestamp.js';
import { NO_HEARTBEAT, WORK_STATES, type HeartbeatResponse, type LeaseState } from '../src/api/wire.js';
import type { LeaseEvent } from '../src/lease/lease-events.js';
import {
  applyBeatAnswer,
  applyBeatError,
  beatDueAt,
  beatIntervalMs,
  checkStale,
  DEFAULT_INITIAL_TTL_SECONDS,
  initialLease,
  nextBeatAt,
  staleAt,
  type Lease,
  type LeaseStep,
} from '../src/lease/lease-rules.js';

const T0 = Date.parse('2026-11-28T17:00:00Z');

/** How the contract classes a heartbeat error, which the generators record beside each error. */
type ErrorClass = 'precondition' | 'fatal' | 'transient';

interface GeneratedError {
  readonly error: WorkApiError;
  readonly errorClass: ErrorClass;
}

type Outcome = { readonly kind: 'answer'; readonly answer: HeartbeatResponse } | { readonly kind: 'error'; readonly failure: GeneratedError };

interface Beat {
  /** Clock time between the previous beat's settling and this one's send. */
  readonly gapMs: number;
  /** Send to answer (or failure). */
  readonly latencyMs: number;
  /** How long after its due time the beat was sent, as the stream measured it. */
  readonly lateMs: number;
  readonly outcome: Outcome;
}

const timestampArb = fc.integer({ min: 1_700_000_000_000_000, max: 1_900_000_000_000_000 }).map(formatTimestamp);
const stateArb = fc.constantFrom(...WORK_STATES);

const answerArb: fc.Arbitrary<HeartbeatResponse> = fc.record({
  type: fc.constant('work_heartbeat' as const),
  last_heartbeat: timestampArb,
  lease_extended: fc.boolean(),
  state: stateArb,
  ttl_seconds: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 600 })),
});

const leaseStateArb: fc.Arbitrary<LeaseState> = fc.record({
  state: stateArb,
  last_heartbeat: fc.option(timestampArb, { nil: null }),
  lease_extended: fc.boolean(),
  ttl_seconds: fc.integer({ min: 0, max: 600 }),
});

function httpError(status: number, extra: Partial<ConstructorParameters<typeof WorkApiError>[0]> = {}): WorkApiError {
  return new WorkApiError({ operation: 'heartbeat', status, type: errorTypeForStatus(status), message: `status ${status}`, ...extra });
}

const retryAfterArb = fc.option(fc.integer({ min: 0, max: 120_000 }), { nil: null });

const errorArb: fc.Arbitrary<GeneratedError> = fc.oneof(
  leaseStateArb.map((current_state) => ({
    error: httpError(412, { details: { error_code: 'heartbeat_precondition_failed', current_state } }),
    errorClass: 'precondition' as const,
  })),
  fc.constantFrom(400, 401, 403, 404).map((status) => ({ error: httpError(status), errorClass: 'fatal' as const })),
  // The server sends its 409 with `x-should-retry: false`; one relayed without the header is fatal too.
  fc.option(fc.constant(false), { nil: null }).map((shouldRetryHeader) => ({
    error: httpError(409, { shouldRetryHeader }),
    errorClass: 'fatal' as const,
  })),
  fc.constantFrom(500, 502, 503).map((status) => ({ error: httpError(status), errorClass: 'transient' as const })),
  fc.tuple(fc.constantFrom(429, 529), retryAfterArb).map(([status, retryAfterMs]) => ({
    error: httpError(status, { retryAfterMs }),
    errorClass: 'transient' as const,
  })),
  fc.constantFrom(TIMEOUT_ERROR, CONNECTION_ERROR).map((type) => ({
    error: new WorkApiError({ operation: 'heartbeat', status: null, type, message: type }),
    errorClass: 'transient' as const,
  })),
);

const transientErrorArb = errorArb.filter((failure) => failure.errorClass === 'transient');

const outcomeArb: fc.Arbitrary<Outcome> = fc.oneof(
  answerArb.map((answer) => ({ kind: 'answer' as const, answer })),
  errorArb.map((failure) => ({ kind: 'error' as const, failure })),
);

const clockStepArb = fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 60_000 }));

const beatArb = (outcome: fc.Arbitrary<Outcome>): fc.Arbitrary<Beat> =>
  fc.record({ gapMs: clockStepArb, latencyMs: clockStepArb, lateMs: fc.integer({ min: 0, max: 5_000 }), outcome });

const initialTtlArb = fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined });

/** One beat as the rules saw it. */
interface Trace {
  readonly beat: Beat;
  readonly sentAt: number;
  readonly now: number;
  readonly before: Lease;
  readonly step: LeaseStep;
}

/** Runs beats through the rules, one at a time, until a terminal step (nothing is applied after one). */
function drive(beats: readonly Beat[], initialTtlSeconds: number | undefined): Trace[] {
  let lease = initialLease({ leaseStartedAt: T0, initialTtlSeconds });
  let clock = T0;
  const traces: Trace[] = [];
  for (const beat of beats) {
    const sentAt = clock + beat.gapMs;
    const now = sentAt + beat.latencyMs;
    const step =
      beat.outcome.kind === 'answer'
        ? applyBeatAnswer(lease, beat.outcome.answer, sentAt, now, beat.lateMs)
        : applyBeatError(lease, beat.outcome.failure.error, now);
    traces.push({ beat, sentAt, now, before: lease, step });
    if (step.terminal) break;
    lease = step.lease;
    clock = now;
  }
  return traces;
}

const isTerminalEvent = (event: LeaseEvent | undefined): boolean => event?.type === 'stopped' || event?.type === 'lost';

describe('lease rules over arbitrary sequences of answers, errors and clock steps', () => {
  it('are terminal exactly on stopped, 412, a fatal error or staleness, and the event says which', () => {
    fc.assert(
      fc.property(fc.array(beatArb(outcomeArb), { maxLength: 40 }), initialTtlArb, (beats, initialTtl) => {
        for (const { beat, before, now, step } of drive(beats, initialTtl)) {
          expect(step.terminal).toBe(isTerminalEvent(step.event));
          const { outcome } = beat;
          if (outcome.kind === 'answer') {
            expect(step.terminal).toBe(outcome.answer.state === 'stopped');
            if (step.terminal) expect(step.event).toEqual({ type: 'stopped', at: now, response: outcome.answer });
            continue;
          }
          const { error, errorClass } = outcome.failure;
          if (errorClass === 'precondition') {
            expect(step.event).toEqual({ type: 'lost', at: now, reason: 'precondition', currentState: error.currentState, error });
          } else if (errorClass === 'fatal') {
            expect(step.event).toEqual({ type: 'lost', at: now, reason: 'fatal', error });
          } else if (now - before.lastGoodSentAt >= before.ttlSeconds * 1000) {
            expect(step.event).toEqual({ type: 'lost', at: now, reason: 'stale' });
          } else {
            expect(step.event).toBeUndefined();
            expect(step.lease).toBe(before);
          }
        }
      }),
    );
  });

  it('send NO_HEARTBEAT until the first answer that extended the lease, then exactly the last such answer\'s last_heartbeat', () => {
    fc.assert(
      fc.property(fc.array(beatArb(outcomeArb), { maxLength: 40 }), initialTtlArb, (beats, initialTtl) => {
        let lastGood: string | undefined;
        for (const { beat, before, step } of drive(beats, initialTtl)) {
          expect(before.expected).toBe(lastGood ?? NO_HEARTBEAT);
          const { outcome } = beat;
          if (outcome.kind === 'answer' && outcome.answer.lease_extended && !step.terminal) lastGood = outcome.answer.last_heartbeat;
          if (!step.terminal) expect(step.lease.expected).toBe(lastGood ?? NO_HEARTBEAT);
        }
      }),
    );
  });

  it('move lastGoodSentAt only forward, and only to the ack\'s or an extending beat\'s send time', () => {
    fc.assert(
      fc.property(fc.array(beatArb(outcomeArb), { maxLength: 40 }), initialTtlArb, (beats, initialTtl) => {
        const sendTimes = new Set([T0]);
        for (const { beat, sentAt, before, step } of drive(beats, initialTtl)) {
          sendTimes.add(sentAt);
          expect(step.lease.lastGoodSentAt).toBeGreaterThanOrEqual(before.lastGoodSentAt);
          expect(sendTimes.has(step.lease.lastGoodSentAt)).toBe(true);
          const extended = beat.outcome.kind === 'answer' && beat.outcome.answer.lease_extended && !step.terminal;
          expect(step.lease.lastGoodSentAt).toBe(extended ? sentAt : before.lastGoodSentAt);
        }
      }),
    );
  });

  it('emit stop_requested at most once, and only for a stopping or unextended answer', () => {
    fc.assert(
      fc.property(fc.array(beatArb(outcomeArb), { maxLength: 40 }), initialTtlArb, (beats, initialTtl) => {
        const traces = drive(beats, initialTtl);
        const stops = traces.filter(({ step }) => step.event?.type === 'stop_requested');
        expect(stops.length).toBeLessThanOrEqual(1);
        for (const { beat } of stops) {
          expect(beat.outcome.kind).toBe('answer');
          if (beat.outcome.kind === 'answer') {
            expect(beat.outcome.answer.state === 'stopping' || !beat.outcome.answer.lease_extended).toBe(true);
          }
        }
        const askedToStop = traces.findIndex(
          ({ beat: { outcome } }) => outcome.kind === 'answer' && (outcome.answer.state === 'stopping' || !outcome.answer.lease_extended),
        );
        if (askedToStop >= 0) expect(traces[askedToStop]?.step.event?.type).toMatch(/^(stop_requested|stopped)$/);
      }),
    );
  });

  it('renew with the send-to-answer latency and the beat\'s lateness on every extending answer that is not the first stop request', () => {
    fc.assert(
      fc.property(fc.array(beatArb(answerArb.map((answer) => ({ kind: 'answer' as const, answer }))), { maxLength: 30 }), (beats) => {
        for (const { beat, before, step, now, sentAt } of drive(beats, undefined)) {
          if (beat.outcome.kind !== 'answer' || step.terminal) continue;
          const { answer } = beat.outcome;
          const firstStop = !before.stopRequested && (answer.state === 'stopping' || !answer.lease_extended);
          if (answer.lease_extended && !firstStop) {
            expect(step.event).toEqual({ type: 'renewed', at: now, response: answer, latencyMs: now - sentAt, lateMs: beat.lateMs });
            expect(step.lease.ttlSeconds).toBe(answer.ttl_seconds);
          } else if (!firstStop) {
            expect(step.event).toBeUndefined();
          }
        }
      }),
    );
  });
});

describe('staleness', () => {
  it('is never declared before a whole TTL since the last good send, and always once a TTL has passed, after only transient errors', () => {
    fc.assert(
      fc.property(
        answerArb.filter((answer) => answer.lease_extended && answer.state !== 'stopped'),
        fc.integer({ min: 0, max: 5_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 30_000 }), transientErrorArb), { minLength: 1, maxLength: 60 }),
        transientErrorArb,
        (answer, latency, failures, atBoundary) => {
          const sentAt = T0 + 1_000;
          const good = applyBeatAnswer(initialLease({ leaseStartedAt: T0 }), answer, sentAt, sentAt + latency).lease;
          const deadline = sentAt + answer.ttl_seconds * 1000;
          expect(staleAt(good)).toBe(deadline);
          let now = sentAt + latency;
          for (const [step, { error }] of failures) {
            now += step;
            const result = applyBeatError(good, error, now);
            expect(result.terminal).toBe(now >= deadline);
            expect(result.event).toEqual(now >= deadline ? { type: 'lost', at: now, reason: 'stale' } : undefined);
            expect(checkStale(good, now).terminal).toBe(now >= deadline);
          }
          // The boundary itself: a millisecond short of a whole TTL is not stale, a whole TTL is.
          expect(applyBeatError(good, atBoundary.error, deadline - 1).terminal).toBe(false);
          expect(applyBeatError(good, atBoundary.error, deadline).event).toEqual({ type: 'lost', at: deadline, reason: 'stale' });
        },
      ),
    );
  });

  it('before the first answer runs on the initial TTL from the ack, by default the contract\'s 10 s minimum', () => {
    expect(DEFAULT_INITIAL_TTL_SECONDS).toBe(10);
    fc.assert(
      fc.property(initialTtlArb, fc.integer({ min: 0, max: 200_000 }), (initialTtl, elapsed) => {
        const lease = initialLease({ leaseStartedAt: T0, initialTtlSeconds: initialTtl });
        const ttl = initialTtl ?? 10;
        expect(lease).toEqual({ expected: NO_HEARTBEAT, lastGoodSentAt: T0, ttlSeconds: ttl, stopRequested: false });
        expect(checkStale(lease, T0 + elapsed).terminal).toBe(elapsed >= ttl * 1000);
      }),
    );
  });

  it('rejects a lease start or initial TTL that is not a usable number, naming it', () => {
    expect(() => initialLease({ leaseStartedAt: Number.NaN })).toThrow(/leaseStartedAt/);
    expect(() => initialLease({ leaseStartedAt: T0, initialTtlSeconds: 0 })).toThrow(/initialTtlSeconds/);
    expect(() => initialLease({ leaseStartedAt: T0, initialTtlSeconds: Number.POSITIVE_INFINITY })).toThrow(/initialTtlSeconds/);
  });
});

describe('beat timing', () => {
  it('keeps the interval within [1 s, 30 s], in whole ms, and at most half the TTL whenever the TTL is at least 2 s', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 100_000 })), (ttl) => {
        const interval = beatIntervalMs(ttl);
        expect(Number.isInteger(interval)).toBe(true);
        expect(interval).toBeGreaterThanOrEqual(1_000);
        expect(interval).toBeLessThanOrEqual(30_000);
        if (ttl >= 2) expect(interval).toBeLessThanOrEqual(ttl * 500);
        // Three beats per TTL where the floor allows: one may be cut off and two still fit.
        if (ttl >= 3) expect(3 * interval).toBeLessThanOrEqual(ttl * 1000);
      }),
    );
    expect([beatIntervalMs(10), beatIntervalMs(30), beatIntervalMs(120), beatIntervalMs(600)]).toEqual([3_333, 10_000, 30_000, 30_000]);
  });

  it('makes the next beat due one interval after the last send, and sends it then, or at once if that has passed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 100_000 }), (ttl, since, latency) => {
        const lease: Lease = { expected: NO_HEARTBEAT, lastGoodSentAt: T0, ttlSeconds: ttl, stopRequested: false };
        const sentAt = T0 + since;
        const now = sentAt + latency;
        expect(beatDueAt(lease, sentAt, now)).toBe(sentAt + beatIntervalMs(ttl));
        expect(beatDueAt(lease, sentAt, now, httpError(503))).toBe(sentAt + beatIntervalMs(ttl));
        expect(nextBeatAt(lease, sentAt, now)).toBe(Math.max(now, sentAt + beatIntervalMs(ttl)));
        expect(nextBeatAt(lease, sentAt, now, httpError(503))).toBe(Math.max(now, sentAt + beatIntervalMs(ttl)));
      }),
    );
  });

  it('waits out a retry-after instead of the interval, but never past the staleness deadline', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 0, max: 700_000 }),
        fc.integer({ min: 0, max: 120_000 }),
        fc.constantFrom(429, 529),
        (ttl, elapsed, retryAfterMs, status) => {
          const lease: Lease = { expected: NO_HEARTBEAT, lastGoodSentAt: T0, ttlSeconds: ttl, stopRequested: false };
          const now = T0 + elapsed;
          const at = nextBeatAt(lease, now, now, httpError(status, { retryAfterMs }));
          expect(at).toBe(now + Math.min(retryAfterMs, Math.max(0, staleAt(lease) - now)));
          expect(beatDueAt(lease, now, now, httpError(status, { retryAfterMs }))).toBe(at);
          expect(at).toBeGreaterThanOrEqual(now);
          expect(at).toBeLessThanOrEqual(Math.max(now, staleAt(lease)));
        },
      ),
    );
  });
});
