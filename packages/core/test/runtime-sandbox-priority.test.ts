/**
 * `niceSandbox` against real processes: a detached child gets the niceness and so does its
 * session's autogroup; a child in the test's own session gets the niceness but the shared
 * autogroup (the test process's own) is left as it was. The autogroup checks need a kernel with
 * autogroup scheduling; without one they are skipped with the reason printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { within } from '../src/conformance/within.js';
import { statFields } from '../src/runtime/proc-stat.js';
import { niceSandbox } from '../src/runtime/sandbox-priority.js';

const HAS_AUTOGROUP = existsSync('/proc/self/autogroup');
if (!HAS_AUTOGROUP) console.warn('@envworker/core: the autogroup checks of niceSandbox are skipped: this kernel has no /proc/<pid>/autogroup');

const children: ChildProcess[] = [];

afterEach(async () => {
  await Promise.all(
    children.splice(0).map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await within(new Promise((resolve) => child.once('exit', resolve)), 5000, 'exit');
    }),
  );
});

function sleeper(detached: boolean): number {
  const child = spawn('sleep', ['300'], { detached, stdio: 'ignore' });
  children.push(child);
  return child.pid as number;
}

/** Field 19 of stat(5): the niceness. */
function niceOf(pid: number): number {
  return Number(statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[16]);
}

/** `/autogroup-<n> nice <k>` → k. */
function autogroupNiceOf(pid: number | 'self'): number {
  return Number(/nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'utf8'))?.[1]);
}

describe('niceSandbox', () => {
  it('gives a detached child the niceness', () => {
    const pid = sleeper(true);
    niceSandbox(pid, 17);
    expect(niceOf(pid)).toBe(17);
  });

  it.skipIf(!HAS_AUTOGROUP)("gives a detached child's own session autogroup the niceness", () => {
    const pid = sleeper(true);
    niceSandbox(pid, 19);
    expect(autogroupNiceOf(pid)).toBe(19);
  });

  it.skipIf(!HAS_AUTOGROUP)("renices a child of this process's session but leaves the session's autogroup, this process's own, alone", () => {
    const before = autogroupNiceOf('self');
    const pid = sleeper(false);
    niceSandbox(pid, 19);
    expect(niceOf(pid)).toBe(19);
    expect(autogroupNiceOf('self')).toBe(before);
    expect(autogroupNiceOf(pid)).toBe(before);
  });

  it('does nothing for a process that is gone', async () => {
    const child = spawn('true', { detached: true, stdio: 'ignore' });
    const pid = child.pid as number;
    await within(new Promise((resolve) => child.once('exit', resolve)), 5000, 'exit');
    expect(() => niceSandbox(pid, 19)).not.toThrow();
  });

  it('refuses a niceness or a pid out of range, naming it', () => {
    for (const nice of [-1, 20, 1.5, Number.NaN]) expect(() => niceSandbox(4242, nice)).toThrow(/^nice must be an integer from 0 to 19/);
    for (const pid of [0, 1, -5, 2.5]) expect(() => niceSandbox(pid, 10)).toThrow(/^pid must be an integer > 1/);
  });
});
