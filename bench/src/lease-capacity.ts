/**
 * Benchmark 3: lease capacity. One worker process holds N leases (function runtime whose function
 * waits for its signal, lease TTL 30 s) against a control plane in its own process, and is
 * measured over a steady-state window once all N are held: renewed beats per second, the worker
 * process's CPU and RSS, how late its beats went out, and leases lost.
 */
import type { Benchmark, SuiteSettings } from './benchmark.js';
import { holdLeases, leasePollers, MAX_LEASE_POLLERS } from './lease-worker/held-leases.js';
import { CPU_PROFILE_DIR_VARIABLE } from './lease-worker/lease-worker-handle.js';
import { machineInfo, versions, type BenchCase, type BenchResult, type GoalCheck } from './result.js';
import { summarize } from './stats.js';
import { sleep } from './wait.js';

export const LEASE_COUNTS = [1_000, 5_000, 10_000] as const;
const LEASE_TTL_SECONDS = 30;
const HOLD_MS = { full: 180_000, quick: 60_000 } as const;
/** With `--items`: a TTL of 10 s beats every 3.3 s, so a 5 s hold sees every lease renewed at least once. */
const SMOKE = { leaseTtlSeconds: 10, holdMs: 5_000 } as const;
/** 1 KB = 1,000 bytes. */
const KB = 1000;
const MB = 1000 * 1000;
const GOAL_LEASES = 10_000;
const GOAL_P99_LATENESS_MS = 250;
const GOAL_RSS_PER_LEASE_KB = 60;

interface Plan {
  readonly leaseCounts: readonly number[];
  readonly runs: number;
  readonly holdMs: number;
  readonly leaseTtlSeconds: number;
}

function planOf(settings: SuiteSettings): Plan {
  if (settings.items !== undefined) return { leaseCounts: [settings.items], runs: settings.runs ?? 1, ...SMOKE };
  if (settings.quick) return { leaseCounts: [GOAL_LEASES], runs: settings.runs ?? 1, holdMs: HOLD_MS.quick, leaseTtlSeconds: LEASE_TTL_SECONDS };
  return { leaseCounts: LEASE_COUNTS, runs: settings.runs ?? 3, holdMs: HOLD_MS.full, leaseTtlSeconds: LEASE_TTL_SECONDS };
}

/** The figures of one run. */
interface RunFigures {
  readonly heartbeats: number;
  readonly cpu: number;
  readonly rss_idle: number;
  readonly rss_max: number;
  readonly rss_end: number;
  readonly rss_per_lease: number;
  readonly lateness_p50: number;
  readonly lateness_p99: number;
  readonly lateness_max: number;
  readonly loop_delay_p99: number;
  readonly loop_delay_max: number;
  readonly gc_pause_max: number;
  readonly gc_share: number;
  readonly lost: number;
  readonly lost_in_shutdown: number;
  readonly ramp: number;
  readonly shutdown: number;
}

async function oneRun(leases: number, plan: Plan, progress: (line: string) => void): Promise<RunFigures> {
  const held = await holdLeases({ leases, leaseTtlSeconds: plan.leaseTtlSeconds, gcBeforeSample: false });
  let window;
  try {
    await held.worker.request({ type: 'begin_window' }, 'window_started', 10_000);
    await sleep(plan.holdMs);
    window = (await held.worker.request({ type: 'end_window' }, 'window', 30_000)).figures;
  } catch (error) {
    await held.abandon();
    throw error;
  }
  const ended = await held.finish();
  if (ended.lost > 0) {
    const reasons = Object.entries(ended.lostReasons).map(([reason, count]) => `${reason} ${count}`).join(', ');
    progress(`lease-capacity N=${leases}: ${ended.lost} lost (${ended.lostInShutdown} in the shutdown; lease_lost by reason: ${reasons || 'none'})`);
  }
  return {
    heartbeats: window.beats / (window.wallMs / 1000),
    cpu: (window.cpuMs / window.wallMs) * 100,
    rss_idle: held.idle.rss / MB,
    rss_max: window.rssMax / MB,
    rss_end: window.rssEnd / MB,
    rss_per_lease: (window.rssEnd - held.idle.rss) / leases / KB,
    lateness_p50: window.latenessP50Ms,
    lateness_p99: window.latenessP99Ms,
    lateness_max: window.latenessMaxMs,
    loop_delay_p99: window.loopDelayP99Ms,
    loop_delay_max: window.loopDelayMaxMs,
    gc_pause_max: window.gcPauseMaxMs,
    gc_share: (window.gcPauseTotalMs / window.wallMs) * 100,
    lost: ended.lost,
    lost_in_shutdown: ended.lostInShutdown,
    ramp: held.rampMs / 1000,
    shutdown: ended.shutdownMs / 1000,
  };
}

