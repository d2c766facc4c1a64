/**
 * Finds the executable a command names, once, when the runtime is made. A sandbox runs on a clean
 * environment (no `PATH` unless allowed) and in its own work directory, so a bare name or a
 * relative path is resolved on the host's `PATH` and working directory here, and a mistake is
 * reported before the first work item instead of as that item's failure.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/** Where to look when the host has no `PATH` (the usual default of `execvp`). */
const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/** Whether `path` is a regular file this process may execute. */
export function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The absolute path of the executable `name` names: a name with a `/` is taken relative to the
 * host's working directory; a bare name is looked up on the host's `PATH`. `null` when there is no
 * such executable.
 */
export function findExecutable(name: string): string | null {
  if (name.includes('/')) {
    const path = isAbsolute(name) ? name : resolve(name);
    return isExecutableFile(path) ? path : null;
  }
  for (const directory of (process.env['PATH'] ?? DEFAULT_PATH).split(delimiter)) {
    if (directory === '' || !isAbsolute(directory)) continue;
    const path = join(directory, name);
    if (isExecutableFile(path)) return path;
  }
  return null;
}
