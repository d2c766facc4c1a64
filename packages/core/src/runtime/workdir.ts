/**
 * The per-item work directory: every adapter creates it fresh before the sandbox starts and
 * removes it after the sandbox ends, so one item never sees another's files.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { isAbsolute } from 'node:path';

/**
 * Creates the work directory (and its parents). An existing empty directory is taken as is; an
 * existing one with entries is refused and left untouched, since it may hold another item's files.
 */
export async function createWorkdir(path: string): Promise<void> {
  if (!isAbsolute(path)) throw new TypeError(`workdir must be an absolute path, got ${JSON.stringify(path)}`);
  try {
    await mkdir(path, { recursive: true });
  } catch (error) {
    throw new Error(`workdir ${path} could not be created (${errorCode(error)})`, { cause: error });
  }
  const entries = await readdir(path);
  if (entries.length > 0) throw new Error(`workdir ${path} already exists and is not empty; refusing to reuse it`);
}

/** Removes the work directory and everything in it; a directory that is already gone is fine. */
export async function removeWorkdir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true, maxRetries: 3 });
}

/** The Node error code of a file-system error (`EACCES`, `ENOTDIR`, …), or `unknown`. */
export function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return 'unknown';
}
