/**
 * Confining the file tools to the work directory. A path the agent gives is resolved against
 * the work directory with every symlink followed (the leaf too, even a dangling one: a link
 * whose target does not exist yet must not let `write` create a file outside), `..` collapsed
 * first; a result outside the directory is refused. Messages show the path as the agent gave
 * it, never the host's absolute path.
 */
import { lstat, readlink, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { errorCode } from '@envworker/core';
import { ToolError } from './session-tool.js';

/** Most symlinks followed for one path (as the kernel's ELOOP limit). */
const MAX_LINKS = 40;

/** Whether `target` is `root` or inside it (both canonical). */
export function isWithin(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * The canonical form of `path`: every existing component's symlinks resolved, and a missing tail
 * (a file to be created) kept as written. A dangling link is followed to where it points.
 */
export async function canonicalize(path: string, depth = 0): Promise<string> {
  if (depth > MAX_LINKS) throw Object.assign(new Error('too many links'), { code: 'ELOOP' });
  try {
    return await realpath(path);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  // Missing: either the leaf is a dangling link, or some component does not exist yet.
  const stats = await lstat(path).catch(() => null);
  if (stats?.isSymbolicLink() === true) {
    const target = await readlink(path);
    return canonicalize(resolve(dirname(path), target), depth + 1);
  }
  const parent = dirname(path);
  if (parent === path) return path;
  return join(await canonicalize(parent, depth), path.slice(parent.length).replace(/^\/+/, ''));
}

/** `given` resolved inside `workdir`, or a {@link ToolError} (outside, or unresolvable). */
export async function confine(workdir: string, given: string): Promise<string> {
  const root = await realpath(workdir);
  let target: string;
  try {
    target = await canonicalize(resolve(root, given));
  } catch (error) {
    throw new ToolError(fsErrorMessage(error, `path ${JSON.stringify(given)}`));
  }
  if (!isWithin(root, target)) throw new ToolError(`path ${JSON.stringify(given)} is outside the session's working directory`);
  return target;
}

/** A file-system error as the agent reads it: what happened to `file` (as given), by error code. */
export function fsErrorMessage(error: unknown, file: string): string {
  const code = errorCode(error);
  switch (code) {
    case 'ENOENT':
      return `${file}: no such file or directory`;
    case 'EACCES':
    case 'EPERM':
      return `${file}: permission denied`;
    case 'ENOTDIR':
      return `${file}: not a directory`;
    case 'EISDIR':
      return `${file}: is a directory`;
    case 'ELOOP':
      return `${file}: too many levels of symbolic links`;
    case 'ENAMETOOLONG':
      return `${file}: file name too long`;
    case 'ENOSPC':
      return `${file}: no space left on device`;
    case 'EMFILE':
    case 'ENFILE':
      return `${file}: too many open files`;
    default:
      return `${file}: ${code === 'unknown' ? 'i/o error' : `i/o error (${code})`}`;
  }
}
