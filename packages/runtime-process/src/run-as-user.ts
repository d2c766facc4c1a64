/**
 * The `user` option: run every sandbox as another uid and gid. Only root may switch users, so a
 * worker that is not root is refused when the runtime is made.
 */
import { execFileSync } from 'node:child_process';
import { optionError } from './option-error.js';
import { findExecutable } from './command-path.js';

/** A numeric user and group to run sandboxes as. */
export interface ProcessUser {
  readonly uid: number;
  readonly gid: number;
}

/** The highest valid uid or gid (2^32 - 2; 2^32 - 1 means "no change" to the kernel). */
const MAX_ID = 4_294_967_294;

/**
 * Checks the `user` option and resolves a user name (or a numeric string) to its uid and primary
 * gid with `id -u` / `id -g`, which also consult NSS (LDAP, …), not only `/etc/passwd`.
 */
export function resolveUser(value: unknown): ProcessUser {
  const euid = process.geteuid?.();
  if (euid !== 0) {
    optionError(`user needs the worker to run as root (its effective uid is ${String(euid)}), since only root may start processes as another user`);
  }
  if (typeof value === 'string') {
    if (!/^[A-Za-z0-9._][A-Za-z0-9._-]*$/.test(value)) optionError(`user must be a user name, got ${JSON.stringify(value)}`);
    return { uid: idOf(value, '-u'), gid: idOf(value, '-g') };
  }
  if (typeof value !== 'object' || value === null) optionError('user must be a user name or { uid, gid }');
  const { uid, gid } = value as Partial<ProcessUser>;
  return { uid: checkId(uid, 'user.uid'), gid: checkId(gid, 'user.gid') };
}

function checkId(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_ID) {
    optionError(`${field} must be an integer between 0 and ${MAX_ID}`, 'range');
  }
  return value;
}

function idOf(name: string, flag: '-u' | '-g'): number {
  const id = findExecutable('id');
  if (id === null) optionError(`user ${JSON.stringify(name)} cannot be resolved: the id command was not found on PATH; give { uid, gid } instead`);
  let output: string;
  try {
    output = execFileSync(id, [flag, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
  } catch {
    optionError(`user ${JSON.stringify(name)} is not a user on this host`);
  }
  const text = output.trim();
  if (!/^\d+$/.test(text)) optionError(`user ${JSON.stringify(name)} cannot be resolved: id ${flag} printed no number`);
  return checkId(Number(text), flag === '-u' ? 'the uid of user' : 'the gid of user');
}
