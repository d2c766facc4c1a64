/**
 * The process-burn benchmark end to end at a tiny size, as `pnpm bench` runs it: a subprocess that
 * starts a control plane process per scenario and runs 4 CPU-burning process sandboxes. It must
 * write a result file with both scenarios, every figure and the goal. No figure is asserted: 4
 * sandboxes burning for a second say nothing about lateness, only the shape does.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchResult } from '../src/result.js';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');
const SANDBOXES = 4;
let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'envworker-bench-burn-'));
  await run(
    process.execPath,
    ['--conditions=@envworker/source', '--import', 'tsx', 'bench/src/run.ts', '--quick', '--runs', '1', '--out', outDir, '--only', 'process-burn', '--items', String(SANDBOXES)],
    { cwd: repoRoot, timeout: 90_000 },
  );
}, 90_000);

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

describe('pnpm bench --only process-burn --items 4', () => {
  it('writes process-burn.json with the default niceness and nice 0, every figure and both goals', async () => {
    const result = JSON.parse(await readFile(join(outDir, 'results', 'process-burn.json'), 'utf8')) as BenchResult;
    expect(result).toMatchObject({ name: 'process-burn', quick: true, parameters: { runs: 1, sandboxes: SANDBOXES, burn_ms: 1000, lease_ttl_seconds: 10 } });
    expect(result.cases.map((c) => c.params)).toEqual([
      { scenario: 'default (nice 19)', nice: 19, sandboxes: SANDBOXES },
      { scenario: 'nice 0', nice: 0, sandboxes: SANDBOXES },
    ]);
    const keys = ['lateness_p99', 'lateness_max', 'lost_leases', 'not_completed'];
    expect(result.columns.map((column) => column.key)).toEqual(keys);
    const summaryShape = { median: expect.any(Number), min: expect.any(Number), max: expect.any(Number), runs: [expect.any(Number)] };
    for (const c of result.cases) expect(c.metrics).toEqual(Object.fromEntries(keys.map((key) => [key, summaryShape])));
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
    expect(await readFile(join(outDir, 'REPORT.md'), 'utf8')).toContain('Process runtime: heartbeat lateness while every sandbox burns CPU');
  });
});
