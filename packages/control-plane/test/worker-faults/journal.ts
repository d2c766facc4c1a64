/**
 * The sandbox journal: when each sandbox of each item started and ended, in virtual time, as the
 * work function itself saw it. The invariants read it; nothing in the worker does.
 */

/** One run of a work function. */
export interface SandboxRun {
  readonly id: number;
  readonly worker: string;
  readonly workId: string;
  readonly startedAt: number;
  endedAt: number | null;
  /** `finished`: its work was done (it ended by itself); `aborted`: its signal fired. */
  how: 'finished' | 'aborted' | null;
}

export class Journal {
  readonly runs: SandboxRun[] = [];

  start(worker: string, workId: string, at: number): SandboxRun {
    const run: SandboxRun = { id: this.runs.length + 1, worker, workId, startedAt: at, endedAt: null, how: null };
    this.runs.push(run);
    return run;
  }

  end(run: SandboxRun, at: number, how: 'finished' | 'aborted'): void {
    run.endedAt = at;
    run.how = how;
  }

  /** Runs that have not ended, optionally of one worker (and item). */
  live(worker?: string, workId?: string): SandboxRun[] {
    return this.runs.filter(
      (run) => run.endedAt === null && (worker === undefined || run.worker === worker) && (workId === undefined || run.workId === workId),
    );
  }
}
