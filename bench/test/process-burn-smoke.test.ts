/**
 * The process-burn benchmark end to end at a tiny size, as `pnpm bench` runs it: a subprocess that
 * starts a control plane process per scenario and runs 4 CPU-burning process sandboxes. It must
 * write a result file with both scenarios, every figure and the goal. No figure is asserted: 4
 * sandboxes burning for a second say nothing about lateness, only the shape does.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchRunOnce, readResult, SUMMARY_SHAPE } from './bench-run.js';

const SANDBOXES = 4;

const outDir = benchRunOnce('envworker-bench-burn-', ['--only', 'process-burn', '--items', String(SANDBOXES)], 90_000);

describe('pnpm bench --only process-burn --items 4', () => {
  it('writes process-burn.json with the default niceness and nice 0, every figure and both goals', async () => {
    const result = await readResult(outDir(), 'process-burn');
    expect(result).toMatchObject({ name: 'process-burn', quick: true, parameters: { runs: 1, sandboxes: SANDBOXES, burn_ms: 1000, lease_ttl_seconds: 10 } });
    expect(result.cases.map((c) => c.params)).toEqual([
      { scenario: 'default (nice 19)', nice: 19, sandboxes: SANDBOXES },
      { scenario: 'nice 0', nice: 0, sandboxes: SANDBOXES },
    ]);
    const keys = ['lateness_p99', 'lateness_max', 'lost_leases', 'not_completed'];
    expect(result.columns.map((column) => column.key)).toEqual(keys);
    for (const c of result.cases) expect(c.metrics).toEqual(Object.fromEntries(keys.map((key) => [key, SUMMARY_SHAPE])));
    expect(result.goals.map((goal) => goal.goal)).toEqual([
      `heartbeat lateness p99 with ${SANDBOXES} CPU-burning process sandboxes (default niceness) < 250 ms`,
      `${SANDBOXES} CPU-burning process sandboxes (default niceness): every item completed, no lease lost, in every run`,
    ]);
    const [lateness, served] = result.goals;
    expect(lateness!.value).toBe(result.cases[0]!.metrics['lateness_p99']!.median);
    expect(lateness!.met).toBe(lateness!.value < 250);
    const misses = result.cases[0]!.metrics['lost_leases']!.runs.concat(result.cases[0]!.metrics['not_completed']!.runs).reduce((sum, n) => sum + n, 0);
    expect(served!.value).toBe(misses);
    expect(served!.met).toBe(misses === 0);
    expect(await readFile(join(outDir(), 'REPORT.md'), 'utf8')).toContain('Process runtime: heartbeat lateness while every sandbox burns CPU');
  });
});
