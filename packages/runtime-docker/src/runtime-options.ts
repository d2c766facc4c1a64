/**
 * The options of `dockerRuntime`, their defaults and their checks. Every check runs when the
 * runtime is made and names the option; what only the daemon can tell (is the image there, can it
 * enforce a limit) is checked when the worker starts (see `daemon-check.ts`).
 */
import { isAbsolute, normalize } from 'node:path';
import { ON_WORK_VARIABLES, systemClock, type Clock } from '@envworker/core';
import { resolveDockerEndpoint, type DockerEndpoint } from './docker-host.js';
import { signalNumber } from './exit-status.js';
import { optionError } from './option-error.js';

/** When the image is pulled: `never` (it must be on the daemon), `if-not-present`, or `always` (at every worker start). */
export type ImagePolicy = 'never' | 'if-not-present' | 'always';

/** The image policies, in order of how much they pull. */
export const IMAGE_POLICIES: readonly ImagePolicy[] = ['never', 'if-not-present', 'always'];

/** Options of `dockerRuntime`. */
export interface DockerRuntimeOptions {
  /** The image each container runs (`name[:tag]` or `name@sha256:…`). */
  readonly image: string;
  /** When the image is pulled; default `if-not-present`. Checked (and pulled) when the worker starts. */
  readonly imagePolicy?: ImagePolicy;
  /** The container's command (argv); default the image's `CMD`. */
  readonly command?: readonly string[];
  /** Fixed variables for every container, besides the item's `--on-work` ones (which cannot be named here). */
  readonly env?: Readonly<Record<string, string>>;
  /** Where the item's work directory is mounted in the container, and its working directory; default `/work`. */
  readonly mountPath?: string;
  /** Run as this numeric `uid` or `uid:gid` (the work directory is given to it on the host); default the image's user. */
  readonly user?: string;
  /** Memory limit in bytes (swap included: the limit is the whole of it); at least 6 MiB. Default: none. */
  readonly memoryBytes?: number;
  /** CPU limit in CPUs (`0.5` = half of one); default: none. */
  readonly cpus?: number;
  /** Most processes (and threads) in the container; default: none. */
  readonly pidsLimit?: number;
  /** Network mode: `none` (no network but loopback), `bridge` (default), `host`, or the name of a network. */
  readonly network?: string;
  /** Mount the image's root filesystem read-only (the work directory stays writable); default false. */
  readonly readOnlyRootfs?: boolean;
  /** Capabilities given back after all are dropped (`NET_BIND_SERVICE`, `CHOWN`, …); default none. */
  readonly capAdd?: readonly string[];
  /**
   * Run the daemon's init (tini, `docker-init`) as the container's PID 1; default true. It passes
   * signals on to the command and reaps zombies. Without it the command is PID 1, which the kernel
   * shields from every signal it has no handler for: a polite signal it does not trap does nothing.
   */
  readonly init?: boolean;
  /** The polite signal of `stop()`; default `SIGTERM`. */
  readonly stopSignal?: NodeJS.Signals;
  /** Keep each container after it ended (for debugging; `docker rm` it yourself); default false. */
  readonly keepContainers?: boolean;
  /** Keep each work directory after its container ended; default false. */
  readonly keepWorkdir?: boolean;
  /** Let the daemon keep its own copy of the output with its default log driver; default false (log driver `none`). */
  readonly daemonLogs?: boolean;
  /** Longest output line passed on; a longer one is cut and marked `…[truncated]`. Default 16 KiB. */
  readonly maxLineBytes?: number;
  /** Most bytes of stdout and stderr together: beyond it the container is killed at once, exit reason `limit`. Default: none. */
  readonly maxOutputBytes?: number;
  /**
   * `reap(workerId)` also removes the containers of every other worker that is gone: one that ran
   * on this host (same kernel boot, same pid namespace) and whose process no longer runs. Default false.
   */
  readonly reapOrphans?: boolean;
  /** The daemon's address (`unix:///path` or `tcp://host:port`); default `DOCKER_HOST`, else `unix:///var/run/docker.sock`. */
  readonly dockerHost?: string;
  /** The runtime's name (in the worker's logs); default `docker`. */
  readonly name?: string;
  /** Time source of the grace timer and of `durationMs`; default the system clock. */
  readonly clock?: Clock;
}

/** A numeric container user. */
export interface ContainerUser {
  readonly uid: number;
  readonly gid: number | null;
}

