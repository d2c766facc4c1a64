/**
 * Benchmark: the session runtime. A worker in the benchmark process serves scripted sessions from
 * a control plane in its own process (memory store, its session simulator):
 *
 * - throughput: N sessions of 5 quick tool calls each (write, read, edit, bash or a second read, glob) at
 *   maxConcurrency C, from `start()` to the Nth `stopped` event: sessions/s and tool calls/s;
 * - heartbeat lateness under load: 64 sessions each running one bash call that burns CPU for a
 *   while (on a 2-core machine: 32 busy processes a core), and how late the worker's heartbeats
 *   went out meanwhile (`lease_renewed.late_ms`): the niced shells must not starve the worker.
 *
 * Both are measured with shells started by the runtime's helper process and, side by side, by
 * forking the worker process itself, which is what the helper exists to avoid. Before each run at
 * C=64 the host's own speed at starting processes is measured too (`host-calibration.ts`), since
 * the figures with bash follow it.
 */
import { performance } from 'node:perf_hooks';
import { createWorker, type WorkerEvent } from '@envworker/core';
import { sessionRuntime } from '@envworker/runtime-session';
import type { Benchmark, SuiteSettings } from './benchmark.js';
import { runsOf, sizeOf } from './benchmark.js';
import { cpuBurnCommand } from './cpu-burn.js';
import { cpuSnapshot, cpuSplit, type CpuSplit } from './cpu-split.js';
import { bashStartsPerSecond } from './host-calibration.js';
import { startControlPlaneProcess, type ControlPlaneProcess } from './infra/control-plane-process.js';
import { machineInfo, versions, type BenchCase, type BenchResult } from './result.js';
import { pollersFor } from './side-by-side.js';
import { percentile, summarize, type Summary } from './stats.js';

export const SESSION_CONCURRENCY = [1, 16, 64] as const;
/** Sessions served at once while the shells burn CPU. */
export const BURNING_SESSIONS = 64;
const CALLS_PER_SESSION = 5;
/** Served once its turn ended: as short as the runtime allows, so a session's time is its calls. */
const MAX_IDLE_MS = 1;
const RUN_DEADLINE_MS = 180_000;
/** A beat every ~3.3 s, so a burn of 20 s sees each of the 64 leases renewed several times. */
const BURN_LEASE_TTL_SECONDS = 10;
const BURN_MS = { full: 20_000, quick: 12_000, smoke: 1_000 } as const;
const GOAL_CALLS_PER_SECOND = 200;
const GOAL_P99_LATENESS_MS = 250;
/** The concurrency before whose runs the host's process starts are measured: the goal's. */
const CALIBRATED_CONCURRENCY = 64;
/** Loops started at once by the host calibration: one, then one per core of this 2-core machine. */
const CALIBRATION_AT_ONCE = [1, 2] as const;
const CALIBRATION_STARTS = { full: 200, quick: 100, smoke: 4 } as const;

const WITH_BASH = [
  { tool: 'write', input: { file_path: 'a.txt', content: 'alpha\nbeta\n' } },
  { tool: 'read', input: { file_path: 'a.txt' } },
  { tool: 'edit', input: { file_path: 'a.txt', old_string: 'beta', new_string: 'gamma' } },
  { tool: 'bash', input: { command: 'cat a.txt' } },
  { tool: 'glob', input: { pattern: '*.txt' } },
] as const;
const FILE_TOOLS = [...WITH_BASH.slice(0, 3), WITH_BASH[1], WITH_BASH[4]] as const;

type Shells = 'helper' | 'in-process';

/**
 * The throughput scenarios, run side by side: 5 quick calls with one bash call (whose session then
 * starts its shell) under each way of starting shells, and with file tools only.
 */
const SCENARIOS: readonly { readonly scenario: string; readonly script: readonly unknown[]; readonly shells: Shells }[] = [
  { scenario: 'with bash', script: WITH_BASH, shells: 'helper' },
  { scenario: 'with bash, in-process fork', script: WITH_BASH, shells: 'in-process' },
  { scenario: 'file tools', script: FILE_TOOLS, shells: 'helper' },
];
/** The CPU-burning runs, under each way of starting shells. */
const BURN_SCENARIOS: readonly { readonly scenario: string; readonly shells: Shells }[] = [
  { scenario: 'CPU-burning bash', shells: 'helper' },
  { scenario: 'CPU-burning bash, in-process fork', shells: 'in-process' },
];

