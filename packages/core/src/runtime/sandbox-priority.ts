/**
 * The CPU priority of a sandbox process, so that sandboxes busy with CPU leave the worker enough
 * of it to send its heartbeats on time.
 *
 * Niceness alone is not enough on Linux. A sandbox spawned detached leads a process session of its
 * own (`setsid`), and with the kernel's autogroup scheduling (`kernel.sched_autogroup_enabled`,
 * on by default in many distributions) every session is a scheduling group of its own that
 * shares the CPU equally with the worker's group, whatever the niceness of the processes in it.
 * Only the group's own niceness (`/proc/<pid>/autogroup`) weighs the groups against each other.
 * On a 2-core machine with 64 sandboxes spinning a shell loop, the worker's heartbeats went out
 * 0.6 to 2.4 s late at p99 with the groups at niceness 0 (whether the processes were niced or
 * not), and leases were lost; with the groups at 19, 21 to 73 ms late and none lost
 * (`bench/FINDINGS.md`, the process runtime under CPU load).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { statFields } from './proc-stat.js';

/** The niceness range a sandbox may be given: 0 (the default priority) to 19 (the lowest). */
export const NICE_RANGE = [0, 19] as const;

/**
 * Gives process `pid` the niceness `nice`, and so everything it starts from then on. When the
 * process leads its own process session, that session's autogroup gets the same niceness; the
 * autogroup of a process in another's session (the worker's own, say) is left alone, as changing
 * it would change the worker's priority too. Best effort: a process that is gone, a host policy
 * that forbids the change, or a kernel without autogroups leaves the priority as it was.
 *
 * @example
 * ```ts
 * import { spawn } from 'node:child_process';
 * import { niceSandbox } from '@envworker/core';
 *
 * const child = spawn('sh', ['-c', 'make -j2'], { detached: true, stdio: 'ignore' });
 * if (child.pid !== undefined) niceSandbox(child.pid, 19);
 * ```
 */
export function niceSandbox(pid: number, nice: number): void {
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new RangeError(`pid must be an integer > 1, got ${String(pid)}`);
  if (!Number.isInteger(nice) || nice < NICE_RANGE[0] || nice > NICE_RANGE[1]) {
    throw new RangeError(`nice must be an integer from ${NICE_RANGE[0]} to ${NICE_RANGE[1]}, got ${String(nice)}`);
  }
  try {
    setPriority(pid, nice);
  } catch {
    // Gone already, or not allowed (a worker that runs niced itself may not lower a child below it).
  }
  if (!leadsOwnSession(pid)) return;
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(nice));
  } catch {
    // No autogroup support in this kernel (no such file), or the process is gone.
  }
}

/** Whether `pid` leads its own process session (field 6 of its stat, the session id, is itself). */
function leadsOwnSession(pid: number): boolean {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  return Number(statFields(text)?.[3]) === pid;
}
