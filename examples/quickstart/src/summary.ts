/**
 * The quickstart's closing summary: items by outcome, the tool results the control plane's session
 * simulator recorded (per tool: calls, errors, and any result that differs from what the script
 * expects), the claim-to-start latency (from each item's `claimed` event to its `started` event,
 * both on the worker's clock), the total time, and whether everything went as expected.
 */
import type { WorkItemOutcome } from '@envworker/core';

/** One tool call as the simulator recorded it, with what its script expected. */
export interface RecordedCall {
  readonly workId: string;
  readonly name: string;
  /** The result's text; `null`: no result was received. */
  readonly text: string | null;
  readonly isError: boolean;
  readonly expected: RegExp | null;
}

/** What the summary is made of. */
export interface RunResult {
  /** Every enqueued item's outcome; `null` for an item that never ended. */
  readonly outcomes: ReadonlyMap<string, WorkItemOutcome | null>;
  /** The outcome each item should have ended with. */
  readonly expected: ReadonlyMap<string, WorkItemOutcome>;
  /** Every tool call of every session, in order. */
  readonly calls: readonly RecordedCall[];
  /** Claim-to-start latencies, ms, one per started item. */
  readonly claimToStartMs: readonly number[];
  readonly totalMs: number;
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

/** Items whose outcome differs from the expected one, and results that differ from their script's. */
export function unexpected(result: RunResult): string[] {
  const problems: string[] = [];
  for (const [workId, want] of result.expected) {
    const got = result.outcomes.get(workId) ?? null;
    if (got !== want) problems.push(`${workId}: ${got ?? 'did not end'}, expected ${want}`);
  }
  for (const call of result.calls) {
    if (call.expected === null) problems.push(`${call.workId}: an unexpected ${call.name} call`);
    else if (call.text === null) problems.push(`${call.workId}: ${call.name} got no result`);
    else if (!call.expected.test(call.text)) problems.push(`${call.workId}: ${call.name} answered ${JSON.stringify(call.text.slice(0, 80))}`);
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
    '  tool results received by the session simulator',
    ...toolLines(result.calls),
    `  ${'claim → start'.padEnd(width)}  ${latency}`,
    `  ${'total time'.padEnd(width)}  ${(result.totalMs / 1000).toFixed(1)} s`,
    problems.length === 0 ? 'result: every item ended as expected, every tool result as its script expects' : `result: NOT as expected: ${problems.join('; ')}`,
  ];
}

/** `tool  calls  errors  as expected`, one line per tool, then each error result once. */
function toolLines(calls: readonly RecordedCall[]): string[] {
  const tools = [...new Set(calls.map((call) => call.name))];
  const rows = tools.map((name) => {
    const ofTool = calls.filter((call) => call.name === name);
    const errors = ofTool.filter((call) => call.isError).length;
    const asExpected = ofTool.filter((call) => call.text !== null && call.expected?.test(call.text) === true).length;
    return [name, String(ofTool.length), String(errors), String(asExpected)];
  });
  const header = ['tool', 'calls', 'errors', 'as expected'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] as string).length)));
  const line = (cells: readonly string[]): string => `    ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[0] as number) : cell.padStart(widths[column] as number))).join('  ')}`;
  const errors = calls.filter((call) => call.isError && call.text !== null).map((call) => `    error result of ${call.workId}'s ${call.name}: ${call.text as string}`);
  return [line(header), ...rows.map(line), ...errors];
}
