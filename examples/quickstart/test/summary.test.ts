import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WorkItemOutcome } from '@envworker/core';
import { percentile, summaryLines, unexpected, type RecordedCall, type RunResult } from '../src/summary.js';

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

const CALLS: RecordedCall[] = [
  { workId: 'work_a', name: 'write', text: 'wrote 6 bytes to notes.txt', isError: false, expected: /^wrote 6 bytes/ },
  { workId: 'work_a', name: 'bash', text: '2', isError: false, expected: /^2$/ },
  { workId: 'work_b', name: 'bash', text: 'bash: cancelled: the work item is being stopped', isError: true, expected: /^bash: cancelled: / },
];

function result(outcomes: [string, WorkItemOutcome | null][], calls: RecordedCall[] = CALLS): RunResult {
  return {
    outcomes: new Map(outcomes),
    expected: new Map([
      ['work_a', 'completed'],
      ['work_b', 'stopped_by_control_plane'],
    ]),
    calls,
    claimToStartMs: [10, 20, 30],
    totalMs: 4_240,
  };
}

describe('summary', () => {
  it('counts items by outcome and tool results by tool, shows the latency and total time, and says the run was as expected', () => {
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
      '  tool results received by the session simulator',
      '    tool   calls  errors  as expected',
      '    write      1       0            1',
      '    bash       2       1            2',
      "    error result of work_b's bash: bash: cancelled: the work item is being stopped",
      '  claim → start             p50 20 ms, p95 30 ms (3 items)',
      '  total time                4.2 s',
      'result: every item ended as expected, every tool result as its script expects',
    ]);
  });

  it('names every item that ended otherwise or not at all, and every result that differs from its script', () => {
    const run = result(
      [
        ['work_a', 'failed'],
        ['work_b', null],
      ],
      [
        { workId: 'work_a', name: 'bash', text: '3', isError: false, expected: /^2$/ },
        { workId: 'work_a', name: 'read', text: null, isError: false, expected: /^x$/ },
        { workId: 'work_b', name: 'grep', text: 'no matches', isError: false, expected: null },
      ],
    );
    expect(unexpected(run)).toEqual([
      'work_a: failed, expected completed',
      'work_b: did not end, expected stopped_by_control_plane',
      'work_a: bash answered "3"',
      'work_a: read got no result',
      'work_b: an unexpected grep call',
    ]);
    expect(summaryLines(run).at(-1)).toMatch(/^result: NOT as expected: work_a: failed/);
  });
});