const COLUMNS = [
  { key: 'heartbeats', label: 'heartbeats', unit: '/s' },
  { key: 'cpu', label: 'worker CPU', unit: '% of a core' },
  { key: 'rss_idle', label: 'RSS idle', unit: 'MB' },
  { key: 'rss_max', label: 'RSS max', unit: 'MB' },
  { key: 'rss_end', label: 'RSS at end', unit: 'MB' },
  { key: 'rss_per_lease', label: 'RSS per lease', unit: 'KB' },
  { key: 'lateness_p50', label: 'beat lateness p50', unit: 'ms' },
  { key: 'lateness_p99', label: 'beat lateness p99', unit: 'ms' },
  { key: 'lateness_max', label: 'beat lateness max', unit: 'ms' },
  { key: 'loop_delay_p99', label: 'event-loop delay p99', unit: 'ms' },
  { key: 'loop_delay_max', label: 'event-loop delay max', unit: 'ms' },
  { key: 'gc_pause_max', label: 'longest GC pause', unit: 'ms' },
  { key: 'gc_share', label: 'time in GC', unit: '%' },
  { key: 'lost', label: 'leases lost', unit: 'leases' },
  { key: 'lost_in_shutdown', label: 'of which in the shutdown', unit: 'leases' },
  { key: 'ramp', label: 'ramp to N held', unit: 's' },
  { key: 'shutdown', label: 'shutdown of N items', unit: 's' },
] as const satisfies readonly { key: keyof RunFigures; label: string; unit: string }[];

/** The goals, on the case with the most leases (10,000 unless `--items` chose another N). */
function goalsOf(cases: readonly BenchCase[]): GoalCheck[] {
  const largest = cases.reduce<BenchCase | undefined>((best, c) => (best === undefined || Number(c.params['leases']) > Number(best.params['leases']) ? c : best), undefined);
  if (largest === undefined) return [];
  const n = Number(largest.params['leases']).toLocaleString('en-US');
  const metric = (key: keyof RunFigures) => largest.metrics[key]!;
  // Zero lost in every run, not in the median run: one lost lease anywhere misses the goal.
  const lostMax = metric('lost').max;
  const p99 = metric('lateness_p99').median;
  const perLease = metric('rss_per_lease').median;
  return [
    { goal: `${n} leases: none lost in any run`, value: lostMax, unit: 'leases', met: lostMax === 0 },
    { goal: `${n} leases: p99 beat lateness < ${GOAL_P99_LATENESS_MS} ms`, value: p99, unit: 'ms', met: p99 < GOAL_P99_LATENESS_MS },
    { goal: `${n} leases: RSS per lease < ${GOAL_RSS_PER_LEASE_KB} KB`, value: perLease, unit: 'KB', met: perLease < GOAL_RSS_PER_LEASE_KB },
  ];
}

