/**
 * envworker's quickstart: everything in one process, nothing to install.
 *
 * 1. An embedded local control plane (`startControlPlane`), and `--items` work items in its queue.
 * 2. A worker (`createWorker`) with the process runtime (`processRuntime`): for each item, the
 *    sample program `sandbox/count-words.mjs` in its own process group, `--concurrency` at once,
 *    with the `--on-work` contract (ids and credentials in the environment, the item JSON on
 *    standard input).
 * 3. On the way, the operator stops one item gracefully (`stop {force: false}` with the admin
 *    key): the worker sees it at its next heartbeat and sends the program SIGTERM, which it traps.
 * 4. A summary: items by outcome, claim-to-start latency p50/p95, total time. Exit 0 when every
 *    item ended as expected (all `completed`, the stopped one `stopped_by_control_plane`), else 1;
 *    2 for a bad flag.
 *
 *   pnpm quickstart                       # from the repository root
 *   pnpm quickstart --items 40 --concurrency 8
 */
import { fileURLToPath } from 'node:url';
import { createWorker, systemClock, WorkClient, type WorkerEvent, type WorkItemOutcome } from '@envworker/core';
import { startControlPlane } from '@envworker/control-plane';
import { processRuntime } from '@envworker/runtime-process';
import { liveProgress, plainProgress, sandboxLine, type Progress } from './progress.js';
import { parseQuickstartOptions, UsageError, USAGE, type QuickstartOptions } from './quickstart-options.js';
import { summaryLines, unexpected } from './summary.js';
import { itemMetadata, stoppedItemIndex } from './work-items.js';

/** The sample program each item runs. */
const SANDBOX_PROGRAM = fileURLToPath(new URL('../sandbox/count-words.mjs', import.meta.url));
/**
 * The lease TTL the worker asks for: the server's minimum, so that it beats every ~3.3 s and sees
 * the operator's stop soon (the default TTL of 120 s would mean a beat every 30 s).
 */
const LEASE_TTL_SECONDS = 10;
/** How long a sandbox may take to end after SIGTERM before it is killed. */
const STOP_GRACE_MS = 5_000;
/** The program ends its sandbox after this long whatever happens (a runaway item cannot hang the quickstart). */
const MAX_RUN_MS = 90_000;

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function main(options: QuickstartOptions): Promise<number> {
  const startedAt = systemClock.now();
  const controlPlane = await startControlPlane();
  const [environment] = controlPlane.environments;
  if (environment === undefined) throw new Error('the local control plane has no environment');
  const operator = new WorkClient({ baseUrl: controlPlane.url, environmentId: environment.id, apiKey: controlPlane.adminKey });

  const expected = new Map<string, WorkItemOutcome>();
  const stopIndex = stoppedItemIndex(options.items);
  let stoppedWorkId = '';
  for (let index = 0; index < options.items; index += 1) {
    const work = await controlPlane.enqueue({ metadata: itemMetadata(index, index === stopIndex) });
    expected.set(work.id, index === stopIndex ? 'stopped_by_control_plane' : 'completed');
    if (index === stopIndex) stoppedWorkId = work.id;
  }

  const live = options.live && process.stdout.isTTY === true;
  const progress: Progress = live
    ? liveProgress(process.stdout, { baseUrl: controlPlane.url, environmentId: environment.id })
    : plainProgress(print, options.items);
  progress.say(`quickstart: control plane ${controlPlane.url}, environment ${environment.id}; enqueued ${options.items} items`);

  // The operator stops one item as soon as its program has printed its first line (by then its
  // SIGTERM trap is set), and the quickstart notes whether the program said it got the signal.
  let stopSent = false;
  let stoppedItemSaidSigterm = false;
  const onSandboxLine = (workId: string, text: string): void => {
    if (workId !== stoppedWorkId) return;
    if (/^SIGTERM received/.test(text)) stoppedItemSaidSigterm = true;
    if (stopSent) return;
    stopSent = true;
    operator.stop(workId, { force: false }).then(
      () => progress.say(`operator: stop {force: false} sent for ${workId}; the worker will see it at its next heartbeat`),
      (error: unknown) => progress.say(`operator: the stop of ${workId} failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  };

  const worker = createWorker({
    baseUrl: controlPlane.url,
    environmentId: environment.id,
    environmentKey: environment.key,
    runtime: processRuntime({ command: [process.execPath, SANDBOX_PROGRAM], maxRunMs: MAX_RUN_MS }),
    maxConcurrency: options.concurrency,
    pollers: Math.min(2, options.concurrency),
    pollIdleDelayMs: [0, 0],
    leaseTtlSeconds: LEASE_TTL_SECONDS,
    stopGraceMs: STOP_GRACE_MS,
    logger: {
      level: 'info',
      format: 'json',
      destination: {
        write(line: string) {
          progress.log(line);
          const fromSandbox = sandboxLine(line);
          if (fromSandbox !== null) onSandboxLine(fromSandbox.workId, fromSandbox.text);
        },
      },
    },
  });

  const outcomes = new Map<string, WorkItemOutcome | null>([...expected.keys()].map((workId) => [workId, null]));
  const claimedAt = new Map<string, number>();
  const claimToStartMs: number[] = [];
  let ended = 0;
  const allEnded = new Promise<void>((resolve) => {
    worker.events$.subscribe((event: WorkerEvent) => {
      progress.event(event);
      if (event.type === 'claimed') claimedAt.set(event.work_id, event.at);
      if (event.type === 'started') {
        const claimed = claimedAt.get(event.work_id);
        if (claimed !== undefined) claimToStartMs.push(event.at - claimed);
      }
      if (event.type === 'stopped' && outcomes.has(event.work_id) && outcomes.get(event.work_id) === null) {
        outcomes.set(event.work_id, event.outcome);
        ended += 1;
        if (ended === outcomes.size) resolve();
      }
    });
  });

  // The end: every item ended, the deadline passed, or a signal (Ctrl-C) came.
  let timer: NodeJS.Timeout | undefined;
  const cutShort = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`the deadline of ${options.deadlineMs / 1000} s passed`), options.deadlineMs);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(`${signal} received`));
  });

  progress.start(worker);
  let reason: string | null = null;
  try {
    await worker.start();
    progress.say(`quickstart: worker ${worker.workerId}: process runtime, ${options.concurrency} at a time`);
    reason = await Promise.race([allEnded.then(() => null), cutShort]);
    // Nothing is left to run: a drain ends at once. When cut short, every running item is stopped.
    await worker.shutdown(reason === null ? { mode: 'drain', deadlineMs: STOP_GRACE_MS } : { mode: 'stop' });
  } finally {
    clearTimeout(timer);
    progress.stop();
    await operator.close();
    await controlPlane.close();
  }

  if (reason !== null) print(`quickstart: cut short: ${reason}`);
  const result = { outcomes, expected, claimToStartMs, totalMs: systemClock.now() - startedAt, stoppedItemSaidSigterm };
  for (const line of summaryLines(result)) print(line);
  return reason === null && unexpected(result).length === 0 ? 0 : 1;
}

let options: QuickstartOptions | 'help';
try {
  options = parseQuickstartOptions(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`quickstart: ${error.message} (see --help)\n`);
  process.exit(2);
}
if (options === 'help') {
  process.stdout.write(USAGE);
  process.exit(0);
}
main(options).then(
  (status) => process.exit(status),
  (error: unknown) => {
    process.stderr.write(`quickstart: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
