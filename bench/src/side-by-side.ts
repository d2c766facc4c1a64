/**
 * Benchmark 1: envworker beside the official loop. For each hold time D and concurrency C, each
 * run starts one control plane, queues N items and lets envworker (function runtime, maxConcurrency
 * C) serve them, then queues N more and lets the SDK's WorkPoller serve them; the ratio is taken
 * within the run. Which of the two goes first alternates from run to run.
 */
import { startControlPlane } from '@envworker/control-plane';
import type { Benchmark, SuiteSettings } from './benchmark.js';
import { runsOf } from './benchmark.js';
import { envworkerItemsPerSecond } from './envworker-run.js';
import { officialItemsPerSecond } from './official-run.js';
import { machineInfo, versions, type BenchCase, type BenchResult, type GoalCheck } from './result.js';
import { summarize } from './stats.js';

export const HOLD_MS = [0, 100] as const;
export const CONCURRENCY = [1, 16, 64] as const;
const RUN_DEADLINE_MS = 120_000;

/** N for concurrency C: enough items for C slots to fill several times over. */
function itemsFor(concurrency: number, settings: SuiteSettings): number {
  if (settings.items !== undefined) return settings.items;
  return settings.quick ? Math.max(16, 2 * concurrency) : Math.max(32, 4 * concurrency);
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

async function oneRun(holdMs: number, concurrency: number, items: number, envworkerFirst: boolean): Promise<{ envworker: number; official: number }> {
  const cp = await startControlPlane();
  try {
    const runEnvworker = async (): Promise<number> => {
      for (let i = 0; i < items; i += 1) await cp.enqueue({ metadata: { bench: 'envworker' } });
      return envworkerItemsPerSecond({ cp, items, holdMs, maxConcurrency: concurrency, pollers: pollersFor(concurrency), deadlineMs: RUN_DEADLINE_MS });
    };
    const runOfficial = async (): Promise<number> => {
      for (let i = 0; i < items; i += 1) await cp.enqueue({ metadata: { bench: 'official' } });
      return officialItemsPerSecond({ cp, items, holdMs, deadlineMs: RUN_DEADLINE_MS });
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
    for (const holdMs of HOLD_MS) {
      for (const concurrency of CONCURRENCY) {
        const items = itemsFor(concurrency, settings);
        const envworker: number[] = [];
        const official: number[] = [];
        const ratio: number[] = [];
        for (let run = 0; run < runs; run += 1) {
          const measured = await oneRun(holdMs, concurrency, items, run % 2 === 0);
          envworker.push(measured.envworker);
          official.push(measured.official);
          ratio.push(measured.envworker / measured.official);
          settings.progress?.(`side-by-side D=${holdMs} C=${concurrency} run ${run + 1}/${runs}: envworker ${measured.envworker.toFixed(1)}/s, official ${measured.official.toFixed(1)}/s`);
        }
        cases.push({
          params: { hold_ms: holdMs, concurrency, items, pollers: pollersFor(concurrency) },
          metrics: { envworker: summarize(envworker), official: summarize(official), ratio: summarize(ratio) },
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
        'Each run starts a control plane (memory store) on 127.0.0.1 and queues all N items before each side starts. ' +
        'envworker: createWorker with functionRuntime, maxConcurrency C, the listed long polls, idle delay 0; ended at the Nth `stopped` event. ' +
        "Official: the SDK's WorkPoller (block_ms 999) in the same process, one poller, one item at a time (its pattern: poll, ack, loop body, stop); " +
        'ended after the stop of the Nth item. The body / work function holds each item D ms. The ratio is envworker ÷ official within each run; ' +
        'the side that goes first alternates by run. Per item the official loop makes 3 calls (poll, ack, stop) and nothing else; envworker makes 4 ' +
        '(poll, ack, a first heartbeat before the sandbox starts, stop) and creates and removes a work directory, so at D = 0 the table shows per-item overhead, not concurrency.',
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
    } satisfies BenchResult;
  },
};
