/**
 * What a container's exit status means. The Docker Engine reports only a number: a container whose
 * main process was killed by signal N ends with status 128 + N, the shell convention, which a
 * program can also return by itself. So a status is read as a signal only when that signal is
 * known to have been sent to the container: by this runtime (the polite signal, SIGKILL) or by
 * the kernel's OOM killer (SIGKILL). Otherwise it is the program's own exit code.
 */
import { constants } from 'node:os';

const SIGNAL_BASE = 128;

const SIGNAL_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(constants.signals).map(([name, number]) => [number, name] as const),
);

/** The code and signal of a sandbox exit. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: string | null;
}

/**
 * Reads a container's exit `status` given the signals known to have been sent to it: `128 + N`
 * with signal N among them is `{ code: null, signal }`, anything else `{ code: status, signal: null }`.
 */
export function exitStatusOf(status: number, sent: ReadonlySet<string>): ExitStatus {
  const signal = status > SIGNAL_BASE ? SIGNAL_NAMES.get(status - SIGNAL_BASE) : undefined;
  if (signal !== undefined && sent.has(signal)) return { code: null, signal };
  return { code: status, signal: null };
}

/** The number of a signal by name (`SIGTERM` → 15); `undefined` for a name this platform does not know. */
export function signalNumber(name: string): number | undefined {
  return Object.hasOwn(constants.signals, name) ? constants.signals[name as NodeJS.Signals] : undefined;
}
