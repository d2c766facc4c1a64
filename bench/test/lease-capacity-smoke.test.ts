/**
 * The lease benchmarks (lease-capacity and actor-memory) end to end at a tiny size, as `pnpm bench`
 * runs them: a subprocess that starts a control plane process and a worker process holding 20
 * leases. It must write result files with every field the report needs. No figure is asserted:
 * 20 leases for a few seconds on a shared machine say nothing, only the shape does.
 */
import { describe, expect, it } from 'vitest';
import { benchRunOnce, readResult, SUMMARY_SHAPE } from './bench-run.js';

const LEASES = 20;

const outDir = benchRunOnce('envworker-bench-leases-', ['--only', 'lease-capacity', '--only', 'actor-memory', '--items', String(LEASES)], 90_000);

describe('pnpm bench --items 20 for the lease benchmarks', () => {
  it('writes lease-capacity.json with one case of N = 20, every figure, the three goals and the plots', async () => {
    const capacity = await readResult(outDir(), 'lease-capacity');
    expect(capacity).toMatchObject({ name: 'lease-capacity', quick: true, parameters: { runs: 1, leases: [LEASES], lease_ttl_s: 10, hold_s: 5 } });
    expect(capacity.method).toContain('--items N');
    expect(capacity.cases).toHaveLength(1);
    expect(capacity.cases[0]!.params).toMatchObject({ leases: LEASES, pollers: LEASES });
    const keys = ['heartbeats', 'cpu', 'rss_idle', 'rss_max', 'rss_end', 'rss_per_lease', 'lateness_p50', 'lateness_p99', 'lateness_max',
      'loop_delay_p99', 'loop_delay_max', 'gc_pause_max', 'gc_share', 'lost', 'lost_in_shutdown', 'ramp', 'shutdown'];
    expect(capacity.columns.map((column) => column.key)).toEqual(keys);
    expect(capacity.cases[0]!.metrics).toEqual(Object.fromEntries(keys.map((key) => [key, SUMMARY_SHAPE])));
    expect(capacity.goals.map((goal) => goal.goal)).toEqual([
      '20 leases: none lost in any run',
      '20 leases: p99 beat lateness < 250 ms',
      '20 leases: RSS per lease < 60 KB',
    ]);
    const [lost, lateness, perLease] = capacity.goals;
    expect(lost!.met).toBe(lost!.value === 0);
    expect(lateness!.met).toBe(lateness!.value < 250);
    expect(perLease!.met).toBe(perLease!.value < 60);
    expect(capacity.plots?.map((plot) => plot.id)).toEqual(['lateness', 'cpu', 'rss-per-lease']);
    for (const plot of capacity.plots ?? []) for (const metric of plot.y) expect(keys).toContain(metric);
  });

  it('writes actor-memory.json with RSS and heap per lease for N = 20 and its plot', async () => {
    const memory = await readResult(outDir(), 'actor-memory');
    expect(memory).toMatchObject({ name: 'actor-memory', quick: true, parameters: { runs: 1, leases: [LEASES], gc_before_sample: true }, goals: [] });
    expect(memory.cases).toHaveLength(1);
    expect(memory.cases[0]!.params).toMatchObject({ leases: LEASES });
    const keys = ['rss_per_lease', 'heap_per_lease', 'rss_idle', 'rss_held', 'heap_idle', 'heap_held'];
    expect(memory.cases[0]!.metrics).toEqual(Object.fromEntries(keys.map((key) => [key, SUMMARY_SHAPE])));
    expect(memory.plots).toEqual([expect.objectContaining({ id: 'kb-per-lease', x: 'leases', y: ['rss_per_lease', 'heap_per_lease'] })]);
  });
});
