/**
 * The suite end to end at a tiny size, as `pnpm bench` runs it (a subprocess with the real control
 * plane, the real worker and the SDK's WorkPoller): it must write result files with every field the
 * report needs, and a report with a table per benchmark. No timing is asserted: the figures of a
 * few items on a shared machine mean nothing, only their shape does.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchRunOnce, readResult, SUMMARY_SHAPE } from './bench-run.js';
import { CONCURRENCY, HOLD_MS } from '../src/side-by-side.js';

const outDir = benchRunOnce('envworker-bench-', ['--only', 'side-by-side', '--items', '2'], 60_000);

describe('pnpm bench at a tiny size', () => {
  it('writes side-by-side.json with envworker, official and ratio for every D and C', async () => {
    const side = await readResult(outDir(), 'side-by-side');
    expect(side.cases.map((c) => [c.params['hold_ms'], c.params['concurrency']])).toEqual(HOLD_MS.flatMap((d) => CONCURRENCY.map((c) => [d, c])));
    for (const benchCase of side.cases) {
      expect(benchCase.params['items']).toBe(2);
      expect(benchCase.metrics).toEqual({ envworker: SUMMARY_SHAPE, official: SUMMARY_SHAPE, ratio: SUMMARY_SHAPE });
      const { envworker, official, ratio } = benchCase.metrics;
      expect(ratio!.median).toBeCloseTo(envworker!.median / official!.median, 6);
    }
    expect(side.goals).toHaveLength(2);
  });

  it('regenerates REPORT.md with a table per benchmark run so far and every goal in one summary', async () => {
    const report = await readFile(join(outDir(), 'REPORT.md'), 'utf8');
    expect(report).toContain('(`side-by-side`)');
    expect(report).toContain('| hold_ms | concurrency | items | pollers | envworker [items/s] | official loop [items/s] | ratio [×] |');
    expect(report).toContain('## Goals');
    expect(report).toContain('| D=100 ms, C=16: envworker ≥ 12× the official loop |');
    expect(report).not.toContain('FINDINGS.md');
  });
});
