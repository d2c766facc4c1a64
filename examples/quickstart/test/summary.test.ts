import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WorkItemOutcome } from '@envworker/core';
import { percentile, summaryLines, unexpected, type RunResult } from '../src/summary.js';

describe('percentile', () => {
  it('is the smallest value with at least p % of the values at or below it (nearest rank)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 100 }), (values, p) => {
        const result = percentile(values, p) as number;
        expect(values).toContain(result);
        const atOrBelow = values.filter((value) => value <= result).length;
        expect(atOrBelow / values.length).toBeGreaterThanOrEqual(p / 100);
        const below = values.filter((value) => value < result).length;
        expect(below / values.length).toBeLessThan(p / 100);
      }),
    );
  });

  it('is null for no values and refuses a p outside (0, 100]', () => {
    expect(percentile([], 50)).toBeNull();
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

function result(outcomes: [string, WorkItemOutcome | null][], saidSigterm = true): RunResult {
  return {
    outcomes: new Map(outcomes),
    expected: new Map([
      ['work_a', 'completed'],
      ['work_b', 'stopped_by_control_plane'],
    ]),
    claimToStartMs: [10, 20, 30],
    totalMs: 4_240,
    stoppedItemSaidSigterm: saidSigterm,
  };
}

describe('summary', () => {
  it('counts items by outcome, shows the latency and total time, and says the run was as expected', () => {
    const run = result([
      ['work_a', 'completed'],
      ['work_b', 'stopped_by_control_plane'],
    ]);
    expect(unexpected(run)).toEqual([]);
    expect(summaryLines(run)).toEqual([
      'summary',
      '  outcome                   items',
      '  completed                     1',
      '  stopped_by_control_plane      1',
      '  total                         2',
      '  claim → start             p50 20 ms, p95 30 ms (3 items)',
      '  total time                4.2 s',
      'result: every item ended as expected',
    ]);
  });

  it('names every item that ended otherwise, or not at all, and a stop the program did not report', () => {
    const run = result(
      [
        ['work_a', 'failed'],
        ['work_b', null],
      ],
      false,
    );
    expect(unexpected(run)).toEqual([
      'work_a: failed, expected completed',
      'work_b: did not end, expected stopped_by_control_plane',
      'the stopped item never said it received SIGTERM',
    ]);
    expect(summaryLines(run).at(-1)).toMatch(/^result: NOT as expected: work_a: failed/);
  });
});