/** The options after defaults and checks. */
export interface DockerSettings {
  readonly name: string;
  readonly endpoint: DockerEndpoint;
  readonly image: string;
  readonly imagePolicy: ImagePolicy;
  readonly command: readonly string[] | null;
  readonly env: Readonly<Record<string, string>>;
  readonly mountPath: string;
  readonly user: ContainerUser | null;
  readonly memoryBytes: number | null;
  readonly cpus: number | null;
  readonly pidsLimit: number | null;
  readonly network: string;
  readonly readOnlyRootfs: boolean;
  readonly capAdd: readonly string[];
  readonly init: boolean;
  readonly stopSignal: NodeJS.Signals;
  readonly keepContainers: boolean;
  readonly keepWorkdir: boolean;
  readonly daemonLogs: boolean;
  readonly maxLineBytes: number;
  readonly maxOutputBytes: number | null;
  readonly reapOrphans: boolean;
  readonly clock: Clock;
}

/** Docker refuses a smaller memory limit. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
const DEFAULT_MAX_LINE_BYTES = 16 * 1024;
const MAX_LINE_BYTES_RANGE = [256, 1024 * 1024] as const;
const MAX_CPUS = 1024;
const MAX_PIDS = 4_194_304;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A reference as Docker writes one: registry host (and port), path, tag or digest; Docker checks the rest. */
const IMAGE_REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/;
const CAPABILITY = /^(CAP_)?[A-Z][A-Z_]*$/;
const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const USER = /^(\d{1,10})(?::(\d{1,10}))?$/;

const KNOWN_OPTIONS = new Set([
  'image',
  'imagePolicy',
  'command',
  'env',
  'mountPath',
  'user',
  'memoryBytes',
  'cpus',
  'pidsLimit',
  'network',
  'readOnlyRootfs',
  'capAdd',
  'init',
  'stopSignal',
  'keepContainers',
  'keepWorkdir',
  'daemonLogs',
  'maxLineBytes',
  'maxOutputBytes',
  'reapOrphans',
  'dockerHost',
  'name',
  'clock',
]);

/** Applies the defaults and checks every option; throws a `TypeError` or `RangeError` naming the first bad one. */
export function resolveDockerOptions(options: DockerRuntimeOptions, env: NodeJS.ProcessEnv = process.env): DockerSettings {
  if (typeof options !== 'object' || options === null) optionError('options must be an object with at least an image');
  const unknown = Object.keys(options).filter((key) => !KNOWN_OPTIONS.has(key));
  if (unknown.length > 0) optionError(`unknown options: ${unknown.join(', ')}`);
  const name = options.name ?? 'docker';
  if (typeof name !== 'string' || name.length === 0) optionError('name must be a non-empty string');
  const clock = options.clock ?? systemClock;
  const clockLike = typeof clock === 'object' && clock !== null;
  if (!clockLike || typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function') {
    optionError('clock must be a Clock (now, setTimeout, clearTimeout)');
  }
  return {
    name,
    endpoint: resolveDockerEndpoint(options.dockerHost, env),
    image: imageReference(options.image),
    imagePolicy: imagePolicy(options.imagePolicy),
    command: options.command === undefined ? null : commandLine(options.command),
    env: fixedEnv(options.env),
    mountPath: mountPath(options.mountPath),
    user: options.user === undefined ? null : containerUser(options.user),
    memoryBytes: options.memoryBytes === undefined ? null : wholeNumber(options.memoryBytes, 'memoryBytes', MIN_MEMORY_BYTES, Number.MAX_SAFE_INTEGER),
    cpus: options.cpus === undefined ? null : cpus(options.cpus),
    pidsLimit: options.pidsLimit === undefined ? null : wholeNumber(options.pidsLimit, 'pidsLimit', 1, MAX_PIDS),
    network: network(options.network),
    readOnlyRootfs: flag(options.readOnlyRootfs, 'readOnlyRootfs', false),
    capAdd: capabilities(options.capAdd),
    init: flag(options.init, 'init', true),
    stopSignal: signalName(options.stopSignal),
    keepContainers: flag(options.keepContainers, 'keepContainers', false),
    keepWorkdir: flag(options.keepWorkdir, 'keepWorkdir', false),
    daemonLogs: flag(options.daemonLogs, 'daemonLogs', false),
    maxLineBytes:
      options.maxLineBytes === undefined ? DEFAULT_MAX_LINE_BYTES : wholeNumber(options.maxLineBytes, 'maxLineBytes', ...MAX_LINE_BYTES_RANGE),
    maxOutputBytes: options.maxOutputBytes === undefined ? null : wholeNumber(options.maxOutputBytes, 'maxOutputBytes', 1, Number.MAX_SAFE_INTEGER),
    reapOrphans: flag(options.reapOrphans, 'reapOrphans', false),
    clock,
  };
}

