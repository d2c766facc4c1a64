/**
 * One session's persistent shell: `/bin/bash --noprofile --norc` leading its own process group,
 * niced so busy commands yield the CPU to the worker, with only the host variables it is given,
 * started by a `ShellSpawner`. Each command is framed by a per-call random sentinel that carries
 * its exit status; its stdin is /dev/null; output beyond the limit keeps its tail. Ending a call
 * early (timeout, cancel) kills the whole group and waits until it is gone: nothing the command
 * started outlives it.
 */
import { randomUUID } from 'node:crypto';
import { signalGroup, waitGroupGone } from '@envworker/core';
import type { ShellProcess, ShellSpawner } from './shell-spawner.js';
import { BASH_OUTPUT_LIMIT } from './tool-limits.js';

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;
/** How long a killed group may take to be gone. */
const KILL_WAIT_MS = 5_000;

/** How a command ended. */
export type CommandEnd = { readonly kind: 'exited'; readonly output: string; readonly exitCode: number } | { readonly kind: 'shell_died' };

export class BashShell {
  readonly #shell: ShellProcess;
  #buffer = '';
  #truncated = false;
  #closed = false;
  #wake: (() => void) | null = null;

  /** Starts a shell in `workdir`; rejects as `spawner.spawn` does. */
  static async start(spawner: ShellSpawner, workdir: string, env: Readonly<Record<string, string>>, nice: number, signal: AbortSignal): Promise<BashShell> {
    // The shell's own settings for pipe framing (as the official runner sets them), over the given variables.
    const shell = await spawner.spawn({ cwd: workdir, env: { ...env, PS1: '', PS2: '', TERM: 'dumb' }, nice }, signal);
    return new BashShell(shell);
  }

  private constructor(shell: ShellProcess) {
    this.#shell = shell;
    shell.onOutput((chunk) => this.#append(chunk));
    void shell.outputClosed.then(() => {
      this.#closed = true;
      this.#wake?.();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs `command`; resolves once it printed its sentinel, or the shell died. `signal` aborting
   * rejects with its reason after the group is killed and gone.
   */
  async exec(command: string, signal: AbortSignal): Promise<CommandEnd> {
    if (this.#closed) return { kind: 'shell_died' };
    this.#buffer = '';
    this.#truncated = false;
    const sentinel = `__ENVWORKER_CMD_${randomUUID()}_DONE__`;
    // Split by quotes, so the sentinel only appears once the shell's printf joins it.
    const quoted = `${sentinel.slice(0, 10)}''${sentinel.slice(10)}`;
    this.#shell.write(`{ ${command}\n} </dev/null 2>&1; printf '\\n${quoted}%d\\n' $?\n`);
    await new Promise<void>((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        this.#wake = null;
        resolve();
      };
      if (this.#buffer.includes(sentinel) || this.#closed || signal.aborted) return done();
      this.#wake = () => {
        if (this.#buffer.includes(sentinel) || this.#closed) done();
      };
      signal.addEventListener('abort', done, { once: true });
    });
    const at = this.#buffer.indexOf(sentinel);
    if (at < 0) {
      if (signal.aborted) {
        await this.close();
        throw signal.reason;
      }
      return { kind: 'shell_died' };
    }
    const exitCode = Number(/^(-?\d+)/.exec(this.#buffer.slice(at + sentinel.length))?.[1] ?? -1);
    let output = this.#buffer.slice(0, at).replace(ANSI, '').replace(/\n+$/, '');
    if (this.#truncated) output = `[output truncated]\n${output}`;
    return { kind: 'exited', output, exitCode };
  }

  /** Kills the shell's whole process group and resolves once it is gone. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#shell.destroy();
    if (signalGroup(this.#shell.pid, 'SIGKILL')) {
      // Once the shell is reaped, a group with nothing else left answers at once; until then its
      // zombie makes every check scan /proc.
      await Promise.race([this.#shell.exited, new Promise((resolve) => setTimeout(resolve, KILL_WAIT_MS).unref())]);
      await waitGroupGone(this.#shell.pid, KILL_WAIT_MS);
    }
    this.#wake?.();
  }

  #append(chunk: string): void {
    this.#buffer += chunk;
    if (this.#buffer.length > BASH_OUTPUT_LIMIT) {
      this.#buffer = this.#buffer.slice(this.#buffer.length - BASH_OUTPUT_LIMIT);
      this.#truncated = true;
    }
    this.#wake?.();
  }
}
