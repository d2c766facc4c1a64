/**
 * What the benchmark smoke tests share: running `pnpm bench` as the suite runs it (a subprocess, at
 * quick sizes, one run, into a directory of the test's own) and reading back a result file it wrote.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
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

/** The result file `name` that a run into `outDir` wrote. */
export async function readResult(outDir: string, name: string): Promise<BenchResult> {
  return JSON.parse(await readFile(join(outDir, 'results', `${name}.json`), 'utf8')) as BenchResult;
}
