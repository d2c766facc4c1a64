import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WorkApiError } from '../src/api/errors.js';
import type { RetryPolicy } from '../src/api/retry.js';
import { fatalPollMessage, isFatalPollError } from '../src/actors/poll-errors.js';
import { idleDelay } from '../src/actors/poll-stream.js';
import { ackFailureDecision, stopCallDecision } from '../src/actors/retry-decisions.js';
import { decideOutcome, exitOutcome, WORK_ITEM_OUTCOMES, type EndCause } from '../src/actors/work-item-outcome.js';
import {
  reactionTo,
  workStateOf,
  WORK_ITEM_PHASES,
  WORK_ITEM_TRIGGERS,
  type WorkItemPhase,
} from '../src/actors/work-item-reactions.js';
import type { SandboxExit } from '../src/runtime/sandbox-runtime.js';
import { ENV_KEY } from './support/fixtures.js';

const exitArb: fc.Arbitrary<SandboxExit> = fc.record({
  code: fc.option(fc.integer({ min: 0, max: 255 }), { nil: null }),
  signal: fc.option(fc.constantFrom('SIGKILL', 'SIGTERM'), { nil: null }),
  reason: fc.constantFrom('exited', 'stopped', 'killed', 'limit', 'start_failed'),
  durationMs: fc.nat(),
});

const causeArb: fc.Arbitrary<EndCause> = fc.oneof(
  exitArb.map((exit) => ({ kind: 'exited' as const, exit })),
  fc.constantFrom<EndCause>(
    { kind: 'sandbox_fault' },
    { kind: 'stop_requested' },
    { kind: 'lease_stopped' },
    { kind: 'lease_lost' },
    { kind: 'shutdown' },
    { kind: 'start_failed' },
    { kind: 'ack_refused' },
    { kind: 'healthcheck' },
  ),
);

const outcomeArb = fc.option(fc.constantFrom(...WORK_ITEM_OUTCOMES), { nil: null });
const unitArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const policyArb: fc.Arbitrary<RetryPolicy> = fc
  .tuple(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 60_000 }))
  .map(([maxRetries, a, b]) => ({ maxRetries, baseDelayMs: Math.min(a, b), maxDelayMs: Math.max(a, b) }));

function apiError(status: number | null, extra: { shouldRetry?: boolean; retryAfterMs?: number } = {}): WorkApiError {
  return new WorkApiError({
    operation: 'op',
    status,
    type: status === null ? 'connection_error' : 'x',
    message: 'failed',
    shouldRetryHeader: extra.shouldRetry ?? null,
    retryAfterMs: extra.retryAfterMs ?? null,
  });
}

const statusArb = fc.oneof(fc.constant(null), fc.integer({ min: 400, max: 599 }));
const errorArb = fc
  .tuple(statusArb, fc.option(fc.boolean(), { nil: undefined }), fc.option(fc.nat({ max: 120_000 }), { nil: undefined }))
  .map(([status, shouldRetry, retryAfterMs]) =>
    apiError(status, { ...(shouldRetry === undefined ? {} : { shouldRetry }), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) }),
  );

describe('outcome rules', () => {
  it('a sandbox that ended by itself completed only when it exited with code 0', () => {
    fc.assert(
      fc.property(exitArb, (exit) => {
        expect(exitOutcome(exit) === 'completed').toBe(exit.reason === 'exited' && exit.code === 0);
      }),
    );
  });

  it('a lost lease always wins, whatever was decided before', () => {
    fc.assert(
      fc.property(outcomeArb, (current) => {
        expect(decideOutcome(current, { kind: 'lease_lost' })).toBe('lease_lost');
      }),
    );
  });

  it('otherwise the first cause decides and later ones never change it', () => {
    fc.assert(
      fc.property(causeArb, fc.array(causeArb), (first, later) => {
        const decided = decideOutcome(null, first);
        const final = later.reduce((outcome, cause) => decideOutcome(outcome, cause), decided);
        const lost = later.some((cause) => cause.kind === 'lease_lost');
        expect(final).toBe(lost ? 'lease_lost' : decided);
      }),
    );
  });

  it('each cause maps to the outcome §7 names for it', () => {
    expect(decideOutcome(null, { kind: 'stop_requested' })).toBe('stopped_by_control_plane');
    expect(decideOutcome(null, { kind: 'lease_stopped' })).toBe('stopped_by_control_plane');
    expect(decideOutcome(null, { kind: 'shutdown' })).toBe('shutdown');
    expect(decideOutcome(null, { kind: 'start_failed' })).toBe('start_failed');
    expect(decideOutcome(null, { kind: 'ack_refused' })).toBe('ack_refused');
    expect(decideOutcome(null, { kind: 'healthcheck' })).toBe('healthcheck');
    expect(decideOutcome(null, { kind: 'sandbox_fault' })).toBe('failed');
  });
});

