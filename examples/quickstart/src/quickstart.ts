/**
 * envworker's quickstart: everything in one process, nothing to install.
 *
 * 1. An embedded local control plane (`startControlPlane`) with its session simulator, and
 *    `--items` work items in its queue, each a session whose scripted agent calls the tools of
 *    the agent toolset (write, bash, edit, read, glob, grep).
 * 2. A worker (`createWorker`) with the session runtime (`sessionRuntime`): it serves each item's
 *    session itself, `--concurrency` at once, running each tool call in the item's own work
 *    directory and sending the result back, until the turn ended and the session stayed idle.
 * 3. On the way, the operator stops one item gracefully (`stop {force: false}` with the admin
 *    key) while its bash call (`sleep 30`) runs: the worker sees it at its next heartbeat,
 *    cancels the call, sends its error result and stops the item.
 * 4. A summary: items by outcome, the tool results the simulator received (checked against what
 *    each script expects), claim-to-start latency p50/p95, total time. Exit 0 when everything
 *    went as expected, else 1; 2 for a bad flag.
 *
 *   pnpm quickstart                       # from the repository root
 *   pnpm quickstart --items 40 --concurrency 8
 */
import { access, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWorker, systemClock, WorkClient, type WorkerEvent, type WorkItemOutcome } from '@envworker/core';
import { startControlPlane, type ControlPlane } from '@envworker/control-plane';
import { sessionRuntime } from '@envworker/runtime-session';
import { liveProgress, plainProgress, type Progress } from './progress.js';
import { parseQuickstartOptions, UsageError, USAGE, type QuickstartOptions } from './quickstart-options.js';
import { itemScript, STARTED_MARKER, stoppedItemIndex } from './session-scripts.js';
import { summaryLines, unexpected, type RecordedCall } from './summary.js';

/**
 * The lease TTL the worker asks for: the server's minimum, so that it beats every ~3.3 s and sees
 * the operator's stop soon (the default TTL of 120 s would mean a beat every 30 s).
 */