function burnScript(burnMs: number): unknown[] {
  return [{ tool: 'bash', input: { command: `${cpuBurnCommand(burnMs)}; echo burnt`, timeout_ms: burnMs + 30_000 } }];
}

function sessionsFor(concurrency: number, settings: SuiteSettings): number {
  if (settings.items !== undefined) return settings.items;
  return settings.quick ? Math.max(64, 2 * concurrency) : Math.max(200, 4 * concurrency);
}

interface ServeFigures {
  readonly seconds: number;
  readonly okCalls: number;
  readonly lateness: readonly number[];
  /** CPU ms per session, from start() to the last `stopped`; `null` off Linux. */
  readonly cpu: CpuSplit | null;
}

/** Serves `sessions` already-queued sessions with `concurrency` slots; throws unless each completed with every call ok. */
async function serve(cp: ControlPlaneProcess, sessions: number, concurrency: number, callsPerSession: number, shells: Shells, leaseTtlSeconds?: number): Promise<ServeFigures> {
  const runtime = sessionRuntime({ maxIdleMs: MAX_IDLE_MS, logLevel: 'error', shells });
  let okCalls = 0;
  let failedCall: string | null = null;
  runtime.toolCalls$.subscribe((call) => {
    if (call.ending === 'ok') okCalls += 1;
    else failedCall ??= `${call.name} ended ${call.ending}`;
  });
  const worker = createWorker({
    baseUrl: cp.url,
    environmentId: cp.environmentId,
    environmentKey: cp.environmentKey,
    runtime,
    maxConcurrency: concurrency,
    pollers: pollersFor(concurrency),
    pollIdleDelayMs: [0, 0],
    logger: { level: 'error' },
    ...(leaseTtlSeconds === undefined ? {} : { leaseTtlSeconds }),
  });
  const lateness: number[] = [];
  let stopped = 0;
  let failure: string | null = null;
  const allStopped = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`session bench: ${stopped} of ${sessions} sessions ended within ${RUN_DEADLINE_MS} ms`)), RUN_DEADLINE_MS);
    worker.events$.subscribe((event: WorkerEvent) => {
      if (event.type === 'lease_renewed') lateness.push(event.late_ms);
      if (event.type === 'fatal') failure = event.error;
      if (event.type !== 'stopped') return;
      if (event.outcome !== 'completed') failure ??= `item ${event.work_id} ended ${event.outcome}${event.exit?.detail === undefined ? '' : `: ${event.exit.detail}`}`;
      stopped += 1;
      if (stopped === sessions) {
        clearTimeout(timer);
        resolve(performance.now());
      }
    });
  });
  const cpuBefore = cpuSnapshot(cp.pid);
  const startedAt = performance.now();
  await worker.start();
  try {
    const endedAt = await allStopped;
    const cpu = cpuSplit(cpuBefore, cpuSnapshot(cp.pid), sessions);
    if (failure !== null) throw new Error(`session bench: ${failure}`);
    if (failedCall !== null) throw new Error(`session bench: a tool call failed: ${failedCall}`);
    if (okCalls !== sessions * callsPerSession) throw new Error(`session bench: ${okCalls} calls ok, expected ${sessions * callsPerSession}`);
    return { seconds: (endedAt - startedAt) / 1000, okCalls, lateness, cpu };
  } finally {
    await worker.shutdown({ mode: 'stop' });
    await runtime.close();
  }
}

/** The CPU split's metrics over the runs that had one; none off Linux, where no run has one. */
function cpuMetrics(splits: readonly CpuSplit[]): Record<string, Summary> {
  if (splits.length === 0) return {};
  return {
    cpu_ms_per_session: summarize(splits.map((split) => split.machine)),
    worker_cpu_ms_per_session: summarize(splits.map((split) => split.worker)),
    control_plane_cpu_ms_per_session: summarize(splits.map((split) => split.controlPlane)),
    rest_cpu_ms_per_session: summarize(splits.map((split) => split.rest)),
  };
}

