/**
 * What the host prints: one line per lifecycle event it cares about (from `events$`), and the
 * items' own output (from the worker's logger). Printing from these two sources, rather than from
 * inside the work function, is what a host does with any runtime: the events are typed and never
 * carry a secret, and the logger has already scrubbed every credential from each output line.
 */
import type { LoggerOptions, Worker, WorkerEvent, WorkItemOutcome } from '@envworker/core';

/** Where the worker's logger writes its lines. */
type Destination = NonNullable<LoggerOptions['destination']>;

/** pino's number for `warn`: worker log lines at or above it are shown; below it only item output is. */
const WARN = 40;

/**
 * A destination for the worker's logger (JSON lines): each line an item wrote is printed as
 * `  <work id> | <text>`; the worker's own warnings and errors go to `printError`.
 */
export function printingDestination(print: (line: string) => void, printError: (line: string) => void): Destination {
  return {
    write(line: string) {
      const record = JSON.parse(line) as { level?: number; msg?: string; work_id?: string; sandbox_stream?: string };
      if (record.sandbox_stream !== undefined) print(`  ${record.work_id ?? '?'} | ${record.msg ?? ''}`);
      else if ((record.level ?? 0) >= WARN) printError(`worker: ${record.msg ?? ''}`);
    },
  };
}

/** What {@link watchProgress} counts, and the promise of the run's end. */
export interface Progress {
  /** Items ended so far, by outcome. */
  readonly ended: Map<WorkItemOutcome, number>;
  /** Resolves once `target` items have ended (never, when there is no target). */
  readonly reachedTarget: Promise<void>;
}

/**
 * Prints `claimed`, `started` and `stopped` lines as the worker's events come, with a running
 * count of ended items against `target` (or `null`: no target).
 */
export function watchProgress(worker: Worker, target: number | null, print: (line: string) => void): Progress {
  const ended = new Map<WorkItemOutcome, number>();
  let count = 0;
  let reached: () => void = () => undefined;
  const reachedTarget = new Promise<void>((resolve) => (reached = resolve));
  worker.events$.subscribe((event: WorkerEvent) => {
    switch (event.type) {
      case 'claimed':
        print(`claimed ${event.work_id} (session ${event.session_id ?? '-'})`);
        return;
      case 'started':
        print(`started ${event.work_id} in ${event.sandbox_id}`);
        return;
      case 'stopped': {
        count += 1;
        ended.set(event.outcome, (ended.get(event.outcome) ?? 0) + 1);
        const exit = event.exit === undefined ? 'no exit' : `exit ${String(event.exit.code)}, ${Math.round(event.exit.durationMs)} ms`;
        const of = target === null ? '' : `/${target}`;
        print(`stopped ${event.work_id}: ${event.outcome} (${exit}) [${count}${of} ended]`);
        if (target !== null && count >= target) reached();
        return;
      }
      default:
        return;
    }
  });
  return { ended, reachedTarget };
}
