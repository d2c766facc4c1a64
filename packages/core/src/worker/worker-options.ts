/**
 * The options of `createWorker` and their checks. Every error names the option (`createWorker:
 * maxConcurrency must be …`) and never repeats a value that may be a credential.
 */
import { randomUUID } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { Logger } from 'pino';
import type { WorkClient } from '../api/client.js';
import { POLL_LIMITS } from '../api/wire.js';
import type { LoggerOptions } from '../observe/logger.js';
import type { SandboxRuntime } from '../runtime/sandbox-runtime.js';
import { systemClock, type Clock } from '../time/clock.js';

/** Options of `createWorker`. */
export interface WorkerOptions {
  /** Base URL of the Work API; sandboxes are told it too (`ANTHROPIC_BASE_URL`). */
  readonly baseUrl: string;
  /** The environment whose work this worker runs. */
  readonly environmentId: string;
  /** The environment key: the credential of poll and ack, and given to each sandbox. */
  readonly environmentKey: string;
  /** Where work items run. */
  readonly runtime: SandboxRuntime;
  /**
   * A client to call the Work API with, for the same `baseUrl`, `environmentId` and
   * `environmentKey` (say, with its own dispatcher or retry policy). Default: one the worker
   * makes, on the worker's clock, with kept-alive connections bounded to one per poller plus 32
   * for the short calls, and closes at the end. A client passed in is not closed.
   */
  readonly client?: WorkClient;
  /** Most items held at once; default 1. */
  readonly maxConcurrency?: number;
  /** Unique per worker, sent as `Anthropic-Worker-ID`; default `<hostname>-<uuid>`. */
  readonly workerId?: string;
  /** The lease TTL to ask for, in whole seconds (the server clamps it); default: the server's. */
  readonly leaseTtlSeconds?: number;
  /** Grace of a graceful sandbox stop before it is killed; default 10 000 ms. */
  readonly stopGraceMs?: number;
  /**
   * A pino logger to log to as is, or options of the one the worker makes (which scrubs the
   * environment key and every item's secrets from each line by value). Default: JSON lines at
   * `info` on standard output. A logger passed in scrubs only by field name.
   */
  readonly logger?: Logger | LoggerOptions;
  /** The clock of every timer and timestamp; default the system clock. */
  readonly clock?: Clock;
  /** Long polls at once, at most `maxConcurrency`; default 1. */
  readonly pollers?: number;
  /** `[min, max]` pause after an empty poll, jittered; default `[1000, 3000]`; `[0, 0]` polls again at once. */
  readonly pollIdleDelayMs?: readonly [number, number];
  /** Where per-item work directories go (absolute); default `<os tmpdir>/envworker/<workerId>`. */
  readonly workdirRoot?: string;
  /** Jitter source, numbers in [0, 1); default `Math.random`. */
  readonly random?: () => number;
}

/** The options after defaults and checks. */
export interface ResolvedWorkerOptions {
  readonly baseUrl: string;
  readonly environmentId: string;
  readonly environmentKey: string;
  readonly runtime: SandboxRuntime;
  readonly client: WorkClient | null;
  readonly maxConcurrency: number;
  readonly workerId: string;
  readonly leaseTtlSeconds: number | undefined;
  readonly stopGraceMs: number;
  readonly logger: Logger | LoggerOptions;
  readonly clock: Clock;
  readonly pollers: number;
  readonly pollIdleDelayMs: readonly [number, number];
  readonly workdirRoot: string;
  readonly ownsWorkdirRoot: boolean;
  readonly random: () => number;
}

const MAX_CONCURRENCY = 10_000;
const MAX_STOP_GRACE_MS = 24 * 60 * 60 * 1000;
const MAX_IDLE_DELAY_MS = 10 * 60 * 1000;
const HEADER_TOKEN = /^[\x21-\x7e]+$/;

function fail(message: string, kind: 'type' | 'range' = 'type'): never {
  const text = `createWorker: ${message}`;
  throw kind === 'range' ? new RangeError(text) : new TypeError(text);
}

