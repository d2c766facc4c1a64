/**
 * Writing a file so a crash mid-write never leaves it half-written: a sibling temporary file,
 * flushed, then renamed over the target. A new file is created 0600 (its parents 0700); an
 * existing one keeps its mode.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DIR_CREATE_MODE, FILE_CREATE_MODE } from './tool-limits.js';

export async function atomicWrite(target: string, content: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true, mode: DIR_CREATE_MODE });
  const mode = await stat(target).then(
    (stats) => stats.mode & 0o7777,
    () => FILE_CREATE_MODE,
  );
  const temporary = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', mode);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
    await handle.chmod(mode);
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
