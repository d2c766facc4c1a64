/**
 * Writing a file so a crash mid-write never leaves it half-written: a sibling temporary file,
 * flushed, then renamed over the target. A new file is created 0600 (its parents 0700, both less
 * what the umask removes, as `open` and `mkdir` do); an existing one keeps its mode.
 *
 * The common case, a file in a directory that exists, costs stat, open, write, fsync, close and
 * rename: the parents are only made when the open says they are missing, and only a replaced
 * file's mode is set after the open, since the temporary file is created with the new file's.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errorCode } from '@envworker/core';
import { DIR_CREATE_MODE, FILE_CREATE_MODE } from './tool-limits.js';

export async function atomicWrite(target: string, content: string): Promise<void> {
  const existingMode = await stat(target).then(
    (stats) => stats.mode & 0o7777,
    () => null,
  );
  const temporary = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await openTemporary(temporary);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
    if (existingMode !== null) await handle.chmod(existingMode);
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Creates `temporary` (never an existing file), making its parent directories if they are missing. */
async function openTemporary(temporary: string): Promise<FileHandle> {
  try {
    return await open(temporary, 'wx', FILE_CREATE_MODE);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  await mkdir(dirname(temporary), { recursive: true, mode: DIR_CREATE_MODE });
  return open(temporary, 'wx', FILE_CREATE_MODE);
}