export const leaseCapacity: Benchmark = {
  name: 'lease-capacity',
  async run(settings) {
    const plan = planOf(settings);
    const cases: BenchCase[] = [];
    for (const leases of plan.leaseCounts) {
      const runs: RunFigures[] = [];
      for (let run = 0; run < plan.runs; run += 1) {
        const figures = await oneRun(leases, plan, settings.progress ?? (() => undefined));
        runs.push(figures);
        settings.progress?.(
          `lease-capacity N=${leases} run ${run + 1}/${plan.runs}: ${figures.heartbeats.toFixed(0)} beats/s, CPU ${figures.cpu.toFixed(1)}%, ` +
            `lateness p99 ${figures.lateness_p99.toFixed(1)} ms, ${figures.rss_per_lease.toFixed(1)} KB/lease, lost ${figures.lost}, shutdown ${figures.shutdown.toFixed(1)} s`,
        );
      }
      const metrics = Object.fromEntries(COLUMNS.map(({ key }) => [key, summarize(runs.map((figures) => figures[key]))]));
      cases.push({ params: { leases, pollers: leasePollers(leases), lease_ttl_s: plan.leaseTtlSeconds, hold_s: plan.holdMs / 1000 }, metrics });
    }
    const sizes =
      settings.items !== undefined
        ? `--items N: N leases only, a ${SMOKE.leaseTtlSeconds} s TTL and a ${SMOKE.holdMs / 1000} s window (a smoke size; the figures mean little).`
        : settings.quick
          ? `Quick mode: N = 10,000 only, one run, a one-minute window (the full suite: N = 1,000, 5,000 and 10,000, three runs each, three minutes).`
          : `N = 1,000, 5,000 and 10,000, ${plan.runs} runs each, a three-minute window.`;
    return {
      name: 'lease-capacity',
      title: 'Lease capacity of one worker process',
      method:
        'Each run starts a control plane (memory store) in its own process and one worker in another (a function runtime whose function waits ' +
        `until its signal aborts, maxConcurrency N, lease TTL ${plan.leaseTtlSeconds} s, up to ${MAX_LEASE_POLLERS} long polls, idle delay 0), samples the ` +
        'idle worker process, queues N items, and once all N sandboxes are up measures a steady-state window: renewed beats per second, worker CPU ' +
        '(process.cpuUsage over wall time, % of one core), worker RSS (sampled each second: the largest, and at the end), the p50/p99/max lateness of beats ' +
        '(`late_ms` of `lease_renewed`: send time minus due time, due one interval after the previous send), and, to explain lateness, the event-loop ' +
        'delay (monitorEventLoopDelay) and GC pauses. Leases lost count each item once that had a `lease_lost` or ended other than by the final ' +
        '`shutdown({ mode: "stop" })`, from the first claim to the end of that shutdown (also shown: how many of them in the shutdown, and how long it took). ' +
        'RSS per lease = (RSS at the end of the window − idle RSS) / N, 1 KB = 1,000 bytes. ' +
        `${sizes} Set ${CPU_PROFILE_DIR_VARIABLE}=<dir> to write a CPU profile of each worker process.`,
      generated_at: new Date().toISOString(),
      quick: settings.quick,
      machine: machineInfo(),
      versions: versions(),
      parameters: {
        runs: plan.runs,
        leases: [...plan.leaseCounts],
        lease_ttl_s: plan.leaseTtlSeconds,
        hold_s: plan.holdMs / 1000,
        max_pollers: MAX_LEASE_POLLERS,
        store: 'memory',
      },
      columns: COLUMNS,
      cases,
      goals: goalsOf(cases),
      plots: [
        { id: 'lateness', title: 'Beat lateness by leases held', x: 'leases', y: ['lateness_p50', 'lateness_p99'], yLabel: 'lateness (ms)' },
        { id: 'cpu', title: 'Worker CPU by leases held', x: 'leases', y: ['cpu'], yLabel: 'CPU (% of one core)' },
        { id: 'rss-per-lease', title: 'Worker RSS per lease', x: 'leases', y: ['rss_per_lease'], yLabel: 'KB per lease' },
      ],
    } satisfies BenchResult;
  },
};