const LEASE_TTL_SECONDS = 10;
/** How long a session may take to end after the stop before it is killed. */
const STOP_GRACE_MS = 5_000;
/** How long a session is served once its turn ended (the official default is 60 s; a demo needs less). */
const MAX_IDLE_MS = 500;
/** How often the operator looks for the slow item's marker file. */
const MARKER_CHECK_MS = 100;

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function main(options: QuickstartOptions): Promise<number> {
  const startedAt = systemClock.now();
  const controlPlane = await startControlPlane();
  const [environment] = controlPlane.environments;
  if (environment === undefined) throw new Error('the local control plane has no environment');
  const operator = new WorkClient({ baseUrl: controlPlane.url, environmentId: environment.id, apiKey: controlPlane.adminKey });
  const workdirRoot = await mkdtemp(join(tmpdir(), 'envworker-quickstart-'));

  const expected = new Map<string, WorkItemOutcome>();
  const scripts = new Map<string, { sessionId: string; expected: readonly RegExp[] }>();
  const stopIndex = stoppedItemIndex(options.items);
  let stoppedWorkId = '';
  for (let index = 0; index < options.items; index += 1) {
    const { script, expected: results } = itemScript(index, index === stopIndex);
    const work = await controlPlane.enqueue({ session: { script } });
    if (work.data.type !== 'session') throw new Error('the control plane enqueued a healthcheck');
    expected.set(work.id, index === stopIndex ? 'stopped_by_control_plane' : 'completed');
    scripts.set(work.id, { sessionId: work.data.id, expected: results });
    if (index === stopIndex) stoppedWorkId = work.id;
  }

  const live = options.live && process.stdout.isTTY === true;
  const progress: Progress = live
    ? liveProgress(process.stdout, { baseUrl: controlPlane.url, environmentId: environment.id })
    : plainProgress(print, options.items);
  progress.say(`quickstart: control plane ${controlPlane.url}, environment ${environment.id}; enqueued ${options.items} scripted sessions`);

  const runtime = sessionRuntime({ maxIdleMs: MAX_IDLE_MS });
  const worker = createWorker({
    baseUrl: controlPlane.url,
    environmentId: environment.id,
    environmentKey: environment.key,
    runtime,
    maxConcurrency: options.concurrency,
    pollers: Math.min(2, options.concurrency),
    pollIdleDelayMs: [0, 0],
    leaseTtlSeconds: LEASE_TTL_SECONDS,
    stopGraceMs: STOP_GRACE_MS,
    workdirRoot,
    logger: { level: 'info', format: 'json', destination: { write: (line: string) => progress.log(line) } },
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
  const watch = watchForMarker(workdirRoot, stoppedWorkId, () => {
    operator.stop(stoppedWorkId, { force: false }).then(
      () => progress.say(`operator: stop {force: false} sent for ${stoppedWorkId} during its bash call; the worker will see it at its next heartbeat`),
      (error: unknown) => progress.say(`operator: the stop of ${stoppedWorkId} failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  });

  progress.start(worker, runtime.toolCalls$);
  let reason: string | null = null;
  let calls: RecordedCall[] = [];
  try {
    await worker.start();
    progress.say(`quickstart: worker ${worker.workerId}: session runtime, ${options.concurrency} sessions at a time`);
    reason = await Promise.race([allEnded.then(() => null), cutShort]);
    // Nothing is left to run: a drain ends at once. When cut short, every running item is stopped.
    await worker.shutdown(reason === null ? { mode: 'drain', deadlineMs: STOP_GRACE_MS } : { mode: 'stop' });
    calls = await recordedCalls(controlPlane, scripts);
  } finally {
    clearTimeout(timer);
    clearInterval(watch);
    progress.stop();
    await runtime.close();
    await operator.close();
    await controlPlane.close();
    await rm(workdirRoot, { recursive: true, force: true });
  }

  if (reason !== null) print(`quickstart: cut short: ${reason}`);
  const result = { outcomes, expected, calls, claimToStartMs, totalMs: systemClock.now() - startedAt };
  for (const line of summaryLines(result)) print(line);
  return reason === null && unexpected(result).length === 0 ? 0 : 1;
}

/**
 * Calls `onStarted` once the slow item's bash call has written its marker file in the item's work
 * directory (`<root>/<work id>-<n>/`), so the stop surely lands while the call runs.
 */
function watchForMarker(root: string, workId: string, onStarted: () => void): NodeJS.Timeout {
  let done = false;
  const timer = setInterval(() => {
    void (async () => {
      const names = await readdir(root).catch(() => [] as string[]);
      const dir = names.find((name) => name.startsWith(`${workId}-`));
      if (done || dir === undefined || !(await access(join(root, dir, STARTED_MARKER)).then(() => true, () => false))) return;
      done = true;
      clearInterval(timer);
      onStarted();
    })();
  }, MARKER_CHECK_MS);
  return timer;
}

/** Every tool call the simulator recorded, with the result its script expects. */
async function recordedCalls(controlPlane: ControlPlane, scripts: ReadonlyMap<string, { sessionId: string; expected: readonly RegExp[] }>): Promise<RecordedCall[]> {
  const calls: RecordedCall[] = [];
  for (const [workId, { sessionId, expected }] of scripts) {
    const transcript = await controlPlane.transcript(sessionId);
    transcript.calls.forEach((call, index) => {
      const text = call.result === null ? null : call.result.content.map((block) => (block.type === 'text' ? block.text : `[${block.type}]`)).join('');
      calls.push({ workId, name: call.name, text, isError: call.result?.is_error === true, expected: expected[index] ?? null });
    });
    // A call the script expects that never came is a result that never came.
    for (const missing of expected.slice(transcript.calls.length)) calls.push({ workId, name: '(not called)', text: null, isError: false, expected: missing });
  }
  return calls;
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
