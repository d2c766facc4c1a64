/**
 * The per-item work directory: every adapter creates it fresh before the sandbox starts and
 * removes it after the sandbox ends, so one item never sees another's files.
 */
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';

/**
 * Creates the work directory (and its parents). An existing empty directory is taken as is; an
 * existing one with entries is refused and left untouched, since it may hold another item's files.
 */
export async function createWorkdir(path: string): Promise<void> {
  if (!isAbsolute(path)) throw new TypeError(`workdir must be an absolute path, got ${JSON.stringify(path)}`);
  // One mkdir per item in the usual case (the parent exists, the name is new): a recursive mkdir
  // and a listing of the new directory cost about twice the CPU, at thousands of items a second.
  const created = await mkdir(path).then(
    () => true,
    async (error: unknown) => {
      if (errorCode(error) === 'EEXIST') return false;
      if (errorCode(error) !== 'ENOENT') throw workdirError(path, error);
      await mkdir(dirname(path), { recursive: true }).catch((cause: unknown) => {
        throw workdirError(path, cause);
      });
      return mkdir(path).then(
        () => true,
        (cause: unknown) => {
          if (errorCode(cause) === 'EEXIST') return false;
          throw workdirError(path, cause);
        },
      );
    },
  );
  if (created) return;
  const entries = await readdir(path).catch((cause: unknown) => {
    throw workdirError(path, cause);
  });
  if (entries.length > 0) throw new Error(`workdir ${path} already exists and is not empty; refusing to reuse it`);
}

function workdirError(path: string, cause: unknown): Error {
  return new Error(`workdir ${path} could not be created (${errorCode(cause)})`, { cause });
}

/** Removes the work directory and everything in it; a directory that is already gone is fine. */
export async function removeWorkdir(path: string): Promise<void> {
  // Most sandboxes leave their directory empty: one rmdir, and the recursive walk only otherwise.
  const removed = await rmdir(path).then(
    () => true,
    (error: unknown) => errorCode(error) === 'ENOENT',
  );
  if (!removed) await rm(path, { recursive: true, force: true, maxRetries: 3 });
}

/** The Node error code of a file-system error (`EACCES`, `ENOTDIR`, …), or `unknown`. */
export function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return 'unknown';
}
