/**
 * The Docker sandbox launcher: a local control plane, a queue of work items, and a worker that
 * runs each item in its own container (the sandbox-per-session pattern) a few at a time. It prints
 * what each container saw, a line per ended item and a summary, and exits 0 when no item failed
 * (1 when one did or the worker could not start, say without a Docker daemon; 2 for a bad flag).
 *
 *   pnpm --filter @envworker/example-docker-sandbox start --items 8 --concurrency 4
 */
import { createWorker, type WorkerEvent } from '@envworker/core';
import { startControlPlane } from '@envworker/control-plane';
import { parseLaunchOptions, UsageError, USAGE, type LaunchOptions } from './launch-options.js';
import { MEMORY_BYTES, PIDS_LIMIT, sandboxRuntime } from './sandbox.js';

/** pino's number for `warn`: the worker's own lines at or above it go to standard error. */
const WARN = 40;

async function launch(options: LaunchOptions): Promise<number> {
  const runtime = sandboxRuntime(options.image);
  const controlPlane = await startControlPlane();
  const [environment] = controlPlane.environments;
  if (environment === undefined) throw new Error('the local control plane has no environment');
  for (let n = 0; n < options.items; n += 1) await controlPlane.enqueue({ metadata: { n: String(n) } });
  console.log(
    `launch: local control plane at ${controlPlane.url}; ${options.items} items, ${options.concurrency} containers at a time, ` +
      `image ${options.image} (network none, memory ${MEMORY_BYTES / 1024 / 1024} MiB, pids ${PIDS_LIMIT})`,
  );

  const worker = createWorker({
    baseUrl: controlPlane.url,
    environmentId: environment.id,
    environmentKey: environment.key,
    maxConcurrency: options.concurrency,
    pollers: options.concurrency,
    runtime,
    // Containers' output comes through the worker's logger, which scrubs credentials from each line.
    logger: {
      level: 'info',
      destination: {
        write(line: string) {
          const record = JSON.parse(line) as { level?: number; msg?: string; work_id?: string; sandbox_stream?: string };
          if (record.sandbox_stream !== undefined) console.log(`  ${record.work_id ?? '?'} | ${record.msg ?? ''}`);
          else if ((record.level ?? 0) >= WARN) console.error(`worker: ${record.msg ?? ''}`);
        },
      },
    },
  });

  let running = 0;
  let peak = 0;
  let ended = 0;
  let failed = 0;
  const allEnded = new Promise<void>((resolve) => {
    worker.events$.subscribe((event: WorkerEvent) => {
      if (event.type === 'started') {
        running += 1;
        peak = Math.max(peak, running);
      } else if (event.type === 'stopped') {
        if (event.exit !== undefined) running -= 1;
        ended += 1;
        if (event.outcome === 'failed' || event.outcome === 'start_failed') failed += 1;
        const exit = event.exit === undefined ? 'no container' : `exit ${String(event.exit.code)}, ${Math.round(event.exit.durationMs)} ms`;
        console.log(`stopped ${event.work_id}: ${event.outcome} (${exit}) [${ended}/${options.items}]`);
        if (ended === options.items) resolve();
      }
    });
  });

  // Installed before the start, so that a signal during it still ends in a shutdown, not in
  // containers left behind; its effect waits for the start.
  const started = worker.start();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    const first = signals === 1;
    void started
      .then(() => {
        console.log(first ? `launch: ${signal}: draining, no new items` : `launch: ${signal} again: stopping every container now`);
        return worker.shutdown(first ? { mode: 'drain', deadlineMs: options.drainMs } : { mode: 'stop' });
      })
      .catch(() => undefined);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await started;
    console.log(`launch: worker ${worker.workerId} started`);
    void allEnded.then(() => worker.shutdown({ mode: 'drain', deadlineMs: options.drainMs }));
    await worker.done;
  } catch (error) {
    console.error(`launch: ${(error as Error).message}`);
    await worker.shutdown({ mode: 'stop' });
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await runtime.close();
    await controlPlane.close();
  }
  const { completed } = worker.status().counters.outcomes;
  console.log(`summary: ${completed} of ${options.items} completed, ${failed} failed; at most ${peak} containers at once`);
  return failed === 0 ? 0 : 1;
}

async function main(argv: readonly string[]): Promise<number> {
  let options: LaunchOptions | 'help';
  try {
    options = parseLaunchOptions(argv, process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`launch: ${error.message}`);
    return 2;
  }
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  return launch(options);
}

process.exitCode = await main(process.argv.slice(2));
