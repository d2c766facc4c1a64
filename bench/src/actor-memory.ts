/**
 * Benchmark 6: memory per idle actor. The lease-capacity worker process (started with
 * `--expose-gc`) holds N leases; once all are held and every lease has been renewed once more,
 * a full collection, then RSS and heap used are compared with the same process idle.
 */
import type { Benchmark, SuiteSettings } from './benchmark.js';
import { holdLeases, leasePollers } from './lease-worker/held-leases.js';
import { machineInfo, versions, type BenchCase, type BenchResult } from './result.js';
import { summarize } from './stats.js';

export const ACTOR_COUNTS = [1_000, 5_000, 10_000] as const;
const LEASE_TTL_SECONDS = 30;
/** With `--items`: a TTL of 10 s, so a round of beats takes 3.3 s instead of 10. */
const SMOKE_LEASE_TTL_SECONDS = 10;
/** 1 KB = 1,000 bytes. */
const KB = 1000;
const MB = 1000 * 1000;
/** Longest wait for a round of beats once all leases are held (an interval is at most 10 s here). */
const ROUND_DEADLINE_MS = 120_000;

interface Plan {
  readonly actorCounts: readonly number[];
  readonly runs: number;
  readonly leaseTtlSeconds: number;
}

function planOf(settings: SuiteSettings): Plan {
  if (settings.items !== undefined) return { actorCounts: [settings.items], runs: settings.runs ?? 1, leaseTtlSeconds: SMOKE_LEASE_TTL_SECONDS };
  if (settings.quick) return { actorCounts: [1_000, 10_000], runs: settings.runs ?? 1, leaseTtlSeconds: LEASE_TTL_SECONDS };
  return { actorCounts: ACTOR_COUNTS, runs: settings.runs ?? 3, leaseTtlSeconds: LEASE_TTL_SECONDS };
}

interface RunFigures {
  readonly rss_per_lease: number;
  readonly heap_per_lease: number;
  readonly rss_idle: number;
  readonly rss_held: number;
  readonly heap_idle: number;
  readonly heap_held: number;
}

async function oneRun(leases: number, plan: Plan): Promise<RunFigures> {
  const held = await holdLeases({ leases, leaseTtlSeconds: plan.leaseTtlSeconds, gcBeforeSample: true });
  let round;
  try {
    round = await held.worker.request({ type: 'after_round' }, 'round', ROUND_DEADLINE_MS);
  } finally {
    // Nothing is measured after the sample: no shutdown of N items to wait for.
    await held.abandon();
  }
  if (round.lostSoFar > 0) throw new Error(`actor-memory: ${round.lostSoFar} of ${leases} leases were lost; the sample is not of ${leases} held leases`);
  const { memory } = round;
  const { idle } = held;
  return {
    rss_per_lease: (memory.rss - idle.rss) / leases / KB,
    heap_per_lease: (memory.heapUsed - idle.heapUsed) / leases / KB,
    rss_idle: idle.rss / MB,
    rss_held: memory.rss / MB,
    heap_idle: idle.heapUsed / MB,
    heap_held: memory.heapUsed / MB,
  };
}

const COLUMNS = [
  { key: 'rss_per_lease', label: 'RSS per lease', unit: 'KB' },
  { key: 'heap_per_lease', label: 'heap per lease', unit: 'KB' },
  { key: 'rss_idle', label: 'RSS idle', unit: 'MB' },
  { key: 'rss_held', label: 'RSS holding N', unit: 'MB' },
  { key: 'heap_idle', label: 'heap idle', unit: 'MB' },
  { key: 'heap_held', label: 'heap holding N', unit: 'MB' },
] as const satisfies readonly { key: keyof RunFigures; label: string; unit: string }[];

export const actorMemory: Benchmark = {
  name: 'actor-memory',
  async run(settings) {
    const plan = planOf(settings);
    const cases: BenchCase[] = [];
    for (const leases of plan.actorCounts) {
      const runs: RunFigures[] = [];
      for (let run = 0; run < plan.runs; run += 1) {
        const figures = await oneRun(leases, plan);
        runs.push(figures);
        settings.progress?.(
          `actor-memory N=${leases} run ${run + 1}/${plan.runs}: ${figures.rss_per_lease.toFixed(1)} KB RSS, ${figures.heap_per_lease.toFixed(1)} KB heap per lease`,
        );
      }
      const metrics = Object.fromEntries(COLUMNS.map(({ key }) => [key, summarize(runs.map((figures) => figures[key]))]));
      cases.push({ params: { leases, pollers: leasePollers(leases), lease_ttl_s: plan.leaseTtlSeconds }, metrics });
    }
    const sizes =
      settings.items !== undefined
        ? `--items N: N leases only, a ${SMOKE_LEASE_TTL_SECONDS} s TTL (a smoke size; the figures mean little).`
        : settings.quick
          ? 'Quick mode: N = 1,000 and 10,000, one run each (the full suite: N = 1,000, 5,000 and 10,000, three runs each).'
          : `N = 1,000, 5,000 and 10,000, ${plan.runs} runs each.`;
    return {
      name: 'actor-memory',
      title: 'Memory per idle actor (held lease)',
      method:
        'Each run starts a control plane (memory store) in its own process and the lease-capacity worker process with --expose-gc (function runtime ' +
        `whose function waits for its signal, maxConcurrency N, lease TTL ${plan.leaseTtlSeconds} s). The idle worker (started, polling an empty queue) is ` +
        'sampled after global.gc(); then N items are queued, and once all N sandboxes are up and N more beats have been renewed (a round), it is sampled ' +
        'again after global.gc(), and the worker process is then killed. Per lease = (held − idle) / N, for RSS and V8 heap used; 1 KB = 1,000 bytes. ' +
        'A run that lost a lease before the sample fails. ' +
        sizes,
      generated_at: new Date().toISOString(),
      quick: settings.quick,
      machine: machineInfo(),
      versions: versions(),
      parameters: { runs: plan.runs, leases: [...plan.actorCounts], lease_ttl_s: plan.leaseTtlSeconds, store: 'memory', gc_before_sample: true },
      columns: COLUMNS,
      cases,
      goals: [],
      plots: [{ id: 'kb-per-lease', title: 'Memory per held lease', x: 'leases', y: ['rss_per_lease', 'heap_per_lease'], yLabel: 'KB per lease' }],
    } satisfies BenchResult;
  },
};