export const sessionThroughput: Benchmark = {
  name: 'session-throughput',
  async run(settings) {
    const runs = runsOf(settings);
    const cases: BenchCase[] = [];
    const calibrationStarts = sizeOf(settings, CALIBRATION_STARTS);
    const calibration = CALIBRATION_AT_ONCE.map((): number[] => []);
    // Runs interleave the scenarios, so each pair of figures shares the machine's state of the moment.
    for (const concurrency of SESSION_CONCURRENCY) {
      const sessions = sessionsFor(concurrency, settings);
      const perSession = SCENARIOS.map((): number[] => []);
      const perCall = SCENARIOS.map((): number[] => []);
      const cpu = SCENARIOS.map((): CpuSplit[] => []);
      for (let run = 0; run < runs; run += 1) {
        if (concurrency === CALIBRATED_CONCURRENCY) {
          for (const [index, atOnce] of CALIBRATION_AT_ONCE.entries()) {
            calibration[index]!.push(await bashStartsPerSecond(atOnce, Math.ceil(calibrationStarts / atOnce)));
          }
          settings.progress?.(`session-throughput host calibration run ${run + 1}/${runs}: bash -c cat ${CALIBRATION_AT_ONCE.map((atOnce, index) => `${calibration[index]!.at(-1)!.toFixed(0)}/s with ${atOnce} at once`).join(', ')}`);
        }
        for (const [index, { scenario, script, shells }] of SCENARIOS.entries()) {
          const cp = await startControlPlaneProcess({ store: 'memory' });
          try {
            await cp.enqueueSessions(sessions, { script }, 16);
            const figures = await serve(cp, sessions, concurrency, CALLS_PER_SESSION, shells);
            perSession[index]!.push(sessions / figures.seconds);
            perCall[index]!.push(figures.okCalls / figures.seconds);
            if (figures.cpu !== null) cpu[index]!.push(figures.cpu);
          } finally {
            await cp.close();
          }
          settings.progress?.(`session-throughput ${scenario} C=${concurrency} run ${run + 1}/${runs}: ${perSession[index]!.at(-1)!.toFixed(1)} sessions/s, ${perCall[index]!.at(-1)!.toFixed(1)} calls/s`);
        }
      }
      for (const [index, { scenario, shells }] of SCENARIOS.entries()) {
        cases.push({ params: { scenario, shells, concurrency, sessions }, metrics: { sessions_per_second: summarize(perSession[index]!), calls_per_second: summarize(perCall[index]!), ...cpuMetrics(cpu[index]!) } });
      }
    }
    for (const [index, atOnce] of CALIBRATION_AT_ONCE.entries()) {
      cases.push({ params: { scenario: 'host: bash -c cat, back to back', at_once: atOnce }, metrics: { starts_per_second: summarize(calibration[index]!) } });
    }

    const burnMs = sizeOf(settings, BURN_MS);
    const burning = settings.items ?? BURNING_SESSIONS;
    const p99 = BURN_SCENARIOS.map((): number[] => []);
    const max = BURN_SCENARIOS.map((): number[] => []);
    for (let run = 0; run < runs; run += 1) {
      for (const [index, { scenario, shells }] of BURN_SCENARIOS.entries()) {
        const cp = await startControlPlaneProcess({ store: 'memory' });
        try {
          await cp.enqueueSessions(burning, { script: burnScript(burnMs) }, 16);
          const figures = await serve(cp, burning, burning, 1, shells, BURN_LEASE_TTL_SECONDS);
          if (figures.lateness.length === 0) throw new Error('session bench: no lease was renewed while the shells burnt CPU');
          p99[index]!.push(percentile(figures.lateness, 99));
          max[index]!.push(Math.max(...figures.lateness));
          settings.progress?.(`session-throughput ${scenario} run ${run + 1}/${runs}: ${figures.lateness.length} beats, p99 late ${p99[index]!.at(-1)!.toFixed(1)} ms`);
        } finally {
          await cp.close();
        }
      }
    }
    for (const [index, { scenario, shells }] of BURN_SCENARIOS.entries()) {
      cases.push({ params: { scenario, shells, concurrency: burning, sessions: burning }, metrics: { lateness_p99: summarize(p99[index]!), lateness_max: summarize(max[index]!) } });
    }

    const at64 = cases.find((c) => c.params['scenario'] === 'with bash' && c.params['concurrency'] === 64)?.metrics['calls_per_second']?.median ?? Number.NaN;
    const fileAt64 = cases.find((c) => c.params['scenario'] === 'file tools' && c.params['concurrency'] === 64)?.metrics['calls_per_second']?.median ?? Number.NaN;
    const lateP99 = cases.find((c) => c.params['scenario'] === BURN_SCENARIOS[0]!.scenario)?.metrics['lateness_p99']?.median ?? Number.NaN;
    return {
      name: 'session-throughput',
      title: 'Session runtime: sessions and tool calls per second, heartbeat lateness under CPU-burning tools',
      method:
        'Each run starts a control plane in its own process (`envworker control-plane`, memory store, its session simulator) on 127.0.0.1 and queues N session items over HTTP, ' +
        `each a scripted agent. A worker in the benchmark process serves them with \`sessionRuntime({ maxIdleMs: ${MAX_IDLE_MS} })\` at maxConcurrency C: ` +
        'per session it fetches the session, opens its event stream, reads its history, runs each tool call in the item\'s own work directory and posts the result, ' +
        `then stops the item. "with bash": ${CALLS_PER_SESSION} calls per session (write, read, edit, bash \`cat\`, glob; the bash call starts the session's shell), "file tools": the same with a second read for the bash call; timed from start() to the Nth \`stopped\` event. ` +
        'Shells start through the runtime\'s shell helper process (`shells: \'helper\'`, the default) or, in the "in-process fork" scenarios, by forking the worker process itself (`shells: \'in-process\'`); the scenarios take turns within each run. ' +
        `"CPU-burning bash": ${burning} sessions at once, each one bash call that spins for ${burnMs / 1000} s (${burning} busy shells, niced 19, on this machine's cores), ` +
        `lease TTL ${BURN_LEASE_TTL_SECONDS} s; lateness is how long after its due time each heartbeat went out (\`lease_renewed.late_ms\`), over all beats of the run. ` +
        `Host calibration, before each run at C=${CALIBRATED_CONCURRENCY}, with nothing else of the benchmark running: loops of bash starting \`/bin/bash -c 'cat a.txt'\` back to back (${calibrationStarts} starts in all), one loop, then ${CALIBRATION_AT_ONCE[1]} at once; a session's bash call costs about one such start. ` +
        'CPU per session (Linux, from /proc over the same window): the whole machine\'s busy time, the worker\'s (this process, every thread), the control plane process\'s, and the rest: the shells and the helper, kernel threads, anything else running. /proc counts in 10 ms ticks, so a figure of N sessions is good to about ±30/N ms (a file-tools run\'s rest is 0 within that).',
      generated_at: new Date().toISOString(),
      quick: settings.quick,
      machine: machineInfo(),
      versions: versions(),
      parameters: { runs, concurrency: [...SESSION_CONCURRENCY], calls_per_session: CALLS_PER_SESSION, burning_sessions: burning, burn_ms: burnMs, calibration_starts: calibrationStarts, max_idle_ms: MAX_IDLE_MS, control_plane: 'own process' },
      columns: [
        { key: 'sessions_per_second', label: 'sessions', unit: 'sessions/s' },
        { key: 'calls_per_second', label: 'tool calls', unit: 'calls/s' },
        { key: 'cpu_ms_per_session', label: 'machine CPU', unit: 'ms/session' },
        { key: 'worker_cpu_ms_per_session', label: 'worker CPU', unit: 'ms/session' },
        { key: 'control_plane_cpu_ms_per_session', label: 'control plane CPU', unit: 'ms/session' },
        { key: 'rest_cpu_ms_per_session', label: 'shells and the rest', unit: 'ms/session' },
        { key: 'starts_per_second', label: 'host: bash starts', unit: 'starts/s' },
        { key: 'lateness_p99', label: 'beat lateness p99', unit: 'ms' },
        { key: 'lateness_max', label: 'beat lateness max', unit: 'ms' },
      ],
      cases,
      goals: [
        { goal: 'quick tool calls (one of them bash) at C=64 ≥ 200 calls/s', value: at64, unit: 'calls/s', met: at64 >= GOAL_CALLS_PER_SECOND },
        { goal: 'quick file-tool calls at C=64 ≥ 200 calls/s', value: fileAt64, unit: 'calls/s', met: fileAt64 >= GOAL_CALLS_PER_SECOND },
        { goal: `heartbeat lateness p99 with ${burning} CPU-burning bash sessions < 250 ms`, value: lateP99, unit: 'ms', met: lateP99 < GOAL_P99_LATENESS_MS },
      ],
      plots: [
        { id: 'calls-per-second', title: 'Tool calls per second by concurrency (5 quick calls a session)', x: 'concurrency', xLabel: 'maxConcurrency C', xScale: 'log', y: ['calls_per_second'], yLabel: 'tool calls/s', series: 'scenario' },
      ],
    } satisfies BenchResult;
  },
};
