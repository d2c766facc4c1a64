/**
 * The state files that make `reap` possible: while a sandbox runs, its worker keeps one small file
 * `<stateDir>/<workerId>/<pid>.json` naming its process group, its start time and its work
 * directory. A worker that crashes leaves them behind; the next worker with the same id reads them.
 *
 * A state file tells a root worker which processes to kill and which directories to delete, so
 * the directories that hold them must be the worker's own: they are made mode 0700, and one that
 * another user owns or could write to is refused.
 */
import { randomUUID } from 'node:crypto';
import { lstatSync, type Stats } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { errorCode } from '@envworker/core';

/** What a state file records about one running sandbox. */
export interface SandboxState {
  readonly version: 1;
  /** The command's pid; also its process group id (it was spawned as a group leader). */
  readonly pid: number;
  readonly pgid: number;
  /** The command's start time in clock ticks after boot (`/proc/<pid>/stat` field 22). */
  readonly startTime: number;
  /** The item's work directory. */
  readonly workdir: string;
  readonly workId: string;
}

/** One entry of a worker's state directory: a state file, or something that is not one (to remove). */
export interface StateEntry {
  readonly path: string;
  readonly state: SandboxState | null;
}

const STATE_FILE = /^(\d+)\.json$/;

/**
 * The state directory of one worker. The worker id is encoded so that no id can name another
 * directory (`..`, a `/`) and two ids never share one.
 */
export function workerStateDir(stateDir: string, workerId: string): string {
  const encoded = encodeURIComponent(workerId).replace(/[.!~*'()]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
  return join(stateDir, encoded);
}

/** Creates `dir` (mode 0700) if needed and checks that it is a directory only this user can write. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new Error(`stateDir: ${dir} could not be created (${errorCode(error)})`, { cause: error });
  }
  await checkPrivateDir(dir);
}

/**
 * Checks that an existing `dir` is a real directory (not a symlink) owned by this user and not
 * writable by group or others; throws saying what is wrong.
 */
export async function checkPrivateDir(dir: string): Promise<void> {
  const problem = unsafeDirProblem(dir, await lstat(dir));
  if (problem !== null) throw new Error(problem);
}

/** {@link checkPrivateDir} for a directory that may not exist yet (then there is nothing to check), at once. */
export function checkPrivateDirIfAnySync(dir: string): void {
  let info: Stats;
  try {
    info = lstatSync(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  const problem = unsafeDirProblem(dir, info);
  if (problem !== null) throw new Error(problem);
}

function unsafeDirProblem(dir: string, info: Stats): string | null {
  const euid = process.geteuid?.();
  if (!info.isDirectory()) return `stateDir: ${dir} is not a directory (a symlink is refused); refusing to use it`;
  if (euid !== undefined && info.uid !== euid) {
    return `stateDir: ${dir} belongs to uid ${info.uid}, not to this worker's uid ${euid}; refusing to use it`;
  }
  if ((info.mode & 0o022) !== 0) {
    return `stateDir: ${dir} is writable by group or others (mode ${(info.mode & 0o777).toString(8)}); refusing to use it`;
  }
  return null;
}

/** Writes a sandbox's state file atomically (a temporary file, then a rename); resolves with its path. */
export async function writeState(dir: string, state: SandboxState): Promise<string> {
  const path = join(dir, `${state.pid}.json`);
  const temporary = join(dir, `.${state.pid}.json.${randomUUID()}.tmp`);
  await writeFile(temporary, `${JSON.stringify(state)}\n`, { mode: 0o600 });
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return path;
}

/** Removes a state file; one already gone is fine. */
export async function removeState(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** The entries of a worker's state directory; none when it does not exist. */
export async function readStates(dir: string): Promise<StateEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  await checkPrivateDir(dir);
  return Promise.all(
    names.map(async (name) => {
      const path = join(dir, name);
      const pid = STATE_FILE.exec(name)?.[1];
      if (pid === undefined) return { path, state: null };
      try {
        return { path, state: parseState(await readFile(path, 'utf8'), Number(pid)) };
      } catch {
        return { path, state: null };
      }
    }),
  );
}

/** Parses a state file's text; `null` unless it is a well-formed record of process `pid`. */
export function parseState(text: string, pid: number): SandboxState | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  const positive = (field: unknown): field is number => typeof field === 'number' && Number.isSafeInteger(field) && field > 1;
  if (
    record['version'] !== 1 ||
    record['pid'] !== pid ||
    !positive(record['pid']) ||
    !positive(record['pgid']) ||
    typeof record['startTime'] !== 'number' ||
    !Number.isSafeInteger(record['startTime']) ||
    record['startTime'] < 0 ||
    typeof record['workdir'] !== 'string' ||
    !isAbsolute(record['workdir']) ||
    typeof record['workId'] !== 'string'
  ) {
    return null;
  }
  return {
    version: 1,
    pid: record['pid'],
    pgid: record['pgid'],
    startTime: record['startTime'],
    workdir: record['workdir'],
    workId: record['workId'],
  };
}
