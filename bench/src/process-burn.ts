/**
 * Benchmark: heartbeat lateness while process sandboxes burn CPU. A worker in the benchmark process
 * runs 64 items at once with the process runtime, each a bash loop that spins for a while (on a
 * 2-core machine: 32 busy processes a core), and records how late its heartbeats went out
 * (`lease_renewed.late_ms`), how many leases it lost and how many items ended otherwise than
 * `completed` (a worker starved of CPU misses its ack's deadline, say). Side by side: the
 * runtime's default niceness (19, for each sandbox and its session's scheduling group) and
 * `nice: 0`, the priority every sandbox had before the option existed.
 */
import { createWorker, type WorkerEvent } from '@envworker/core';
import { processRuntime } from '@envworker/runtime-process';
import type { Benchmark } from './benchmark.js';
import { runsOf, sizeOf } from './benchmark.js';
import { cpuBurnCommand } from './cpu-burn.js';
import { startControlPlaneProcess } from './infra/control-plane-process.js';
import { machineInfo, versions, type BenchCase, type BenchResult } from './result.js';
import { percentile, summarize } from './stats.js';

const SANDBOXES = 64;
/** A beat every ~3.3 s, so each lease is renewed several times during a burn. */
const LEASE_TTL_SECONDS = 10;
const BURN_MS = { full: 20_000, quick: 12_000, smoke: 1_000 } as const;
const RUN_DEADLINE_MS = 180_000;
const GOAL_P99_LATENESS_MS = 250;

const SCENARIOS: readonly { readonly scenario: string; readonly nice: number | undefined }[] = [
  { scenario: 'default (nice 19)', nice: undefined },
  { scenario: 'nice 0', nice: 0 },
];

interface BurnFigures {
  readonly lateness: readonly number[];
  readonly lostLeases: number;
  /** Items that ended with another outcome than `completed` or `lease_lost`, by outcome. */
  readonly otherOutcomes: Readonly<Record<string, number>>;
}

/** Runs `count` queued items that each burn CPU for `burnMs`; resolves once each ended other than `lease_lost`. */
async function burn(count: number, burnMs: number, nice: number | undefined): Promise<BurnFigures> {
  const cp = await startControlPlaneProcess({ store: 'memory' });
  try {
    await cp.enqueue(count, {}, 16);
    const runtime = processRuntime({
      command: [cpuBurnCommand(burnMs)],
      shell: '/bin/bash',
      ...(nice === undefined ? {} : { nice }),
    });
    const worker = createWorker({
      baseUrl: cp.url,
      environmentId: cp.environmentId,
      environmentKey: cp.environmentKey,
      runtime,
      maxConcurrency: count,
      leaseTtlSeconds: LEASE_TTL_SECONDS,
      logger: { level: 'error' },
    });
    const lateness: number[] = [];
    let lostLeases = 0;
    const otherOutcomes: Record<string, number> = {};
    // An item whose lease was lost is queued again by the control plane and served once more, so
    // the run ends when every item has ended some other way, not after `count` stops.
    const finished = new Set<string>();
    let failure: string | null = null;
    const allFinished = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`process burn: ${finished.size} of ${count} items ended within ${RUN_DEADLINE_MS} ms`)), RUN_DEADLINE_MS);
      worker.events$.subscribe((event: WorkerEvent) => {
        if (event.type === 'lease_renewed') lateness.push(event.late_ms);
        if (event.type === 'fatal') failure = event.error;
        if (event.type !== 'stopped') return;
        if (event.outcome === 'lease_lost') {
          lostLeases += 1;
          return;
        }
        if (event.outcome !== 'completed') otherOutcomes[event.outcome] = (otherOutcomes[event.outcome] ?? 0) + 1;
        finished.add(event.work_id);
        if (finished.size === count) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await worker.start();
    try {
      await allFinished;
    } finally {
      await worker.shutdown({ mode: 'stop' });
    }
    if (failure !== null) throw new Error(`process burn: ${failure}`);
    return { lateness, lostLeases, otherOutcomes };
  } finally {
    await cp.close();
  }
}

