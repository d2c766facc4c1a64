/**
 * The options of `processRuntime` and their checks. Everything that can be known before the first
 * work item is checked when the runtime is made: the command is found, the user resolved, the
 * resource limits tried. Each error names the option.
 */
import { constants, tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { NICE_RANGE, systemClock, type Clock } from '@envworker/core';
import { checkInheritEnv } from './child-environment.js';
import { findExecutable, isExecutableFile } from './command-path.js';
import { optionError } from './option-error.js';
import { resolveLimits, type ProcessLimits } from './resource-limits.js';
import { resolveUser, type ProcessUser } from './run-as-user.js';
import { checkPrivateDirIfAnySync } from './state-files.js';

/** Options of `processRuntime`. Only `command` is required. */
export interface ProcessRuntimeOptions {
  /**
   * The program and its arguments (argv; no shell is involved unless `shell` is set). A bare name
   * is looked up on the worker's `PATH`, a relative path against its working directory, both
   * when the runtime is made. With `shell`, the one element is the script.
   */
  readonly command: readonly string[];
  /** Run `command[0]` as a script with `/bin/sh -c` (`true`) or with the shell at this absolute path. Default: no shell. */
  readonly shell?: boolean | string;
  /** The runtime's name (in the worker's logs); default `process`. */
  readonly name?: string;
  /**
   * Host variables to pass on to each sandbox as the host has them (those it lacks are left out);
   * default none. A sandbox otherwise sees only its `--on-work` variables. `PATH` is a common one.
   */
  readonly inheritEnv?: readonly string[];
  /** The polite signal of `stop()` and of `maxRunMs`, sent to the whole process group; default `SIGTERM`. */
  readonly stopSignal?: NodeJS.Signals;
  /** Keep each work directory after its sandbox ends (for debugging); default false. */
  readonly keepWorkdir?: boolean;
  /** Longest run: then the polite signal, and `limitGraceMs` later `SIGKILL`. Exit reason `limit`. Default: none. */
  readonly maxRunMs?: number;
  /** Grace after `maxRunMs`; default 5000. */
  readonly limitGraceMs?: number;
  /** Most bytes of stdout and stderr together: beyond it the group is killed at once, exit reason `limit`. Default: none. */
  readonly maxOutputBytes?: number;
  /** Longest output line passed on; a longer one is cut and marked `…[truncated]`. Default 16 KiB. */
  readonly maxLineBytes?: number;
  /** Also write each item's output (credentials scrubbed) to `<outputDir>/<work id>.jsonl`. Default: no file. */
  readonly outputDir?: string;
  /** Run sandboxes as this user (a name, or `{ uid, gid }`); the worker must be root. Work directories are given to it. */
  readonly user?: string | ProcessUser;
  /** Kernel resource limits of each sandbox, applied with `prlimit` (util-linux), which must be installed. */
  readonly limits?: ProcessLimits;
  /** Where the state files of running sandboxes are kept, for `reap`; default `<os tmpdir>/envworker-state`. */
  readonly stateDir?: string;
  /**
   * Niceness of each sandbox (0–19), and of its process session's scheduling group on a kernel
   * with autogroups, so that sandboxes busy with CPU leave the worker enough of it for its
   * heartbeats; default 19, as the session runtime's shells. 0: the default priority.
   */
  readonly nice?: number;
  /** Time source of the grace and limit timers and of `durationMs`; default the system clock. */
  readonly clock?: Clock;
}

/** The options after defaults and checks. */
export interface ProcessSettings {
  readonly name: string;
  /** The executable to spawn (absolute) and its arguments, with the `prlimit` and shell wrappers applied. */
  readonly file: string;
  readonly args: readonly string[];
  readonly inheritEnv: readonly string[];
  readonly stopSignal: NodeJS.Signals;
  readonly keepWorkdir: boolean;
  readonly maxRunMs: number | null;
  readonly limitGraceMs: number;
  readonly maxOutputBytes: number | null;
  readonly maxLineBytes: number;
  readonly outputDir: string | null;
  readonly user: ProcessUser | null;
  readonly limits: ProcessLimits | null;
  readonly stateDir: string;
  readonly nice: number;
  readonly clock: Clock;
}

const DEFAULT_LIMIT_GRACE_MS = 5000;
const DEFAULT_MAX_LINE_BYTES = 16 * 1024;
const MAX_LINE_BYTES_RANGE = [256, 1024 * 1024] as const;
const MAX_MS = 365 * 24 * 60 * 60 * 1000;
const DEFAULT_SHELL = '/bin/sh';
const DEFAULT_NICE = 19;

const KNOWN_OPTIONS = new Set([
  'command',
  'shell',
  'name',
  'inheritEnv',
  'stopSignal',
  'keepWorkdir',
  'maxRunMs',
  'limitGraceMs',
  'maxOutputBytes',
  'maxLineBytes',
  'outputDir',
  'user',
  'limits',
  'stateDir',
  'nice',
  'clock',
]);

/** Applies the defaults and checks every option; throws a `TypeError` or `RangeError` naming the first bad one. */
export function resolveProcessOptions(options: ProcessRuntimeOptions): ProcessSettings {
  if (typeof options !== 'object' || options === null) optionError('options must be an object with at least a command');
  const unknown = Object.keys(options).filter((key) => !KNOWN_OPTIONS.has(key));
  if (unknown.length > 0) optionError(`unknown options: ${unknown.join(', ')}`);
  const name = options.name ?? 'process';
  if (typeof name !== 'string' || name.length === 0) optionError('name must be a non-empty string');
  const user = options.user === undefined ? null : resolveUser(options.user);
  const command = commandLine(options.command, options.shell);
  const limits = options.limits === undefined ? null : resolveLimits(options.limits, user);
  const argv = limits === null ? command : [...limits.prefix, ...command];
  const clock = options.clock ?? systemClock;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function') {
    optionError('clock must be a Clock (now, setTimeout, clearTimeout)');
  }
  return {
    name,
    file: argv[0] as string,
    args: argv.slice(1),
    inheritEnv: checkInheritEnv(options.inheritEnv),
    stopSignal: signalName(options.stopSignal),
    keepWorkdir: flag(options.keepWorkdir, 'keepWorkdir'),
    maxRunMs: options.maxRunMs === undefined ? null : milliseconds(options.maxRunMs, 'maxRunMs', 1),
    limitGraceMs: options.limitGraceMs === undefined ? DEFAULT_LIMIT_GRACE_MS : milliseconds(options.limitGraceMs, 'limitGraceMs', 0),
    maxOutputBytes: options.maxOutputBytes === undefined ? null : wholeNumber(options.maxOutputBytes, 'maxOutputBytes', 1, Number.MAX_SAFE_INTEGER),
    maxLineBytes:
      options.maxLineBytes === undefined ? DEFAULT_MAX_LINE_BYTES : wholeNumber(options.maxLineBytes, 'maxLineBytes', ...MAX_LINE_BYTES_RANGE),
    outputDir: options.outputDir === undefined ? null : absolutePath(options.outputDir, 'outputDir'),
    user,
    limits: limits?.limits ?? null,
    stateDir: stateDirectory(options.stateDir),
    nice: options.nice === undefined ? DEFAULT_NICE : wholeNumber(options.nice, 'nice', ...NICE_RANGE),
    clock,
  };
}

