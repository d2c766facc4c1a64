/**
 * Benchmark 4: claim latency, enqueue to sandbox start, p50/p95/p99: an idle worker with idle
 * delay 0 and with the default delay, a busy worker, and the process and Docker runtimes, whose
 * start cost (the runtime's `start()` alone) is a column of every case.
 */
import type { Benchmark } from './benchmark.js';
import { runsOf } from './benchmark.js';
import { ARRIVAL_WINDOW_MS, BUSY, CLAIM_CASES, DEFAULT_DELAY_WORKERS, DOCKER_IMAGE, IDLE_GAP_MS } from './claim-cases.js';
import { machineInfo, versions, type BenchCase, type BenchResult, type GoalCheck, type PlotSpec } from './result.js';
import { percentile, summarize } from './stats.js';

/** The case whose figures the goals are about. */
const GOAL_CASE = 'idle, delay 0';

const PLOTS: readonly PlotSpec[] = [
  {
    id: 'latency',
    title: 'Claim latency, enqueue to sandbox started',
    x: 'case',
    y: ['p50', 'p95', 'p99'],
    yLabel: 'latency (ms, log scale)',
    yScale: 'log',
    mark: 'bar',
  },
  {
    id: 'start-cost',
    title: "Start cost of the runtime: its start() alone",
    x: 'case',
    y: ['start_p50', 'start_p99'],
    yLabel: 'start() (ms, log scale)',
    yScale: 'log',
    mark: 'bar',
  },
];

export const claimLatency: Benchmark = {
  name: 'claim-latency',
  async run(settings) {
    const runs = runsOf(settings);
    const cases: BenchCase[] = [];
    const notMeasured: string[] = [];
    for (const claimCase of CLAIM_CASES) {
      const why = await claimCase.unavailable();
      if (why !== null) {
        notMeasured.push(`${claimCase.name}: not measured: ${why}`);
        settings.progress?.(`claim-latency ${claimCase.name}: not measured: ${why}`);
        continue;
      }
      const samples = claimCase.samples(settings);
      const figures = { p50: [] as number[], p95: [] as number[], p99: [] as number[], start_p50: [] as number[], start_p99: [] as number[] };
      for (let run = 0; run < runs; run += 1) {
        const measured = await claimCase.run(samples);
        const latencies = measured.map((sample) => sample.latencyMs);
        const starts = measured.map((sample) => sample.startMs);
        figures.p50.push(percentile(latencies, 50));
        figures.p95.push(percentile(latencies, 95));
        figures.p99.push(percentile(latencies, 99));
        figures.start_p50.push(percentile(starts, 50));
        figures.start_p99.push(percentile(starts, 99));
        settings.progress?.(
          `claim-latency ${claimCase.name} run ${run + 1}/${runs}: p50 ${figures.p50.at(-1)!.toFixed(2)} ms, p99 ${figures.p99.at(-1)!.toFixed(2)} ms, start p50 ${figures.start_p50.at(-1)!.toFixed(2)} ms`,
        );
      }
      cases.push({
        params: { case: claimCase.name, ...claimCase.params, samples },
        metrics: {
          p50: summarize(figures.p50),
          p95: summarize(figures.p95),
          p99: summarize(figures.p99),
          start_p50: summarize(figures.start_p50),
          start_p99: summarize(figures.start_p99),
        },
      });
    }
    const goalCase = cases.find((c) => c.params['case'] === GOAL_CASE)?.metrics;
    const p50 = goalCase?.['p50']?.median ?? Number.NaN;
    const p99 = goalCase?.['p99']?.median ?? Number.NaN;
    const goals: GoalCheck[] = [
      { goal: 'claim latency p50 < 10 ms', value: p50, unit: 'ms', met: p50 < 10 },
      { goal: 'claim latency p99 < 50 ms', value: p99, unit: 'ms', met: p99 < 50 },
    ];
    return {
      name: 'claim-latency',
      title: 'Claim latency: enqueue to sandbox start; runtime start cost',
      method:
        'Each run of a case starts a control plane (memory store) in the benchmark process on 127.0.0.1, so that an item is enqueued straight into its store ' +
        'and the moment it is queued is exact (no client round trip counted); the workers are real and poll, ack and heartbeat over HTTP. ' +
        "Latency: from just before the enqueue to the worker's `started` event for that item (its sandbox is up). Start cost: the runtime's start() alone, " +
        'from the call to the sandbox running (a timing wrapper around the real runtime). One item at a time per worker; p50/p95/p99 are per run over its samples. ' +
        `Cases: idle, delay 0: one slot, one long poll, idle delay 0, no-op function runtime; after each item a ${IDLE_GAP_MS} ms gap lets the next long poll wait at the server. ` +
        `Idle, default delay: the worker's default pause of 1–3 s after an empty poll; each item is enqueued at a uniformly random moment within ${ARRIVAL_WINDOW_MS} ms ` +
        `of the worker's first empty poll after its last item; ${DEFAULT_DELAY_WORKERS} such workers, each on its own environment, are sampled at once since each sample takes seconds. ` +
        `Busy: maxConcurrency ${BUSY.maxConcurrency} with ${BUSY.held} long items held (lease TTL ${BUSY.leaseTtlSeconds} s, so they are heartbeaten during the run) ` +
        'and long polls waiting on the free slots; the new items are timed. ' +
        `Process runtime: @envworker/runtime-process running \`true\`; Docker runtime: @envworker/runtime-docker running \`true\` in ${DOCKER_IMAGE}; both one slot, idle delay 0. ` +
        `With \`--quick\` there are fewer samples per run (see the samples column) and fewer runs; a p99 of fewer than 100 samples is their largest. ${notMeasured.join('. ')}`.trim(),
      generated_at: new Date().toISOString(),
      quick: settings.quick,
      machine: machineInfo(),
      versions: versions(),
      parameters: {
        runs,
        idle_gap_ms: IDLE_GAP_MS,
        arrival_window_ms: ARRIVAL_WINDOW_MS,
        default_delay_workers: DEFAULT_DELAY_WORKERS,
        store: 'memory',
        control_plane: 'in process',
        not_measured: notMeasured,
      },
      columns: [
        { key: 'p50', label: 'p50', unit: 'ms' },
        { key: 'p95', label: 'p95', unit: 'ms' },
        { key: 'p99', label: 'p99', unit: 'ms' },
        { key: 'start_p50', label: 'start() p50', unit: 'ms' },
        { key: 'start_p99', label: 'start() p99', unit: 'ms' },
      ],
      cases,
      goals,
      plots: PLOTS,
    } satisfies BenchResult;
  },
};
