/**
 * Benchmark 4: claim latency. An idle worker (one slot, one long poll waiting, idle delay 0);
 * one item at a time is enqueued and timed from just before the enqueue to the worker's `started`
 * event (its sandbox is up). After the item has stopped, a short gap lets the worker's next long
 * poll reach the server, so every sample starts from an idle, waiting worker.
 */
import { performance } from 'node:perf_hooks';
import { filter, firstValueFrom, map, timeout } from 'rxjs';
import { createWorker, functionRuntime, type WorkerEvent } from '@envworker/core';
import { startControlPlane } from '@envworker/control-plane';
import type { Benchmark, SuiteSettings } from './benchmark.js';
import { runsOf } from './benchmark.js';
import { machineInfo, versions, type BenchResult } from './result.js';
import { percentile, summarize } from './stats.js';
import { sleep } from './wait.js';

/** Pause after each item so the next long poll is waiting before the next enqueue. */
export const IDLE_GAP_MS = 20;
const EVENT_DEADLINE_MS = 10_000;

function samplesFor(settings: SuiteSettings): number {
  return settings.items ?? (settings.quick ? 100 : 300);
}

/** The latencies (ms) of `samples` items, one at a time, against a fresh control plane. */
async function oneRun(samples: number): Promise<number[]> {
  const cp = await startControlPlane();
  const environment = cp.environments[0]!;
  const worker = createWorker({
    baseUrl: cp.url,
    environmentId: environment.id,
    environmentKey: environment.key,
    maxConcurrency: 1,
    pollers: 1,
    pollIdleDelayMs: [0, 0],
    logger: { level: 'error' },
    runtime: functionRuntime(() => undefined, { logLevel: 'error' }),
  });
  const next = (type: 'started' | 'stopped'): Promise<{ workId: string; at: number }> =>
    firstValueFrom(
      worker.events$.pipe(
        filter((event: WorkerEvent) => event.type === type),
        map((event) => ({ workId: 'work_id' in event ? event.work_id : '', at: performance.now() })),
        timeout(EVENT_DEADLINE_MS),
      ),
    );
  const latencies: number[] = [];
  await worker.start();
  try {
    for (let i = 0; i < samples; i += 1) {
      await sleep(IDLE_GAP_MS);
      const started = next('started');
      const stopped = next('stopped');
      const enqueuedAt = performance.now();
      const work = await cp.enqueue({ metadata: { bench: 'claim-latency' } });
      const up = await started;
      if (up.workId !== work.id) throw new Error(`claim latency: started ${up.workId}, expected ${work.id}`);
      latencies.push(up.at - enqueuedAt);
      await stopped;
    }
  } finally {
    await worker.shutdown({ mode: 'stop' });
    await cp.close();
  }
  return latencies;
}

export const claimLatency: Benchmark = {
  name: 'claim-latency',
  async run(settings) {
    const runs = runsOf(settings);
    const samples = samplesFor(settings);
    const p50: number[] = [];
    const p95: number[] = [];
    const p99: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      const latencies = await oneRun(samples);
      p50.push(percentile(latencies, 50));
      p95.push(percentile(latencies, 95));
      p99.push(percentile(latencies, 99));
      settings.progress?.(`claim-latency run ${run + 1}/${runs}: p50 ${p50.at(-1)!.toFixed(2)} ms, p99 ${p99.at(-1)!.toFixed(2)} ms`);
    }
    const metrics = { p50: summarize(p50), p95: summarize(p95), p99: summarize(p99) };
    return {
      name: 'claim-latency',
      title: 'Claim latency: enqueue to sandbox start, idle worker',
      method:
        `Each run starts a control plane (memory store) on 127.0.0.1 and a worker (maxConcurrency 1, one long poll, idle delay 0, no-op function runtime). ` +
        `One item at a time is enqueued (in-process, into the store) and timed from just before the enqueue to the worker's \`started\` event; ` +
        `after it stops, a ${IDLE_GAP_MS} ms gap lets the next long poll wait at the server. p50/p95/p99 are per run over its samples.`,
      generated_at: new Date().toISOString(),
      quick: settings.quick,
      machine: machineInfo(),
      versions: versions(),
      parameters: { runs, samples_per_run: samples, idle_gap_ms: IDLE_GAP_MS, max_concurrency: 1, pollers: 1, poll_idle_delay_ms: [0, 0], store: 'memory' },
      columns: [
        { key: 'p50', label: 'p50', unit: 'ms' },
        { key: 'p95', label: 'p95', unit: 'ms' },
        { key: 'p99', label: 'p99', unit: 'ms' },
      ],
      cases: [{ params: { samples }, metrics }],
      goals: [
        { goal: 'claim latency p50 < 10 ms', value: metrics.p50.median, unit: 'ms', met: metrics.p50.median < 10 },
        { goal: 'claim latency p99 < 50 ms', value: metrics.p99.median, unit: 'ms', met: metrics.p99.median < 50 },
      ],
    } satisfies BenchResult;
  },
};
