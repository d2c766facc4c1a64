/**
 * One envworker run: a worker with the function runtime takes `items` already-queued items, each
 * held `holdMs`, and the run ends when the last one is stopped (counted on `events$`).
 */
import { performance } from 'node:perf_hooks';
import { createWorker, functionRuntime, type WorkerEvent } from '@envworker/core';
import { sleep } from './wait.js';

/** Where a benchmark's worker connects: a control plane's URL and one environment's credentials. */
export interface Target {
  readonly url: string;
  readonly environmentId: string;
  readonly environmentKey: string;
}

export interface EnvworkerRunOptions {
  readonly target: Target;
  readonly items: number;
  readonly holdMs: number;
  readonly maxConcurrency: number;
  readonly pollers: number;
  /** Longest the run may take before it fails. */
  readonly deadlineMs: number;
}

/** Items per second from `start()` to the last `stopped` event; throws if an item does not complete. */
export async function envworkerItemsPerSecond(options: EnvworkerRunOptions): Promise<number> {
  const worker = createWorker({
    baseUrl: options.target.url,
    environmentId: options.target.environmentId,
    environmentKey: options.target.environmentKey,
    maxConcurrency: options.maxConcurrency,
    pollers: options.pollers,
    pollIdleDelayMs: [0, 0],
    logger: { level: 'error' },
    runtime: functionRuntime(
      async (_work, ctx) => {
        if (options.holdMs > 0) await sleep(options.holdMs, ctx.signal);
      },
      { logLevel: 'error' },
    ),
  });
  let stopped = 0;
  let failure: string | null = null;
  const allStopped = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`envworker run: ${stopped} of ${options.items} items stopped within ${options.deadlineMs} ms`)), options.deadlineMs);
    worker.events$.subscribe((event: WorkerEvent) => {
      if (event.type === 'fatal') failure = event.error;
      if (event.type !== 'stopped') return;
      if (event.outcome !== 'completed') failure ??= `item ${event.work_id} ended ${event.outcome}`;
      stopped += 1;
      if (stopped === options.items) {
        clearTimeout(timer);
        resolve(performance.now());
      }
    });
  });
  const startedAt = performance.now();
  await worker.start();
  try {
    const endedAt = await allStopped;
    if (failure !== null) throw new Error(`envworker run: ${failure}`);
    return options.items / ((endedAt - startedAt) / 1000);
  } finally {
    await worker.shutdown({ mode: 'stop' });
  }
}
