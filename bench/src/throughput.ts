/**
 * Benchmark 2: end-to-end throughput of envworker with a no-op function runtime against a control
 * plane with the memory store: all N items queued, then from `start()` to the Nth `stopped` event.
 */
import { startControlPlane } from '@envworker/control-plane';
import type { Benchmark, SuiteSettings } from './benchmark.js';
import { runsOf } from './benchmark.js';
import { envworkerItemsPerSecond } from './envworker-run.js';
import { machineInfo, versions, type BenchCase, type BenchResult } from './result.js';
import { MAX_POLLERS, pollersFor } from './side-by-side.js';
import { summarize } from './stats.js';

export const THROUGHPUT_CONCURRENCY = [1, 16, 64, 256] as const;
const RUN_DEADLINE_MS = 120_000;

function itemsFor(concurrency: number, settings: SuiteSettings): number {
  if (settings.items !== undefined) return settings.items;
  return settings.quick ? Math.max(500, 4 * concurrency) : Math.max(2000, 8 * concurrency);
}

export const throughput: Benchmark = {
  name: 'throughput',
  async run(settings) {
    const runs = runsOf(settings);
    const cases: BenchCase[] = [];
    for (const concurrency of THROUGHPUT_CONCURRENCY) {
      const items = itemsFor(concurrency, settings);
      const rates: number[] = [];
      for (let run = 0; run < runs; run += 1) {
        const cp = await startControlPlane();
        try {
          for (let i = 0; i < items; i += 1) await cp.enqueue({ metadata: { bench: 'throughput' } });
          rates.push(await envworkerItemsPerSecond({ cp, items, holdMs: 0, maxConcurrency: concurrency, pollers: pollersFor(concurrency), deadlineMs: RUN_DEADLINE_MS }));
        } finally {
          await cp.close();
        }
        settings.progress?.(`throughput C=${concurrency} run ${run + 1}/${runs}: ${rates.at(-1)!.toFixed(1)}/s`);
      }
      cases.push({ params: { concurrency, items, pollers: pollersFor(concurrency) }, metrics: { throughput: summarize(rates) } });
    }
    const at64 = cases.find((c) => c.params['concurrency'] === 64)?.metrics['throughput']?.median ?? Number.NaN;
    return {
      name: 'throughput',
      title: 'End-to-end throughput, no-op function runtime',
      method:
        'Each run starts a control plane (memory store) on 127.0.0.1, queues N items, then times a worker (functionRuntime whose function returns at once, ' +
        'maxConcurrency C, the listed long polls, idle delay 0) from start() to the Nth `stopped` event. Each item is polled, acked, run and stopped over HTTP.',
      generated_at: new Date().toISOString(),
      quick: settings.quick,
      machine: machineInfo(),
      versions: versions(),
      parameters: { runs, concurrency: [...THROUGHPUT_CONCURRENCY], max_pollers: MAX_POLLERS, store: 'memory' },
      columns: [{ key: 'throughput', label: 'throughput', unit: 'items/s' }],
      cases,
      goals: [{ goal: 'no-op throughput at C=64 ≥ 1,000 items/s', value: at64, unit: 'items/s', met: at64 >= 1000 }],
    } satisfies BenchResult;
  },
};