function imageReference(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) optionError('image must name an image, such as busybox:1.36');
  if (!IMAGE_REFERENCE.test(value) || value.includes('//')) optionError(`image ${JSON.stringify(value)} is not an image reference`);
  return value;
}

function imagePolicy(value: unknown): ImagePolicy {
  if (value === undefined) return 'if-not-present';
  if (!IMAGE_POLICIES.includes(value as ImagePolicy)) optionError(`imagePolicy must be one of ${IMAGE_POLICIES.join(', ')}, got ${JSON.stringify(value)}`);
  return value as ImagePolicy;
}

function commandLine(value: unknown): readonly string[] {
  if (!Array.isArray(value) || value.length === 0) optionError('command must be a non-empty array: the program and its arguments');
  for (const [index, part] of value.entries()) {
    if (typeof part !== 'string' || part.includes('\0')) optionError(`command[${index}] must be a string without NUL characters`);
  }
  if (value[0] === '') optionError('command[0] must name a program');
  return [...(value as string[])];
}

function fixedEnv(value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) optionError('env must be an object of variable names to string values');
  const onWork = new Set<string>(ON_WORK_VARIABLES);
  const env: Record<string, string> = {};
  for (const [name, text] of Object.entries(value)) {
    if (!VARIABLE_NAME.test(name)) optionError(`env: ${JSON.stringify(name)} is not a variable name (letters, digits, _)`);
    if (onWork.has(name)) optionError(`env: ${name} is given to each container from its own work item and cannot be set here`);
    if (typeof text !== 'string' || text.includes('\0')) optionError(`env.${name} must be a string without NUL characters`);
    env[name] = text;
  }
  return env;
}

function mountPath(value: unknown): string {
  if (value === undefined) return '/work';
  if (typeof value !== 'string' || !isAbsolute(value) || value.includes(':') || value.includes(',')) {
    optionError('mountPath must be an absolute path in the container without ":" or ","');
  }
  const path = normalize(value).replace(/\/+$/, '');
  if (path === '') optionError('mountPath must not be the root directory');
  return path;
}

function containerUser(value: unknown): ContainerUser {
  const match = typeof value === 'string' ? USER.exec(value) : null;
  if (match === null) {
    optionError(
      'user must be a numeric uid or uid:gid (a name is only known inside the image, and the work directory must be given to the user on the host)',
    );
  }
  const uid = Number(match[1]);
  const gid = match[2] === undefined ? null : Number(match[2]);
  if (uid > 0xfffffffe || (gid !== null && gid > 0xfffffffe)) optionError('user: uid and gid must be below 4294967295', 'range');
  return { uid, gid };
}

function cpus(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0.01 || value > MAX_CPUS) {
    optionError(`cpus must be a number of CPUs between 0.01 and ${MAX_CPUS}`, 'range');
  }
  return value;
}

function network(value: unknown): string {
  if (value === undefined) return 'bridge';
  if (typeof value !== 'string' || !NETWORK_NAME.test(value)) optionError('network must be none, bridge, host or the name of a network');
  if (value.startsWith('container:')) optionError('network must not join another container');
  return value;
}

function capabilities(value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) optionError('capAdd must be an array of capability names');
  const names: string[] = [];
  for (const [index, name] of value.entries()) {
    if (typeof name !== 'string' || !CAPABILITY.test(name)) optionError(`capAdd[${index}] must be a capability name such as NET_BIND_SERVICE`);
    const bare = name.replace(/^CAP_/, '');
    // ALL would undo the drop and make the container all but privileged; name each one needed.
    if (bare === 'ALL') optionError(`capAdd[${index}]: ALL is refused; name each capability the command needs`);
    names.push(bare);
  }
  return [...new Set(names)];
}

function signalName(value: unknown): NodeJS.Signals {
  if (value === undefined) return 'SIGTERM';
  if (typeof value !== 'string' || signalNumber(value) === undefined) {
    optionError(`stopSignal must be a signal name such as SIGTERM or SIGINT, got ${JSON.stringify(value)}`);
  }
  if (value === 'SIGKILL' || value === 'SIGSTOP') optionError(`stopSignal must be a signal a program can handle, not ${value}`);
  return value as NodeJS.Signals;
}

function flag(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') optionError(`${field} must be a boolean`);
  return value;
}

function wholeNumber(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    optionError(`${field} must be a whole number between ${min} and ${max}`, 'range');
  }
  return value;
}
