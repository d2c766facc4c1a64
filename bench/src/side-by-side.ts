/**
 * Benchmark 1: envworker beside the official loop. For each hold time D, each run starts one
 * control plane in its own process; the SDK's WorkPoller serves N queued items, and envworker
 * (function runtime, maxConcurrency C) serves N queued items for each C. The official loop has no
 * concurrency to set, so its one figure per run is the denominator of that run's ratio for every C.
 * Which side goes first alternates from run to run.
 */
import type { Benchmark, SuiteSettings } from './benchmark.js';
import { runsOf } from './benchmark.js';
import { envworkerItemsPerSecond } from './envworker-run.js';
import { startControlPlaneProcess } from './infra/control-plane-process.js';
import { officialItemsPerSecond } from './official-run.js';
import { machineInfo, versions, type BenchCase, type BenchResult, type GoalCheck } from './result.js';
import { summarize } from './stats.js';

export const HOLD_MS = [0, 100] as const;
export const CONCURRENCY = [1, 16, 64] as const;
const RUN_DEADLINE_MS = 120_000;

/** N: the 500 items; fewer with `--quick`. */
function itemsFor(settings: SuiteSettings): number {
  return settings.items ?? (settings.quick ? 48 : 500);
}

/**
 * Long polls of the envworker worker: one per slot up to 16. Each poll claims one item, so with
 * one poll a worker fills its slots one round trip at a time; on this 2-core machine no-op
 * throughput at C=64 rose from about 260 items/s with 1 poll to about 840 with 16, and no further with 32 or 64.
 */
export const MAX_POLLERS = 16;
export function pollersFor(concurrency: number): number {
  return Math.min(MAX_POLLERS, concurrency);
}

interface RunFigures {
  readonly official: number;
  /** items/s by concurrency. */
  readonly envworker: ReadonlyMap<number, number>;
}

async function oneRun(holdMs: number, items: number, envworkerFirst: boolean): Promise<RunFigures> {
  const cp = await startControlPlaneProcess({ store: 'memory' });
  try {
    const runEnvworker = async (): Promise<Map<number, number>> => {
      const figures = new Map<number, number>();
      for (const concurrency of CONCURRENCY) {
        await cp.enqueue(items, { bench: 'envworker' }, 16);
        const pollers = pollersFor(concurrency);
        figures.set(concurrency, await envworkerItemsPerSecond({ target: cp, items, holdMs, maxConcurrency: concurrency, pollers, deadlineMs: RUN_DEADLINE_MS }));
      }
      return figures;
    };
    const runOfficial = async (): Promise<number> => {
      await cp.enqueue(items, { bench: 'official' }, 16);
      return officialItemsPerSecond({ target: cp, items, holdMs, deadlineMs: RUN_DEADLINE_MS });
    };
    if (envworkerFirst) {
      const envworker = await runEnvworker();
      return { envworker, official: await runOfficial() };
    }
    const official = await runOfficial();
    return { envworker: await runEnvworker(), official };
  } finally {
    await cp.close();
  }
}

export const sideBySide: Benchmark = {
  name: 'side-by-side',
  async run(settings) {
    const runs = runsOf(settings);
    const cases: BenchCase[] = [];
    const items = itemsFor(settings);
    for (const holdMs of HOLD_MS) {
      const official: number[] = [];
      const envworker = new Map<number, number[]>(CONCURRENCY.map((c) => [c, []]));
      const ratio = new Map<number, number[]>(CONCURRENCY.map((c) => [c, []]));
      for (let run = 0; run < runs; run += 1) {
        const measured = await oneRun(holdMs, items, run % 2 === 0);
        official.push(measured.official);
        for (const concurrency of CONCURRENCY) {
          const rate = measured.envworker.get(concurrency)!;
          envworker.get(concurrency)!.push(rate);
          ratio.get(concurrency)!.push(rate / measured.official);
        }
        const line = CONCURRENCY.map((c) => `C=${c} ${measured.envworker.get(c)!.toFixed(1)}/s`).join(', ');
        settings.progress?.(`side-by-side D=${holdMs} run ${run + 1}/${runs}: official ${measured.official.toFixed(1)}/s, envworker ${line}`);
      }
      for (const concurrency of CONCURRENCY) {
        cases.push({
          params: { hold_ms: holdMs, concurrency, items, pollers: pollersFor(concurrency) },
          metrics: { envworker: summarize(envworker.get(concurrency)!), official: summarize(official), ratio: summarize(ratio.get(concurrency)!) },
        });
      }
    }
    const ratioAt = (holdMs: number, concurrency: number): number =>
      cases.find((c) => c.params['hold_ms'] === holdMs && c.params['concurrency'] === concurrency)?.metrics['ratio']?.median ?? Number.NaN;
    const goals: GoalCheck[] = [
      { goal: 'D=100 ms, C=16: envworker ≥ 12× the official loop', value: ratioAt(100, 16), unit: '×', met: ratioAt(100, 16) >= 12 },
      { goal: 'D=100 ms, C=64: envworker ≥ 40× the official loop', value: ratioAt(100, 64), unit: '×', met: ratioAt(100, 64) >= 40 },
    ];
    return {
      name: 'side-by-side',
      title: 'envworker beside the official SDK loop',
      method:
        'Each run (per hold time D) starts a control plane in its own process (`envworker control-plane`, memory store) on 127.0.0.1; each side\'s N items ' +
        'are queued before it starts. envworker (in the benchmark process): createWorker with functionRuntime, maxConcurrency C, the listed long polls, ' +
        'idle delay 0; ended at the Nth `stopped` event; once per C. ' +
        "Official: the SDK's WorkPoller (block_ms 999) in the benchmark process, one poller, one item at a time (its pattern: poll, ack, loop body, stop); " +
        'ended after the stop of the Nth item; it has no concurrency setting, so it runs once per run and its figure is the denominator for every C of that run. ' +
        'The body / work function holds each item D ms. The side that goes first alternates by run. With `--quick`, N is 48 instead of 500. Per item the official loop makes 3 calls (poll, ack, stop) and nothing else; envworker makes 4 ' +
        '(poll, ack, a first heartbeat before the sandbox starts, stop) and creates and removes a work directory, so at D = 0 the table shows per-item overhead as much as concurrency.',
      generated_at: new Date().toISOString(),
      quick: settings.quick,
      machine: machineInfo(),
      versions: versions(),
      parameters: { runs, hold_ms: [...HOLD_MS], concurrency: [...CONCURRENCY], store: 'memory', max_pollers: MAX_POLLERS, official_pollers: 1, official_block_ms: 999 },
      columns: [
        { key: 'envworker', label: 'envworker', unit: 'items/s' },
        { key: 'official', label: 'official loop', unit: 'items/s' },
        { key: 'ratio', label: 'ratio', unit: '×' },
      ],
      cases,
      goals,
      plots: [
        { id: 'items-per-second', title: 'envworker and the official loop: items/s by concurrency', x: 'concurrency', xLabel: 'concurrency C (envworker maxConcurrency)', xScale: 'log', y: ['envworker', 'official'], yLabel: 'items/s (log scale)', yScale: 'log', facet: 'hold_ms' },
        { id: 'ratio', title: 'envworker ÷ the official loop, by concurrency', x: 'concurrency', xLabel: 'concurrency C', xScale: 'log', y: ['ratio'], yLabel: 'ratio (×, log scale)', yScale: 'log', facet: 'hold_ms' },
      ],
    } satisfies BenchResult;
  },
};
