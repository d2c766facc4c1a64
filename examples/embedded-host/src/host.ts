/**
 * A custom host program that embeds envworker as a library: it owns the process (its command
 * line, its output, its signals) and hands the work-item lifecycle to `createWorker` with the
 * in-process function runtime.
 *
 * Without `--base-url` it starts a local control plane and enqueues `--items` items, serves them,
 * and ends when all have ended. With `--base-url` it serves that Work API until `--items` items
 * have ended or a signal comes. The first SIGINT or SIGTERM drains (no new claims; running items
 * finish, up to `--drain-ms`), a second one stops every item at once. It prints a summary and
 * exits 0, or 1 when an item failed or the worker could not go on, or 2 for a bad flag.
 *
 *   pnpm --filter @envworker/example-embedded-host start -- --items 8 --concurrency 4
 */
import { createWorker, functionRuntime, WorkClient, type Worker, type WorkerStatus } from '@envworker/core';
import { startControlPlane } from '@envworker/control-plane';
import { parseHostOptions, UsageError, USAGE, type HostOptions, type WorkSource } from './host-options.js';
import { printingDestination, watchProgress } from './progress.js';
import { proofOfWorkFunction } from './proof-of-work.js';

/** The Work API this run serves, and how to let go of it. */
interface Connection {
  readonly baseUrl: string;
  readonly environmentId: string;
  readonly environmentKey: string;
  /** Items whose end ends the run; `null`: run until a signal. */
  readonly target: number | null;
  close(): Promise<void>;
}

const print = (line: string): void => console.log(line);
const printError = (line: string): void => console.error(line);

/** Starts the local control plane and fills its queue, or takes the given Work API as it is. */
async function connect(source: WorkSource): Promise<Connection> {
  if (source.kind === 'remote') {
    print(`host: serving ${source.baseUrl}, environment ${source.environmentId}`);
    return { ...source, target: source.items, close: () => Promise.resolve() };
  }
  const controlPlane = await startControlPlane();
  const [environment] = controlPlane.environments;
  if (environment === undefined) throw new Error('the local control plane has no environment');
  for (let n = 0; n < source.items; n += 1) await controlPlane.enqueue({ metadata: { n: String(n) } });
  print(`host: local control plane at ${controlPlane.url}, environment ${environment.id}; enqueued ${source.items} items`);
  return {
    baseUrl: controlPlane.url,
    environmentId: environment.id,
    environmentKey: environment.key,
    target: source.items,
    close: () => controlPlane.close(),
  };
}

/**
 * Drains on the first SIGINT or SIGTERM and stops at once on the next. Installed before the
 * worker starts, so that a signal during the start is not the default one (which would end the
 * process without a shutdown); its effect waits for the start, since only a started worker drains.
 */
function handleSignals(worker: Worker, started: Promise<void>, drainMs: number): () => void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    received += 1;
    const first = received === 1;
    void started
      .then(() => {
        if (first) {
          const running = worker.status().items.length;
          print(`host: ${signal}: draining ${running} item(s), no new claims (deadline ${drainMs} ms)`);
          return worker.shutdown({ mode: 'drain', deadlineMs: drainMs });
        }
        print(`host: ${signal} again: stopping every item now`);
        return worker.shutdown({ mode: 'stop' });
      })
      .catch(() => undefined);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** How many items are still queued, from the Work API itself (`unknown` if it cannot say). */
async function queueDepth(connection: Connection): Promise<string> {
  const client = new WorkClient({
    baseUrl: connection.baseUrl,
    environmentId: connection.environmentId,
    environmentKey: connection.environmentKey,
  });
  try {
    return String((await client.stats({ maxRetries: 0 })).depth);
  } catch {
    return 'unknown';
  } finally {
    await client.close();
  }
}

function summaryLine(counters: WorkerStatus['counters'], depth: string): string {
  const { outcomes } = counters;
  const failed = outcomes.failed + outcomes.start_failed;
  const ended = Object.values(outcomes).reduce((sum, value) => sum + value, 0);
  const other = ended - outcomes.completed - failed;
  return `summary: ${counters.claimed} claimed, ${outcomes.completed} completed, ${failed} failed, ${other} ended otherwise; ${depth} left in the queue`;
}

async function serve(options: HostOptions): Promise<number> {
  const connection = await connect(options.source);
  try {
    const worker = createWorker({
      baseUrl: connection.baseUrl,
      environmentId: connection.environmentId,
      environmentKey: connection.environmentKey,
      maxConcurrency: options.concurrency,
      pollers: options.concurrency,
      // The worker's own logger, so that every item's credentials are scrubbed from its output.
      logger: { level: 'info', destination: printingDestination(print, printError) },
      runtime: functionRuntime(proofOfWorkFunction(options), { name: 'proof-of-work' }),
    });
    const progress = watchProgress(worker, connection.target, print);
    const started = worker.start();
    const releaseSignals = handleSignals(worker, started, options.drainMs);
    try {
      await started;
      print(`host: worker ${worker.workerId} started, ${options.concurrency} at a time`);
      void progress.reachedTarget.then(() => worker.shutdown({ mode: 'drain', deadlineMs: options.drainMs }));
      await worker.done;
    } catch (error) {
      printError(`host: ${(error as Error).message}`);
      await worker.shutdown({ mode: 'stop' });
      return 1;
    } finally {
      releaseSignals();
    }
    const { counters } = worker.status();
    print(summaryLine(counters, await queueDepth(connection)));
    return counters.outcomes.failed + counters.outcomes.start_failed === 0 ? 0 : 1;
  } finally {
    await connection.close();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let options: HostOptions | 'help';
  try {
    options = parseHostOptions(argv, process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    printError(`host: ${error.message}`);
    return 2;
  }
  if (options === 'help') {
    print(USAGE);
    return 0;
  }
  return serve(options);
}

process.exitCode = await main(process.argv.slice(2));
