/**
 * The launcher of this example: a worker that runs each work item in a thread of the
 * worker-thread runtime, against a local control plane. It enqueues `--items` items, each asking
 * for `--rounds` rounds of the hash chain (`programs/hash-chain.mjs`), serves them `--concurrency`
 * at a time, prints each item's result and end, and exits 0 when every item completed.
 *
 *   pnpm --filter @envworker/example-custom-runtime start --items 6 --rounds 200000
 */
import { parseArgs } from 'node:util';
import { createWorker, type WorkerEvent } from '@envworker/core';
import { startControlPlane } from '@envworker/control-plane';
import { workerThreadRuntime } from './worker-thread-runtime.js';

/** A bad command line ends the run with one line naming the flag, exit status 2. */
function usageError(message: string): never {
  console.error(`serve: ${message}`);
  process.exit(2);
}

/** Reads one integer flag in [min, max]. */
function integer(values: Record<string, string | undefined>, flag: string, fallback: number, min: number, max: number): number {
  const text = values[flag] ?? String(fallback);
  const value = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  return value >= min && value <= max ? value : usageError(`--${flag}: must be an integer between ${min} and ${max}`);
}

const flags = { items: { type: 'string' }, concurrency: { type: 'string' }, rounds: { type: 'string' } } as const;
let values: Record<string, string | undefined> = {};
try {
  ({ values } = parseArgs({ options: flags }));
} catch (error) {
  usageError((error as Error).message);
}
const items = integer(values, 'items', 4, 1, 1000);
const concurrency = integer(values, 'concurrency', 2, 1, 32);
const rounds = integer(values, 'rounds', 100_000, 1, 10_000_000);

const controlPlane = await startControlPlane();
const [environment] = controlPlane.environments;
if (environment === undefined) throw new Error('the local control plane has no environment');
for (let n = 0; n < items; n += 1) await controlPlane.enqueue({ metadata: { n: String(n), rounds: String(rounds) } });
console.log(`serve: local control plane at ${controlPlane.url}; ${items} items, ${concurrency} threads at a time`);

const worker = createWorker({
  baseUrl: controlPlane.url,
  environmentId: environment.id,
  environmentKey: environment.key,
  maxConcurrency: concurrency,
  pollers: concurrency,
  runtime: workerThreadRuntime({ program: new URL('./programs/hash-chain.mjs', import.meta.url) }),
  // The items' output arrives through the worker's logger (credentials scrubbed); print just that.
  logger: {
    level: 'info',
    destination: {
      write(line: string) {
        const record = JSON.parse(line) as { msg?: string; work_id?: string; sandbox_stream?: string };
        if (record.sandbox_stream !== undefined) console.log(`  ${record.work_id ?? '?'} | ${record.msg ?? ''}`);
      },
    },
  },
});

let ended = 0;
let completed = 0;
const allEnded = new Promise<void>((resolve) => {
  worker.events$.subscribe((event: WorkerEvent) => {
    if (event.type !== 'stopped') return;
    ended += 1;
    if (event.outcome === 'completed') completed += 1;
    console.log(`stopped ${event.work_id}: ${event.outcome} (${event.exit?.reason ?? 'no exit'}, ${Math.round(event.exit?.durationMs ?? 0)} ms)`);
    if (ended === items) resolve();
  });
});
await worker.start();
await allEnded;
await worker.shutdown({ mode: 'drain', deadlineMs: 5_000 });
await controlPlane.close();
console.log(`summary: ${completed} of ${items} items completed`);
process.exitCode = completed === items ? 0 : 1;
