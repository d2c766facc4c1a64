/**
 * Benchmark 2: end-to-end throughput of envworker with a no-op function runtime against a control
 * plane in its own process, on the memory store and on the Redis store: all N items queued, then
 * from `start()` to the Nth `stopped` event.
 */
import type { Benchmark, SuiteSettings } from './benchmark.js';
import { runsOf } from './benchmark.js';
import { envworkerItemsPerSecond } from './envworker-run.js';
import { startControlPlaneProcess } from './infra/control-plane-process.js';
import { redisUnavailable, startRedisProcess, type RedisProcess } from './infra/redis-process.js';
import { machineInfo, versions, type BenchCase, type BenchResult } from './result.js';
import { MAX_POLLERS, pollersFor } from './side-by-side.js';
import { summarize } from './stats.js';

export const THROUGHPUT_CONCURRENCY = [1, 16, 64, 256] as const;
export const THROUGHPUT_STORES = ['memory', 'redis'] as const;
const RUN_DEADLINE_MS = 120_000;

function itemsFor(concurrency: number, settings: SuiteSettings): number {
  if (settings.items !== undefined) return settings.items;
  return settings.quick ? Math.max(300, 2 * concurrency) : Math.max(2000, 8 * concurrency);
}

async function oneRun(store: 'memory' | 'redis', redis: RedisProcess | null, concurrency: number, items: number): Promise<number> {
  const cp = await startControlPlaneProcess(redis === null ? { store } : { store, redisUrl: redis.url });
  try {
    await cp.enqueue(items, { bench: 'throughput' }, 16);
    return await envworkerItemsPerSecond({ target: cp, items, holdMs: 0, maxConcurrency: concurrency, pollers: pollersFor(concurrency), deadlineMs: RUN_DEADLINE_MS });
  } finally {
    await cp.close();
  }
}

export const throughput: Benchmark = {
  name: 'throughput',
  async run(settings) {
    const runs = runsOf(settings);
    const cases: BenchCase[] = [];
    const redisMissing = redisUnavailable();
    const notMeasured: string[] = [];
    for (const store of THROUGHPUT_STORES) {
      if (store === 'redis' && redisMissing !== null) {
        notMeasured.push(`Redis store not measured: ${redisMissing}.`);
        continue;
      }
      // One redis-server per store pass; each run's control plane uses a fresh environment in it.
      const redis = store === 'redis' ? await startRedisProcess() : null;
      try {
        for (const concurrency of THROUGHPUT_CONCURRENCY) {
          const items = itemsFor(concurrency, settings);
          const rates: number[] = [];
          for (let run = 0; run < runs; run += 1) {
            rates.push(await oneRun(store, redis, concurrency, items));
            settings.progress?.(`throughput ${store} C=${concurrency} run ${run + 1}/${runs}: ${rates.at(-1)!.toFixed(1)}/s`);
          }
          cases.push({ params: { store, concurrency, items, pollers: pollersFor(concurrency) }, metrics: { throughput: summarize(rates) } });
        }
      } finally {
        await redis?.stop();
      }
    }
    const at64 = cases.find((c) => c.params['store'] === 'memory' && c.params['concurrency'] === 64)?.metrics['throughput']?.median ?? Number.NaN;
    return {
      name: 'throughput',
      title: 'End-to-end throughput, no-op function runtime',
      method:
        'Each run starts a control plane in its own process (`envworker control-plane`, memory store or Redis store on a local redis-server) on 127.0.0.1, ' +
        'queues N items over HTTP, then times a worker in the benchmark process (functionRuntime whose function returns at once, ' +
        'maxConcurrency C, the listed long polls, idle delay 0) from start() to the Nth `stopped` event. Each item is polled, acked, heartbeaten once, run and stopped over HTTP. ' +
        `With \`--quick\` N is smaller (${itemsFor(64, { quick: true })} at C=64) and there are fewer runs. ${notMeasured.join(' ')}`.trim(),
      generated_at: new Date().toISOString(),
      quick: settings.quick,
      machine: machineInfo(),
      versions: versions(),
      parameters: { runs, concurrency: [...THROUGHPUT_CONCURRENCY], stores: [...THROUGHPUT_STORES], max_pollers: MAX_POLLERS, control_plane: 'own process' },
      columns: [{ key: 'throughput', label: 'throughput', unit: 'items/s' }],
      cases,
      goals: [{ goal: 'no-op throughput at C=64, memory store ≥ 1,000 items/s', value: at64, unit: 'items/s', met: at64 >= 1000 }],
      plots: [{ id: 'items-per-second', title: 'No-op throughput by concurrency, per store', x: 'concurrency', xLabel: 'maxConcurrency C', xScale: 'log', y: ['throughput'], yLabel: 'items/s, start() to the last stopped', series: 'store' }],
    } satisfies BenchResult;
  },
};
