/** The suite: every benchmark by name, and a run that writes their result files and the report. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { actorMemory } from './actor-memory.js';
import type { Benchmark, SuiteSettings } from './benchmark.js';
import { claimLatency } from './claim-latency.js';
import { controlPlaneCapacity } from './control-plane-capacity.js';
import { leaseCapacity } from './lease-capacity.js';
import { processBurn } from './process-burn.js';
import { writeReport } from './report.js';
import type { BenchResult } from './result.js';
import { sessionThroughput } from './session-throughput.js';
import { sideBySide } from './side-by-side.js';
import { throughput } from './throughput.js';

export const BENCHMARKS: readonly Benchmark[] = [sideBySide, throughput, claimLatency, leaseCapacity, actorMemory, controlPlaneCapacity, sessionThroughput, processBurn];

export interface SuiteOptions extends SuiteSettings {
  /** Names of the benchmarks to run; all when empty. */
  readonly only: readonly string[];
  /** Where `results/<name>.json` and `REPORT.md` go. */
  readonly benchDir: string;
}

/** Runs the chosen benchmarks, writes each result file, then regenerates the report from all of them. */
export async function runSuite(options: SuiteOptions): Promise<BenchResult[]> {
  const chosen = options.only.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => options.only.includes(b.name));
  const resultsDir = join(options.benchDir, 'results');
  await mkdir(resultsDir, { recursive: true });
  const results: BenchResult[] = [];
  for (const benchmark of chosen) {
    const result = await benchmark.run(options);
    await writeFile(join(resultsDir, `${result.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    results.push(result);
  }
  await writeReport(options.benchDir);
  return results;
}
