/**
 * `reap`: after a worker crashed, the next worker with its id kills the sandbox process groups it
 * left running and removes their work directories, from the state files (see `state-files.ts`).
 *
 * A pid in a state file may since have been given to an unrelated process. A group is killed only
 * when its processes are provably the sandbox's: the leader still has the recorded start time, or
 * the leader is gone and no live member of the group started before it. (While any process of a
 * group lives, Linux gives its id to no new process, so such members are the sandbox's own.)
 */
import { rmdir, stat } from 'node:fs/promises';
import { errorCode, isLive, processGroupMembers, readProcStat, removeWorkdir, signalGroup, waitGroupGone } from '@envworker/core';
import { checkPrivateDir, readStates, removeState, workerStateDir, type SandboxState } from './state-files.js';

/** What {@link reapWorker} needs. */
export interface ReapInput {
  readonly stateDir: string;
  readonly workerId: string;
  /** Leave work directories in place (the runtime's `keepWorkdir`). */
  readonly keepWorkdir: boolean;
  /** The runtime's own running sandboxes (pid → worker id): never reaped, they are not left behind. */
  readonly running: ReadonlyMap<number, string>;
}

/** How long the processes of a killed group may take to be gone. */
const KILL_DEADLINE_MS = 5000;

/** What became of a recorded sandbox's process group. */
type GroupVerdict = 'running' | 'gone' | 'recycled';

/**
 * Reaps what the crashed worker `workerId` left behind; resolves with how many sandboxes left
 * something (a running group, a work directory) that was removed. Throws after trying them all if
 * some could not be cleaned up, naming their pids.
 */
export async function reapWorker(input: ReapInput): Promise<number> {
  if (typeof input.workerId !== 'string' || input.workerId.length === 0) throw new TypeError('workerId must be a non-empty string');
  try {
    await checkPrivateDir(input.stateDir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 0;
    throw error;
  }
  const dir = workerStateDir(input.stateDir, input.workerId);
  let reaped = 0;
  const failures: string[] = [];
  for (const entry of await readStates(dir)) {
    if (entry.state === null) {
      // Not a state file (a temporary one a crash interrupted, or garbage): it names nothing to clean up.
      await removeState(entry.path);
      continue;
    }
    if (input.running.has(entry.state.pid)) continue;
    try {
      if (await reapSandbox(entry.state, input.keepWorkdir)) reaped += 1;
      await removeState(entry.path);
    } catch (error) {
      failures.push(`pid ${entry.state.pid}: ${(error as Error).message}`);
    }
  }
  const ownRunning = [...input.running.values()].some((workerId) => workerId === input.workerId);
  if (!ownRunning && failures.length === 0) await rmdir(dir).catch(() => undefined);
  if (failures.length > 0) throw new Error(`reap: ${failures.length} sandbox(es) of worker ${input.workerId} could not be cleaned up: ${failures.join('; ')}`);
  return reaped;
}

/** Kills the sandbox's group if it still runs and removes its work directory; whether anything was left. */
async function reapSandbox(state: SandboxState, keepWorkdir: boolean): Promise<boolean> {
  let removed = false;
  if ((await groupVerdict(state)) === 'running') {
    signalGroup(state.pgid, 'SIGKILL');
    if (!(await waitGroupGone(state.pgid, KILL_DEADLINE_MS))) throw new Error(`process group ${state.pgid} still runs after SIGKILL`);
    removed = true;
  }
  if (!keepWorkdir && (await exists(state.workdir))) {
    await removeWorkdir(state.workdir);
    removed = true;
  }
  return removed;
}

async function groupVerdict(state: SandboxState): Promise<GroupVerdict> {
  const leader = await readProcStat(state.pid);
  // Another process holds the pid: the group was empty when the pid was freed, so it is gone.
  if (leader !== null && leader.startTime !== state.startTime) return 'recycled';
  const members = (await processGroupMembers(state.pgid)).filter(isLive);
  if (members.length === 0) return 'gone';
  if (members.some((member) => member.startTime < state.startTime)) return 'recycled';
  return 'running';
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