export const processBurn: Benchmark = {
  name: 'process-burn',
  async run(settings) {
    const runs = runsOf(settings);
    const burnMs = sizeOf(settings, BURN_MS);
    const count = settings.items ?? SANDBOXES;
    const p99 = SCENARIOS.map((): number[] => []);
    const max = SCENARIOS.map((): number[] => []);
    const lost = SCENARIOS.map((): number[] => []);
    const notCompleted = SCENARIOS.map((): number[] => []);
    // The scenarios take turns within each run, so each pair shares the machine's state of the moment.
    for (let run = 0; run < runs; run += 1) {
      for (const [index, { scenario, nice }] of SCENARIOS.entries()) {
        const figures = await burn(count, burnMs, nice);
        if (figures.lateness.length === 0) throw new Error('process burn: no lease was renewed while the sandboxes burnt CPU');
        p99[index]!.push(percentile(figures.lateness, 99));
        max[index]!.push(Math.max(...figures.lateness));
        lost[index]!.push(figures.lostLeases);
        const others = Object.entries(figures.otherOutcomes);
        notCompleted[index]!.push(others.reduce((sum, [, n]) => sum + n, 0));
        const ended = others.length === 0 ? '' : `, ended otherwise: ${others.map(([outcome, n]) => `${n} ${outcome}`).join(', ')}`;
        settings.progress?.(`process-burn ${scenario} run ${run + 1}/${runs}: ${figures.lateness.length} beats, p99 late ${p99[index]!.at(-1)!.toFixed(1)} ms, ${figures.lostLeases} leases lost${ended}`);
      }
    }
    const cases: BenchCase[] = SCENARIOS.map(({ scenario, nice }, index) => ({
      params: { scenario, nice: nice ?? 19, sandboxes: count },
      metrics: {
        lateness_p99: summarize(p99[index]!),
        lateness_max: summarize(max[index]!),
        lost_leases: summarize(lost[index]!),
        not_completed: summarize(notCompleted[index]!),
      },
    }));
    const lateP99 = cases[0]?.metrics['lateness_p99']?.median ?? Number.NaN;
    // Every run of the default, not the median: one item given up is one too many.
    const defaultMisses = (lost[0] ?? []).concat(notCompleted[0] ?? []).reduce((sum, n) => sum + n, 0);
    return {
      name: 'process-burn',
      title: 'Process runtime: heartbeat lateness while every sandbox burns CPU',
      method:
        'Each run starts a control plane in its own process (`envworker control-plane`, memory store) on 127.0.0.1 and queues N items over HTTP. ' +
        `A worker in the benchmark process runs them all at once with \`processRuntime\`, each item a bash loop that spins for ${burnMs / 1000} s (${count} busy processes on this machine's cores), ` +
        `lease TTL ${LEASE_TTL_SECONDS} s; lateness is how long after its due time each heartbeat went out (\`lease_renewed.late_ms\`), over all beats of the run. ` +
        'The runtime gives each sandbox, and its process session\'s scheduling group (the kernel\'s autogroup), niceness 19 by default; "nice 0" is the priority sandboxes had before. The two take turns within each run. ' +
        '"Other outcomes": items that ended neither `completed` nor `lease_lost` (a worker held off the CPU misses the deadline of an ack, say).',
      generated_at: new Date().toISOString(),
      quick: settings.quick,
      machine: machineInfo(),
      versions: versions(),
      parameters: { runs, sandboxes: count, burn_ms: burnMs, lease_ttl_seconds: LEASE_TTL_SECONDS, control_plane: 'own process' },
      columns: [
        { key: 'lateness_p99', label: 'beat lateness p99', unit: 'ms' },
        { key: 'lateness_max', label: 'beat lateness max', unit: 'ms' },
        { key: 'lost_leases', label: 'leases lost', unit: 'items' },
        { key: 'not_completed', label: 'other outcomes', unit: 'items' },
      ],
      cases,
      goals: [
        { goal: `heartbeat lateness p99 with ${count} CPU-burning process sandboxes (default niceness) < 250 ms`, value: lateP99, unit: 'ms', met: lateP99 < GOAL_P99_LATENESS_MS },
        { goal: `${count} CPU-burning process sandboxes (default niceness): every item completed, no lease lost, in every run`, value: defaultMisses, unit: 'items', met: defaultMisses === 0 },
      ],
    } satisfies BenchResult;
  },
};
