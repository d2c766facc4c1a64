/**
 * The runtime interface: how a work item's sandbox is started, stopped and killed. An adapter
 * never talks to the Work API; leases are the actors' job. Adding an adapter means implementing
 * `SandboxRuntime` in its own package and running `runtimeConformance` against it.
 */
import type { Work } from '../api/wire.js';

/** The environment of the `--on-work` contract, as given to every sandbox. */
export interface OnWorkEnvironment {
  readonly ANTHROPIC_WORK_ID: string;
  readonly ANTHROPIC_ENVIRONMENT_ID: string;
  readonly ANTHROPIC_SESSION_ID: string;
  readonly ANTHROPIC_ENVIRONMENT_KEY: string;
  readonly ANTHROPIC_BASE_URL: string;
  /** Present only when the item was polled with a `secret`; only ever in that item's sandbox. */
  readonly ANTHROPIC_WORK_SECRET?: string;
}

/** Where a sandbox's output goes: one call per line, already split and bounded by the adapter. */
export interface SandboxLogSink {
  line(stream: 'stdout' | 'stderr', text: string): void;
}

/** Everything an adapter needs to start one work item's sandbox. */
export interface SandboxSpec {
  /** The work item as polled (its `secret` included: this sandbox is its own item's). */
  readonly work: Work;
  /** The id of the worker that holds the lease (for labels, state files and `reap`). */
  readonly workerId: string;
  /** The `--on-work` environment; adapters add nothing from the host unless configured to. */
  readonly env: OnWorkEnvironment;
  /** The work item JSON, delivered on standard input followed by EOF. */
  readonly stdin: string;
  /** The per-item work directory path; the adapter creates it fresh and removes it afterwards. */
  readonly workdir: string;
  /** Output of the sandbox. */
  readonly log: SandboxLogSink;
}

/** Why a sandbox ended. */
export type SandboxExitReason =
  /** It ended by itself (any exit code). */
  | 'exited'
  /** `stop()` asked it to end and it did within the grace period. */
  | 'stopped'
  /** `kill()`, or `stop()` whose grace ran out. */
  | 'killed'
  /** An adapter limit ended it (maximum run time, output, memory). */
  | 'limit'
  /** It could not be started. */
  | 'start_failed';

/** How a sandbox ended; `exit` resolves with it exactly once. */
export interface SandboxExit {
  /** The exit code, or `null` when it ended by a signal or never ran. */
  readonly code: number | null;
  /** The signal that ended it (`SIGKILL`…), or `null`. */
  readonly signal: string | null;
  readonly reason: SandboxExitReason;
  /** Milliseconds from start to exit. */
  readonly durationMs: number;
  /** A human-readable cause when `reason` is `limit` or `start_failed`, or when the adapter saw a fault. */
  readonly detail?: string;
}

/** One running sandbox. */
export interface Sandbox {
  /** The adapter's id of it (pid, container id, …). */
  readonly id: string;
  /** Resolves once, whatever ends the sandbox; never rejects. */
  readonly exit: Promise<SandboxExit>;
  /** Sends the polite signal, waits up to `graceMs`, then kills; resolves with `exit`'s value. */
  stop(graceMs: number): Promise<SandboxExit>;
  /** Kills at once; resolves with `exit`'s value. Calling it after the exit is harmless. */
  kill(): Promise<SandboxExit>;
}

/** A way to run work items: child processes, containers, in-process functions, … */
export interface SandboxRuntime {
  readonly name: string;
  /**
   * Starts the sandbox. Rejects when it cannot be started (nothing is left behind then).
   * Aborting `signal` during the start rejects and cleans up whatever was started.
   */
  start(spec: SandboxSpec, signal: AbortSignal): Promise<Sandbox>;
  /**
   * Checks, once at worker start, that sandboxes can be started at all (a daemon answers, an
   * image exists, limits can apply), so a broken setup fails the start rather than every item.
   */
  prepare?(): Promise<void>;
  /** Removes what a crashed worker with this id left behind; resolves with how many sandboxes it removed. */
  reap?(workerId: string): Promise<number>;
}
