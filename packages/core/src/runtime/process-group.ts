/**
 * Signals to a whole process group. Every sandbox is its own group (spawned detached, so its
 * pgid is its pid), and signalling the group reaches the children and grandchildren that the
 * command started, not only the command itself.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { errorCode } from './workdir.js';
import { isLive, processGroupMembers } from './proc-stat.js';

/**
 * Sends `signal` to every process of group `pgid`. Resolves `false` when the group has no process
 * left (`ESRCH`); throws on any other failure (`EPERM`: the group runs as a user this worker may
 * not signal).
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) throw new RangeError(`pgid must be an integer > 1, got ${String(pgid)}`);
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ESRCH') return false;
    throw error;
  }
}

/** Whether any process of the group still runs (zombies, which only wait to be collected, do not count). */
export async function groupRunning(pgid: number): Promise<boolean> {
  // Signal 0 only checks. A group with no process at all is the common answer, and spares a scan
  // of /proc; a group that still has some may hold only zombies, which the scan tells apart.
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if (errorCode(error) === 'ESRCH') return false;
  }
  return (await processGroupMembers(pgid)).some(isLive);
}

/** How often a wait for a process group to be gone looks again. */
export const GROUP_POLL_MS = 10;

/**
 * Resolves `true` once no process of the group runs, `false` if some still run after
 * `deadlineMs`. A killed process leaves `/proc` (or turns zombie) a moment after the signal, and
 * Linux offers no event for a group that is not one's own children, so this looks again every
 * few milliseconds.
 */
export async function waitGroupGone(pgid: number, deadlineMs: number): Promise<boolean> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    if (!(await groupRunning(pgid))) return true;
    if (performance.now() >= deadline) return false;
    await sleep(GROUP_POLL_MS);
  }
}