/** The argv to run: the command with its executable resolved, or the shell with the script. */
function commandLine(command: unknown, shell: unknown): string[] {
  if (!Array.isArray(command) || command.length === 0) optionError('command must be a non-empty array: the program and its arguments');
  for (const [index, part] of command.entries()) {
    if (typeof part !== 'string' || part.includes('\0')) optionError(`command[${index}] must be a string without NUL characters`);
  }
  const parts = command as string[];
  if (shell !== undefined && shell !== false) {
    if (parts.length !== 1) optionError('command must have exactly one element, the script, when shell is set');
    const path = shell === true ? DEFAULT_SHELL : shell;
    if (typeof path !== 'string' || !isAbsolute(path)) optionError('shell must be true or the absolute path of a shell');
    if (!isExecutableFile(path)) optionError(`shell ${JSON.stringify(path)} is not an executable file`);
    return [path, '-c', parts[0] as string];
  }
  const program = parts[0] as string;
  if (program === '') optionError('command[0] must name a program');
  const file = findExecutable(program);
  if (file === null) {
    optionError(
      program.includes('/')
        ? `command[0] ${JSON.stringify(program)} is not an executable file`
        : `command[0] ${JSON.stringify(program)} was not found on PATH`,
    );
  }
  return [file, ...parts.slice(1)];
}

function signalName(value: unknown): NodeJS.Signals {
  if (value === undefined) return 'SIGTERM';
  if (typeof value !== 'string' || !Object.hasOwn(constants.signals, value)) {
    optionError(`stopSignal must be a signal name such as SIGTERM or SIGINT, got ${JSON.stringify(value)}`);
  }
  if (value === 'SIGKILL' || value === 'SIGSTOP') optionError(`stopSignal must be a signal a program can handle, not ${value}`);
  return value as NodeJS.Signals;
}

function flag(value: unknown, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') optionError(`${field} must be a boolean`);
  return value;
}

function milliseconds(value: unknown, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_MS) {
    optionError(`${field} must be a number of milliseconds between ${min} and ${MAX_MS}`, 'range');
  }
  return value;
}

function wholeNumber(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    optionError(`${field} must be a whole number between ${min} and ${max}`, 'range');
  }
  return value;
}

/** The state directory; one that exists already must be safe to trust now, not at the first item. */
function stateDirectory(value: unknown): string {
  const dir = value === undefined ? join(tmpdir(), 'envworker-state') : absolutePath(value, 'stateDir');
  try {
    checkPrivateDirIfAnySync(dir);
  } catch (error) {
    optionError(error instanceof Error ? error.message : String(error));
  }
  return dir;
}

function absolutePath(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isAbsolute(value)) optionError(`${field} must be an absolute path`);
  return value;
}
