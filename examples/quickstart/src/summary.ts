/**
 * The quickstart's closing summary: items by outcome, the claim-to-start latency (from each
 * item's `claimed` event to its `started` event, both on the worker's clock), the total time, and
 * whether every item ended as expected.
 */
import type { WorkItemOutcome } from '@envworker/core';

/** What the summary is made of. */
export interface RunResult {
  /** Every enqueued item's outcome; `null` for an item that never ended. */
  readonly outcomes: ReadonlyMap<string, WorkItemOutcome | null>;
  /** The outcome each item should have ended with. */
  readonly expected: ReadonlyMap<string, WorkItemOutcome>;
  /** Claim-to-start latencies, ms, one per started item. */
  readonly claimToStartMs: readonly number[];
  readonly totalMs: number;
  /** Whether the stopped item's program said it trapped the SIGTERM. */
  readonly stoppedItemSaidSigterm: boolean;
}

/**
 * The `p`-th percentile (0 < p <= 100) of `values` by the nearest-rank method: the smallest value
 * that at least p % of the values are at or below. `null` for no values.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (!(p > 0 && p <= 100)) throw new RangeError('p must be in (0, 100]');
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1] as number;
}

/** Items whose outcome differs from the expected one, as `work_…: got x, expected y`. */
export function unexpected(result: RunResult): string[] {
  const problems: string[] = [];
  for (const [workId, want] of result.expected) {
    const got = result.outcomes.get(workId) ?? null;
    if (got !== want) problems.push(`${workId}: ${got ?? 'did not end'}, expected ${want}`);
  }
  if (!result.stoppedItemSaidSigterm && [...result.expected.values()].includes('stopped_by_control_plane')) {
    problems.push('the stopped item never said it received SIGTERM');
  }
  return problems;
}

/** The summary table, as lines. */
export function summaryLines(result: RunResult): string[] {
  const counts = new Map<string, number>();
  for (const outcome of result.outcomes.values()) {
    const key = outcome ?? 'did not end';
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const rows: [string, string][] = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, count]) => [key, String(count)]);
  rows.push(['total', String(result.outcomes.size)]);
  const p50 = percentile(result.claimToStartMs, 50);
  const p95 = percentile(result.claimToStartMs, 95);
  const latency = p50 === null || p95 === null ? 'no item started' : `p50 ${Math.round(p50)} ms, p95 ${Math.round(p95)} ms (${result.claimToStartMs.length} items)`;
  const width = Math.max(...rows.map(([key]) => key.length), 'claim → start'.length);
  const problems = unexpected(result);
  return [
    'summary',
    `  ${'outcome'.padEnd(width)}  items`,
    ...rows.map(([key, count]) => `  ${key.padEnd(width)}  ${count.padStart(5)}`),
    `  ${'claim → start'.padEnd(width)}  ${latency}`,
    `  ${'total time'.padEnd(width)}  ${(result.totalMs / 1000).toFixed(1)} s`,
    problems.length === 0 ? 'result: every item ended as expected' : `result: NOT as expected: ${problems.join('; ')}`,
  ];
}