describe('the reaction table', () => {
  const held: WorkItemPhase[] = ['starting', 'active', 'winding_down', 'releasing'];
  const phaseArb = fc.constantFrom(...WORK_ITEM_PHASES);
  const triggerArb = fc.constantFrom(...WORK_ITEM_TRIGGERS);

  it('a lost lease kills at once in every phase that holds the lease (§7.5)', () => {
    for (const phase of held) expect(reactionTo(phase, 'lease_lost')).toBe('kill');
  });

  it('an item stopped on the server is killed while its sandbox may run (§7.4)', () => {
    for (const phase of ['starting', 'active', 'winding_down'] as const) expect(reactionTo(phase, 'lease_stopped')).toBe('kill');
  });

  it('a stop request or a shutdown never kills: the sandbox always gets its grace (§7.3, §7.8)', () => {
    fc.assert(
      fc.property(phaseArb, fc.constantFrom('stop_requested', 'shutdown' as const), (phase, trigger) => {
        expect(reactionTo(phase, trigger)).not.toBe('kill');
      }),
    );
  });

  it('only an item not yet acked is abandoned, and only by a shutdown', () => {
    fc.assert(
      fc.property(phaseArb, triggerArb, (phase, trigger) => {
        expect(reactionTo(phase, trigger) === 'abandon').toBe(phase === 'queued' && trigger === 'shutdown');
      }),
    );
  });

  it('nothing reacts once the item is over', () => {
    fc.assert(
      fc.property(fc.constantFrom('killing', 'done' as const), triggerArb, (phase, trigger) => {
        expect(reactionTo(phase, trigger)).toBe('ignore');
      }),
    );
  });

  it('maps every phase to a contract state', () => {
    expect(WORK_ITEM_PHASES.map(workStateOf)).toEqual(['queued', 'starting', 'active', 'stopping', 'stopping', 'stopping', 'stopped']);
  });
});

describe('ack retries', () => {
  it('never retries a 409 or a fatal error', () => {
    fc.assert(
      fc.property(errorArb, fc.nat({ max: 10 }), fc.nat({ max: 10_000 }), policyArb, unitArb, (error, attempt, elapsedMs, policy, r) => {
        const decision = ackFailureDecision(error, { attempt, elapsedMs, windowMs: 5000, policy, random: () => r });
        if (error.status === 409 || !error.isTransient()) expect(decision).toEqual({ action: 'give_up' });
      }),
    );
  });

  it('a retry is always sent within the reclaim window', () => {
    fc.assert(
      fc.property(errorArb, fc.nat({ max: 10 }), fc.nat({ max: 10_000 }), fc.integer({ min: 1, max: 60_000 }), policyArb, unitArb, (error, attempt, elapsedMs, windowMs, policy, r) => {
        const decision = ackFailureDecision(error, { attempt, elapsedMs, windowMs, policy, random: () => r });
        if (decision.action === 'retry') {
          expect(decision.delayMs).toBeGreaterThanOrEqual(0);
          expect(elapsedMs + decision.delayMs).toBeLessThan(windowMs);
        }
      }),
    );
  });

  it('retries a transient failure while the window leaves room for it', () => {
    const decision = ackFailureDecision(apiError(503), {
      attempt: 0,
      elapsedMs: 0,
      windowMs: 5000,
      policy: { maxRetries: 3, baseDelayMs: 500, maxDelayMs: 8000 },
      random: () => 0.5,
    });
    expect(decision).toEqual({ action: 'retry', delayMs: 250 });
  });

  it('anything that is not a WorkApiError is a refusal', () => {
    const decision = ackFailureDecision(new TypeError('bad'), { attempt: 0, elapsedMs: 0, windowMs: 5000, policy: { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 1 }, random: () => 0 });
    expect(decision).toEqual({ action: 'give_up' });
  });
});

describe('stop-call retries', () => {
  it('a 409 is success whatever else is true', () => {
    fc.assert(
      fc.property(fc.nat({ max: 20 }), policyArb, unitArb, fc.boolean(), (attempt, policy, r, shouldRetry) => {
        expect(stopCallDecision(apiError(409, { shouldRetry }), attempt, policy, () => r)).toEqual({ action: 'already_stopped' });
      }),
    );
  });

  it('retries only transient failures, at most maxRetries times, each after at most the cap (or the server asked wait)', () => {
    fc.assert(
      fc.property(errorArb, fc.nat({ max: 20 }), policyArb, unitArb, (error, attempt, policy, r) => {
        const decision = stopCallDecision(error, attempt, policy, () => r);
        if (decision.action !== 'retry') return;
        expect(error.isTransient()).toBe(true);
        expect(attempt).toBeLessThan(policy.maxRetries);
        const bound = error.retryAfterMs === null ? policy.maxDelayMs : Math.min(error.retryAfterMs, 60_000);
        expect(decision.delayMs).toBeLessThanOrEqual(bound);
      }),
    );
  });
});

describe('poll errors', () => {
  it('a non-transient 4xx is fatal; server faults, timeouts and broken connections are not', () => {
    fc.assert(
      fc.property(errorArb, (error) => {
        const fatal = error.status !== null && error.status < 500 && !error.isTransient();
        expect(isFatalPollError(error)).toBe(fatal);
      }),
    );
    expect(isFatalPollError(new TypeError('blockMs must be an integer'))).toBe(true);
  });

  it('the message of a fatal error names what to check, and never a credential', () => {
    const cases: Array<[number, string[]]> = [
      [401, ['environmentKey']],
      [403, ['environmentId', 'environmentKey']],
      [404, ['environmentId', 'baseUrl']],
      [400, ['baseUrl']],
    ];
    for (const [status, names] of cases) {
      const message = fatalPollMessage(apiError(status), 'env_0123456789abcdefghijklmn');
      for (const name of names) expect(message).toContain(name);
      expect(message).toContain(String(status));
      expect(message).not.toContain(ENV_KEY);
    }
  });

  it('the idle pause lies within [min, max]', () => {
    fc.assert(
      fc.property(fc.nat({ max: 10_000 }), fc.nat({ max: 10_000 }), unitArb, (a, b, r) => {
        const [min, max] = [Math.min(a, b), Math.max(a, b)];
        const delay = idleDelay([min, max], () => r);
        expect(delay).toBeGreaterThanOrEqual(min);
        expect(delay).toBeLessThanOrEqual(max);
      }),
    );
  });
});
