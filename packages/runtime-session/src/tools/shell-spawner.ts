/**
 * How a session's bash shell is started: a `ShellSpawner` starts `/bin/bash --noprofile --norc`
 * leading its own process group, in a directory, with exactly the variables it is given, niced,
 * and hands back a `ShellProcess` to write commands to and read its merged output from. Two
 * spawners exist: `inProcessShellSpawner` forks the calling process, and `helperShellSpawner()`
 * asks a small helper to, so a worker serving many sessions never blocks its event loop on a fork.
 *
 * Both use bash job control (`set -m`) for the shell's own process group, and keep the shell in
 * the caller's session on purpose: `setsid` (what `detached: true` does) would also give it a
 * scheduling autogroup of its own on Linux, and 64 busy shells in 64 autogroups, even niced,
 * starve the worker's group of CPU for up to a second at a time (measured: heartbeats 0.2–0.9 s
 * late at p99); within the worker's group their nice value holds.
 */
import { setPriority } from 'node:os';

/** What to start the shell with. */
export interface ShellRequest {
  /** Absolute: the shell's working directory. */
  readonly cwd: string;
  /** The shell's whole environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Niceness (0–19) of the shell, which what it starts inherits. */
  readonly nice: number;
}

/** A started shell. */
export interface ShellProcess {
  /** The shell's pid, which is also its process group's id. */
  readonly pid: number;
  /** Writes to the shell's stdin. */
  write(text: string): void;
  /** Calls `listener` with each chunk of the shell's stdout and stderr, merged, as UTF-8 text. */
  onOutput(listener: (chunk: string) => void): void;
  /** Resolves once the shell's output is closed: the shell and everything holding its output are gone, or `destroy()` was called. */
  readonly outputClosed: Promise<void>;
  /** Resolves once the shell itself has exited and been reaped (or its spawner can no longer tell). */
  readonly exited: Promise<void>;
  /** Stops reading and writing; the shell sees end of input. */
  destroy(): void;
}

/** Starts shells; one spawner serves many sessions. */
export interface ShellSpawner {
  /** Starts a shell; rejects with a plain `Error` saying why it could not, or with `signal.reason` once aborted. */
  spawn(request: ShellRequest, signal: AbortSignal): Promise<ShellProcess>;
  /** Releases what the spawner holds; shells already started are their owners' to close. */
  close(): Promise<void>;
}

/** Renices a started shell; best effort, as a host policy may forbid it. */
export function niceShell(pid: number, nice: number): void {
  try {
    setPriority(pid, nice);
  } catch {
    // Not allowed to renice (an unusual host policy): the shell runs at its parent's priority.
  }
}
