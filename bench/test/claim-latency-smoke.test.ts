/**
 * The claim-latency benchmark end to end at a tiny size, as `pnpm bench` runs it (a subprocess with
 * the real control plane, real workers, the process runtime, and the Docker runtime when a daemon
 * answers). It must write a result with every case measured or said not to be, and a report that
 * links its plots. No figure is asserted: three samples on a shared machine say nothing.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLAIM_CASES } from '../src/claim-cases.js';
import type { BenchResult } from '../src/result.js';
import { benchRunOnce, readResult, SUMMARY_SHAPE } from './bench-run.js';

const SAMPLES = 3;
let claim: BenchResult;

const outDir = benchRunOnce('envworker-bench-claim-', ['--items', String(SAMPLES), '--only', 'claim-latency'], 60_000);

beforeAll(async () => {
  claim = await readResult(outDir(), 'claim-latency');
});

describe('pnpm bench --only claim-latency at a tiny size', () => {
  it('writes the machine, versions and parameters', () => {
    expect(claim).toMatchObject({
      name: 'claim-latency',
      quick: true,
      machine: { cpus: expect.any(Number), cpu_model: expect.any(String), total_memory_bytes: expect.any(Number) },
      versions: { node: process.version, anthropic_sdk: '1.14.0', envworker_core: expect.any(String) },
      parameters: { runs: 1, control_plane: 'in process', not_measured: expect.any(Array) },
    });
  });

  it('measures every case, or names it as not measured with the reason, and gives each measured case every figure', () => {
    const measured = claim.cases.map((c) => c.params['case']);
    const notMeasured = claim.parameters['not_measured'] as string[];
    for (const claimCase of CLAIM_CASES) {
      const said = notMeasured.filter((line) => line.startsWith(`${claimCase.name}: not measured: `));
      expect(measured.filter((name) => name === claimCase.name).length + said.length).toBe(1);
    }
    expect(measured.slice(0, 4)).toEqual(['idle, delay 0', 'idle, default delay', 'busy', 'process runtime']);
    for (const benchCase of claim.cases) {
      expect(benchCase.params['samples']).toBe(SAMPLES);
      expect(benchCase.metrics).toEqual({ p50: SUMMARY_SHAPE, p95: SUMMARY_SHAPE, p99: SUMMARY_SHAPE, start_p50: SUMMARY_SHAPE, start_p99: SUMMARY_SHAPE });
    }
    for (const line of notMeasured) expect(claim.method).toContain(line);
  });

  it('checks the goals against the idle, delay 0 case', () => {
    const idle = claim.cases.find((c) => c.params['case'] === 'idle, delay 0')!;
    expect(claim.goals).toEqual([
      { goal: 'claim latency p50 < 10 ms', value: idle.metrics['p50']!.median, unit: 'ms', met: idle.metrics['p50']!.median < 10 },
      { goal: 'claim latency p99 < 50 ms', value: idle.metrics['p99']!.median, unit: 'ms', met: idle.metrics['p99']!.median < 50 },
    ]);
  });

  it('writes its plots as SVG files and links them under its table in REPORT.md', async () => {
    expect(claim.plots?.map((plot) => plot.id)).toEqual(['latency', 'start-cost']);
    expect((await readdir(join(outDir(), 'plots'))).sort()).toEqual(['claim-latency-latency.svg', 'claim-latency-start-cost.svg']);
    const svg = await readFile(join(outDir(), 'plots', 'claim-latency-latency.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    const report = await readFile(join(outDir(), 'REPORT.md'), 'utf8');
    expect(report).toContain('(`claim-latency`)');
    expect(report).toContain('| case | runtime | max_concurrency | held | idle_delay_ms | samples | p50 [ms] |');
    expect(report).toContain('![Claim latency, enqueue to sandbox started](plots/claim-latency-latency.svg)');
  });
});
