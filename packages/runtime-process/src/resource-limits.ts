/**
 * The `limits` option: kernel resource limits (setrlimit) on each sandbox, applied by wrapping the
 * command as `prlimit --…= -- command…` (util-linux). `prlimit` sets the limits on itself and then
 * execs the command, so the sandbox keeps its pid and process group. The limits are tried once
 * when the runtime is made, as the sandboxes' user, so that one the kernel refuses (a hard limit
 * above the worker's own, say) is reported then and not as every item's failure.
 */
import { execFileSync } from 'node:child_process';
import { findExecutable } from './command-path.js';
import { optionError } from './option-error.js';
import type { ProcessUser } from './run-as-user.js';

/** Resource limits of each sandbox; each applies to every process of it separately (setrlimit), except `processes`. */
export interface ProcessLimits {
  /** Most virtual memory of each process, in bytes (`RLIMIT_AS`). An allocation beyond it fails. */
  readonly addressSpaceBytes?: number;
  /** Most open file descriptors of each process (`RLIMIT_NOFILE`). */
  readonly openFiles?: number;
  /**
   * Most processes of the sandbox's *user*, counted across the whole host (`RLIMIT_NPROC`); root is
   * exempt. Meaningful with `user` set to an account that runs nothing else.
   */
  readonly processes?: number;
  /**
   * CPU seconds of each process (`RLIMIT_CPU`): `SIGXCPU` at the limit, `SIGKILL` one second later.
   * A sandbox ended by `SIGXCPU` exits with reason `limit`.
   */
  readonly cpuSeconds?: number;
  /** Largest file a process may write, in bytes (`RLIMIT_FSIZE`); beyond it `SIGXFSZ`, which exits with reason `limit`. */
  readonly fileSizeBytes?: number;
}

/** The limits in the order their `prlimit` flags are written, with each flag. */
const LIMIT_FLAGS = {
  addressSpaceBytes: (value: number) => `--as=${value}`,
  openFiles: (value: number) => `--nofile=${value}`,
  processes: (value: number) => `--nproc=${value}`,
  // Soft limit at the value (SIGXCPU, which a program may catch to wind down), hard one second later.
  cpuSeconds: (value: number) => `--cpu=${value}:${value + 1}`,
  fileSizeBytes: (value: number) => `--fsize=${value}`,
} as const satisfies Record<keyof ProcessLimits, (value: number) => string>;

type LimitName = keyof typeof LIMIT_FLAGS;

/** The checked limits and the command prefix that applies them. */
export interface ResolvedLimits {
  readonly limits: ProcessLimits;
  /** `[prlimit, --…=…, …, '--']`, to put before the command. */
  readonly prefix: readonly string[];
}

/**
 * Checks the `limits` option, finds `prlimit`, and tries the limits once (as `user` when given).
 * Throws naming `limits` (or the field) when they are malformed or cannot be applied here.
 */
export function resolveLimits(value: unknown, user: ProcessUser | null): ResolvedLimits {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) optionError('limits must be an object');
  const names = Object.keys(value);
  if (names.length === 0) optionError(`limits must set at least one of ${Object.keys(LIMIT_FLAGS).join(', ')}`);
  const unknown = names.filter((name) => !(name in LIMIT_FLAGS));
  if (unknown.length > 0) optionError(`limits has unknown fields: ${unknown.join(', ')} (known: ${Object.keys(LIMIT_FLAGS).join(', ')})`);
  const flags: string[] = [];
  const limits: Partial<Record<LimitName, number>> = {};
  for (const name of Object.keys(LIMIT_FLAGS) as LimitName[]) {
    const limit = (value as Record<string, unknown>)[name];
    if (limit === undefined) continue;
    if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) {
      optionError(`limits.${name} must be a whole number >= 1`, 'range');
    }
    limits[name] = limit;
    flags.push(LIMIT_FLAGS[name](limit));
  }
  const prlimit = findExecutable('prlimit');
  if (prlimit === null) {
    optionError('limits need the prlimit command (util-linux), which was not found on PATH; install util-linux or leave limits out');
  }
  tryLimits(prlimit, flags, user);
  return { limits, prefix: [prlimit, ...flags, '--'] };
}

/** Runs `prlimit <flags>` with no command (it then sets the limits on itself) to see that the kernel takes them. */
function tryLimits(prlimit: string, flags: readonly string[], user: ProcessUser | null): void {
  try {
    execFileSync(prlimit, flags, {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 5000,
      ...(user === null ? {} : { uid: user.uid, gid: user.gid }),
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString('utf8').trim().split('\n')[0];
    const reason = stderr === undefined || stderr === '' ? (error as Error).message : stderr;
    optionError(`limits cannot be applied on this host${user === null ? '' : ` as uid ${user.uid}`}: ${reason}`);
  }
}

/**
 * The `detail` of a sandbox that a resource limit ended, from the signal it died of; `null` when
 * the signal is not a limit's (or that limit was not set).
 */
export function limitSignalDetail(signal: string | null, limits: ProcessLimits | null): string | null {
  if (signal === 'SIGXCPU' && limits?.cpuSeconds !== undefined) {
    return `used more than limits.cpuSeconds (${limits.cpuSeconds} s) of CPU time`;
  }
  if (signal === 'SIGXFSZ' && limits?.fileSizeBytes !== undefined) {
    return `wrote a file larger than limits.fileSizeBytes (${limits.fileSizeBytes} bytes)`;
  }
  return null;
}