function integer(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${name} must be an integer between ${min} and ${max}`, 'range');
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function hasMethods(value: unknown, methods: readonly string[]): boolean {
  return isObject(value) && methods.every((method) => typeof value[method] === 'function');
}

/** The default worker id: `<hostname>-<uuid>`, with anything a header cannot carry replaced. */
export function defaultWorkerId(): string {
  const host = hostname().replace(/[^\x21-\x7e]/g, '-') || 'worker';
  return `${host}-${randomUUID()}`;
}

/** Applies the defaults and checks every option; throws a `TypeError` or `RangeError` naming the first bad one. */
export function resolveWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  if (!isObject(options)) fail('options must be an object');
  const baseUrl = options.baseUrl;
  if (typeof baseUrl !== 'string' || !URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) {
    fail('baseUrl must be an absolute http: or https: URL');
  }
  if (typeof options.environmentId !== 'string' || !HEADER_TOKEN.test(options.environmentId)) {
    fail('environmentId must be a non-empty string without spaces (the env_… id of the environment)');
  }
  if (typeof options.environmentKey !== 'string' || !HEADER_TOKEN.test(options.environmentKey)) {
    fail('environmentKey must be a non-empty string of visible ASCII characters (the environment key)');
  }
  const runtime = options.runtime;
  if (!isObject(runtime) || typeof runtime.name !== 'string' || typeof runtime.start !== 'function') {
    fail('runtime must be a SandboxRuntime (an object with a name and a start function), e.g. functionRuntime(fn)');
  }
  const client = options.client ?? null;
  if (client !== null && !hasMethods(client, ['poll', 'ack', 'get', 'heartbeat', 'stop'])) {
    fail('client must be a WorkClient');
  }
  const maxConcurrency = integer(options.maxConcurrency ?? 1, 'maxConcurrency', 1, MAX_CONCURRENCY);
  const pollers = integer(options.pollers ?? 1, 'pollers', 1, MAX_CONCURRENCY);
  if (pollers > maxConcurrency) fail(`pollers (${pollers}) must not exceed maxConcurrency (${maxConcurrency}): a poll needs a free slot`, 'range');
  const workerId = options.workerId ?? defaultWorkerId();
  if (typeof workerId !== 'string' || !HEADER_TOKEN.test(workerId)) {
    fail('workerId must be a non-empty string of visible ASCII characters (it is sent as a header)');
  }
  const leaseTtlSeconds = options.leaseTtlSeconds === undefined ? undefined : integer(options.leaseTtlSeconds, 'leaseTtlSeconds', 1, 86_400);
  const stopGraceMs = integer(options.stopGraceMs ?? 10_000, 'stopGraceMs', 0, MAX_STOP_GRACE_MS);
  const logger = options.logger ?? {};
  if (!isObject(logger)) fail('logger must be a pino Logger or logger options');
  const clock = options.clock ?? systemClock;
  if (!hasMethods(clock, ['now', 'setTimeout', 'clearTimeout'])) fail('clock must be a Clock (now, setTimeout, clearTimeout)');
  const idle = options.pollIdleDelayMs ?? [1000, 3000];
  if (
    !Array.isArray(idle) ||
    idle.length !== 2 ||
    !idle.every((value) => typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_IDLE_DELAY_MS) ||
    (idle[0] as number) > (idle[1] as number)
  ) {
    fail(`pollIdleDelayMs must be [min, max] with 0 <= min <= max <= ${MAX_IDLE_DELAY_MS}`, 'range');
  }
  const ownsWorkdirRoot = options.workdirRoot === undefined;
  // A worker id may hold a path separator; the default directory must stay one level below envworker/.
  const workdirRoot = options.workdirRoot ?? join(tmpdir(), 'envworker', workerId.replace(/[/\\]/g, '_'));
  if (typeof workdirRoot !== 'string' || !isAbsolute(workdirRoot)) fail('workdirRoot must be an absolute path');
  const random = options.random ?? Math.random;
  if (typeof random !== 'function') fail('random must be a function returning numbers in [0, 1)');
  return {
    baseUrl,
    environmentId: options.environmentId,
    environmentKey: options.environmentKey,
    runtime: options.runtime,
    client,
    maxConcurrency,
    workerId,
    leaseTtlSeconds,
    stopGraceMs,
    logger: logger as Logger | LoggerOptions,
    clock,
    pollers,
    pollIdleDelayMs: [idle[0] as number, idle[1] as number],
    workdirRoot,
    ownsWorkdirRoot,
    random,
  };
}

/** How long an ack may be retried: the server's default reclaim window, after which another poller may get the item. */
export const ACK_WINDOW_MS = POLL_LIMITS.defaultReclaimOlderThanMs;
