/**
 * The control-plane capacity benchmark end to end at its tiniest size, as `pnpm bench` runs it (a
 * subprocess starting real control-plane processes and redis-servers, loaded by autocannon): it
 * must write a result with every scenario on every deployment, every figure, and a passing check
 * of the server's state after each run. No timing is asserted: only the shape and the checks.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { BenchResult } from '../src/result.js';
import { benchRunOnce, readResult, SUMMARY_SHAPE } from './bench-run.js';

const ITEMS = 6;
let result: BenchResult;

const outDir = benchRunOnce('envworker-capacity-', ['--items', String(ITEMS), '--only', 'control-plane-capacity'], 90_000);

beforeAll(async () => {
  result = await readResult(outDir(), 'control-plane-capacity');
});

describe('pnpm bench --only control-plane-capacity at a tiny size', () => {
  it('records the load tool, the cores and the sizes, and says it answers issue 7', () => {
    expect(result).toMatchObject({
      name: 'control-plane-capacity',
      quick: true,
      parameters: { runs: 1, cores: expect.any(Number), load_tool: expect.stringMatching(/^autocannon \d+\.\d+\.\d+$/), held_leases: ITEMS },
    });
    expect(result.parameters['cores']).toBe(result.machine.cpus);
    expect(result.method).toContain("issue 7's question");
  });

  it('has a case per scenario and deployment, in scenario order', () => {
    expect(result.cases.map((c) => [c.params['scenario'], c.params['deployment']])).toEqual(
      ['poll', 'poll_empty', 'heartbeat'].flatMap((scenario) => ['memory ×1', 'redis ×1', 'redis ×3'].map((deployment) => [scenario, deployment])),
    );
    for (const c of result.cases.filter((c) => c.params['scenario'] === 'heartbeat')) expect(c.params['leases']).toBe(ITEMS);
  });

  it('measures every case with zero errors and a passing state check (redis cases only say why when redis-server is missing)', () => {
    for (const c of result.cases) {
      const check = c.params['check'];
      if (c.params['deployment'] !== 'memory ×1' && typeof check === 'string' && check.startsWith('not measured: redis-server')) {
        expect(c.metrics).toEqual({});
        continue;
      }
      expect(check, `${String(c.params['scenario'])} on ${String(c.params['deployment'])}`).toBe('ok');
      expect(c.metrics).toEqual({
        ops_per_s: SUMMARY_SHAPE,
        requests_per_s: SUMMARY_SHAPE,
        p50_ms: SUMMARY_SHAPE,
        p99_ms: SUMMARY_SHAPE,
        errors: SUMMARY_SHAPE,
        seconds: SUMMARY_SHAPE,
      });
      expect(c.metrics['errors']!.median).toBe(0);
      expect(c.metrics['ops_per_s']!.median).toBeGreaterThan(0);
    }
  });

  it('counts the acks of poll in the request rate: twice the poll rate, once for the other scenarios', () => {
    for (const c of result.cases.filter((c) => c.params['check'] === 'ok')) {
      const ratio = c.metrics['requests_per_s']!.median / c.metrics['ops_per_s']!.median;
      expect(ratio).toBeCloseTo(c.params['scenario'] === 'poll' ? 2 : 1, 6);
    }
  });

  it('declares bar plots of the rate and the p99 by scenario, one series per deployment', () => {
    expect(result.plots?.map((plot) => [plot.id, plot.x, plot.series, plot.mark, plot.y])).toEqual([
      ['rate', 'scenario', 'deployment', 'bar', ['ops_per_s']],
      ['latency-p99', 'scenario', 'deployment', 'bar', ['p99_ms']],
    ]);
  });
});
