/**
 * What the benchmark smoke tests share: running `pnpm bench` as the suite runs it (a subprocess, at
 * quick sizes, one run, into a directory of the test's own) and reading back a result file it wrote.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect } from 'vitest';
import type { BenchResult } from '../src/result.js';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');

/** What every figure of a result is: a summary of its runs (one run in a smoke test). */
export const SUMMARY_SHAPE = { median: expect.any(Number), min: expect.any(Number), max: expect.any(Number), runs: [expect.any(Number)] };

/** Runs `bench/src/run.ts --quick --runs 1 --out <outDir> ...args` from the repository root; rejects if it fails or outlasts `timeoutMs`. */
export async function runBench(outDir: string, args: readonly string[], timeoutMs: number): Promise<void> {
  await run(process.execPath, ['--conditions=@envworker/source', '--import', 'tsx', 'bench/src/run.ts', '--quick', '--runs', '1', '--out', outDir, ...args], {
    cwd: repoRoot,
    timeout: timeoutMs,
  });
}

/**
 * For one test file: before its tests, runs the bench (as {@link runBench}) into a fresh directory
 * under the system's temporary directory named from `prefix`; after them, removes it. Returns that
 * directory, to call once the run is done. The hook may take 10 s beyond the run's own deadline,
 * so a run that outlasts it fails with the run's error.
 */
export function benchRunOnce(prefix: string, args: readonly string[], timeoutMs: number): () => string {
  let outDir: string | undefined;
  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), prefix));
    await runBench(outDir, args, timeoutMs);
  }, timeoutMs + 10_000);
  afterAll(async () => {
    if (outDir !== undefined) await rm(outDir, { recursive: true, force: true });
  });
  return () => {
    if (outDir === undefined) throw new Error('benchRunOnce: the bench has not run yet');
    return outDir;
  };
}

/** The result file `name` that a run into `outDir` wrote. */
export async function readResult(outDir: string, name: string): Promise<BenchResult> {
  return JSON.parse(await readFile(join(outDir, 'results', `${name}.json`), 'utf8')) as BenchResult;
}
