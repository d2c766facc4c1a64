/**
 * What Linux's `/proc/<pid>/stat` says about a process: its state, its process group and its
 * start time. The start time (clock ticks since boot) tells a process apart from a later one
 * that was given the same recycled pid, which is what makes `reap` safe.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

/** The fields of `/proc/<pid>/stat` that envworker reads. */
export interface ProcStat {
  readonly pid: number;
  /** One letter: `R` running, `S` sleeping, `Z` zombie, … (field 3). */
  readonly state: string;
  /** The process group id (field 5). */
  readonly pgid: number;
  /** Start time after boot, in clock ticks (field 22). */
  readonly startTime: number;
}

/**
 * The fields of a `/proc/<pid>/stat` text after the command name: field 3 (state) at index 0, so
 * field N of stat(5) at index N - 3; `null` when the text has no name. The name (field 2) is in
 * parentheses and may itself hold spaces and parentheses, so the fields are counted from the
 * last `)`.
 */
export function statFields(text: string): string[] | null {
  const close = text.lastIndexOf(')');
  if (close === -1) return null;
  return text.slice(close + 2).split(' ');
}

/** Parses the text of `/proc/<pid>/stat`; `null` when it is not one. */
export function parseProcStat(pid: number, text: string): ProcStat | null {
  const fields = statFields(text);
  if (fields === null) return null;
  const state = fields[0];
  const pgid = Number(fields[2]);
  const startTime = Number(fields[19]);
  if (state === undefined || state.length !== 1 || !Number.isSafeInteger(pgid) || !Number.isSafeInteger(startTime)) return null;
  return { pid, state, pgid, startTime };
}

/** Reads one process's stat now; `null` when there is no such process (or no `/proc`). */
export function readProcStatSync(pid: number): ProcStat | null {
  try {
    return parseProcStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** Reads one process's stat; `null` when there is no such process (or no `/proc`). */
export async function readProcStat(pid: number): Promise<ProcStat | null> {
  try {
    return parseProcStat(pid, await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** Every process in a process group, zombies included (they are told apart by `state`). */
export async function processGroupMembers(pgid: number): Promise<ProcStat[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const stats = await Promise.all(entries.filter((name) => /^\d+$/.test(name)).map((name) => readProcStat(Number(name))));
  return stats.filter((stat): stat is ProcStat => stat !== null && stat.pgid === pgid);
}

/** Whether a process still runs: it exists and is neither a zombie nor dead. */
export function isLive(stat: ProcStat): boolean {
  return stat.state !== 'Z' && stat.state !== 'X' && stat.state !== 'x';
}
