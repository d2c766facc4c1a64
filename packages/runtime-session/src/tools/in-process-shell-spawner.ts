/**
 * The spawner that forks the calling process for each shell. Simple, and right for a process that
 * serves one session; a worker serving many pays a fork of itself (some milliseconds of its
 * event loop) for each, which `helperShellSpawner()` moves out of it.
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { signalGroup } from '@envworker/core';
import { niceShell, type ShellProcess, type ShellRequest, type ShellSpawner } from './shell-spawner.js';

/**
 * A launcher bash that starts the shell as a job of its own (`set -m`: a new process group in
 * this session), writes the shell's pid to fd 3, lets go of every other descriptor and waits,
 * reaping it. Its cost is a second bash start per shell.
 */
const LAUNCHER_ARGS = [
  '--noprofile',
  '--norc',
  '-c',
  'set -m; SHLVL=0 /bin/bash --noprofile --norc 3>&- & echo $! >&3; exec 3>&- </dev/null >/dev/null 2>&1; wait $!',
] as const;

/** The longest line the launcher writes: a pid. */
const PID_LINE_LIMIT = 32;

/** Reads the shell's pid, which the launcher writes to fd 3 before closing it. */
async function readShellPid(pipe: Readable): Promise<number> {
  let text = '';
  for await (const chunk of pipe) {
    text += String(chunk);
    if (text.includes('\n') || text.length > PID_LINE_LIMIT) break;
  }
  pipe.destroy();
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new Error(`the shell launcher wrote no pid (got ${JSON.stringify(text.slice(0, PID_LINE_LIMIT))})`);
  return pid;
}

/**
 * Starts each shell as a grandchild of this process, through a launcher bash.
 *
 * @example
 * ```ts
 * const shell = await inProcessShellSpawner.spawn({ cwd: '/srv/work/item-1', env: { PATH: '/usr/bin:/bin' }, nice: 19 }, AbortSignal.timeout(5_000));
 * shell.onOutput((text) => process.stdout.write(text));
 * shell.write('echo hi; exit\n');
 * await shell.exited;
 * ```
 */
export const inProcessShellSpawner: ShellSpawner = {
  async spawn(request: ShellRequest, signal: AbortSignal): Promise<ShellProcess> {
    signal.throwIfAborted();
    const child = spawn('/bin/bash', LAUNCHER_ARGS, { cwd: request.cwd, env: { ...request.env }, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const outputClosed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    }).catch(async (error: unknown) => {
      // A missing directory fails the spawn as ENOENT, as a missing bash would: say which.
      const enterable = await stat(request.cwd).then((found) => found.isDirectory(), () => false);
      throw enterable ? error : new Error('cannot enter the working directory');
    });
    child.stdin.on('error', () => undefined);
    const pid = await readShellPid(child.stdio[3] as Readable).catch((error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    });
    niceShell(pid, request.nice);
    if (signal.aborted) {
      signalGroup(pid, 'SIGKILL');
      throw signal.reason;
    }
    return {
      pid,
      write: (text) => void child.stdin.write(text),
      onOutput(listener) {
        child.stdout.setEncoding('utf8').on('data', listener);
        child.stderr.setEncoding('utf8').on('data', listener);
      },
      outputClosed,
      exited,
      destroy() {
        child.stdout.destroy();
        child.stderr.destroy();
        child.stdin.destroy();
      },
    };
  },
  close: async () => undefined,
};
