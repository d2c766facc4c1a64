/**
 * `createWorker`: the worker as a library. It checks the options, makes the client and the
 * logger, and hands them to the supervisor, which does the work.
 */
import type { Logger } from 'pino';
import type { Observable } from 'rxjs';
import { WorkClient } from '../api/client.js';
import type { RetryPolicy } from '../api/retry.js';
import { Supervisor, type ShutdownOptions } from '../actors/supervisor.js';
import type { WorkerEvent, WorkerStatus } from '../actors/worker-events.js';
import { createLogger, type LoggerOptions } from '../observe/logger.js';
import { ACK_WINDOW_MS, resolveWorkerOptions, type WorkerOptions } from './worker-options.js';

/** A running (or ready) worker. */
export interface Worker {
  /** The id it polls with (`Anthropic-Worker-ID`). */
  readonly workerId: string;
  /** Starts polling; resolves once polling has begun. Throws if called twice. */
  start(): Promise<void>;
  /**
   * Stops polling at once, then `drain` (default): lets running items finish for up to
   * `deadlineMs` (default 30 s) and stops the rest gracefully; or `stop`: stops every item
   * gracefully now. Resolves when every item's actor is final and its sandbox has exited.
   * Calling it again is safe; `stop` after `drain` cuts the drain short.
   */
  shutdown(options?: ShutdownOptions): Promise<void>;
  /** Lifecycle events (never a secret). Hot: subscribe before `start()` to see them all. Completes at the end. */
  readonly events$: Observable<WorkerEvent>;
  /** A snapshot of slots, items and counters. */
  status(): WorkerStatus;
  /**
   * Resolves after a shutdown has finished; rejects with a `FatalPollError` (whose message says
   * what to fix) if polling met an error that retrying cannot fix, after every item has been stopped.
   */
  readonly done: Promise<void>;
}

/** Backoff of ack and stop-call retries; the stop call is retried at most `maxRetries` times. */
const ITEM_RETRY: RetryPolicy = { maxRetries: 5, baseDelayMs: 500, maxDelayMs: 8000 };

/** How far past its grace a graceful sandbox stop may run before the item kills the sandbox itself. */
const STOP_DEADLINE_MARGIN_MS = 5000;

/**
 * Connections the worker's own client keeps for its short calls (ack, heartbeat, stop), besides
 * one per long poll. Unbounded, a burst of calls (thousands of leases beating in the same second, a
 * shutdown stopping them all) opened a socket per call: at 10,000 leases that was seconds of CPU in
 * connection setup, and heartbeats fell late. Kept-alive connections in a bounded pool queue the
 * burst instead; 32 in flight is far above what 1,000 beats a second at a few ms each need.
 */
const SHORT_CALL_CONNECTIONS = 32;

/**
 * Creates a worker: it polls the environment's work while it has a free slot, runs each item in a
 * sandbox of `runtime` while keeping its lease, and stops each item as the Work API contract's §7
 * says. Throws a `TypeError` or `RangeError` naming the first bad option.
 *
 * @example
 * ```ts
 * import { createWorker, functionRuntime } from '@envworker/core';
 *
 * const worker = createWorker({
 *   baseUrl: 'http://127.0.0.1:8080',
 *   environmentId: process.env.ANTHROPIC_ENVIRONMENT_ID!,
 *   environmentKey: process.env.ANTHROPIC_ENVIRONMENT_KEY!,
 *   maxConcurrency: 4,
 *   runtime: functionRuntime(async (work, ctx) => {
 *     ctx.logger.info('serving session');
 *     await serveSession(ctx.env, { signal: ctx.signal }); // return when ctx.signal aborts
 *   }),
 * });
 * worker.events$.subscribe((event) => {
 *   if (event.type === 'stopped') console.log(event.work_id, event.outcome);
 * });
 * await worker.start();
 * process.once('SIGTERM', () => void worker.shutdown({ mode: 'drain', deadlineMs: 60_000 }));
 * await worker.done;
 * ```
 */
export function createWorker(options: WorkerOptions): Worker {
  const resolved = resolveWorkerOptions(options);
  const knownSecrets = new Set<string>([resolved.environmentKey]);
  const logger = isLogger(resolved.logger) ? resolved.logger : ownLogger(resolved.logger, knownSecrets);
  const ownsClient = resolved.client === null;
  const client =
    resolved.client ??
    new WorkClient({
      baseUrl: resolved.baseUrl,
      environmentId: resolved.environmentId,
      environmentKey: resolved.environmentKey,
      clock: resolved.clock,
      random: resolved.random,
      maxConnections: resolved.pollers + SHORT_CALL_CONNECTIONS,
    });
  const supervisor = new Supervisor({
    client,
    runtime: resolved.runtime,
    environmentId: resolved.environmentId,
    environmentKey: resolved.environmentKey,
    baseUrl: resolved.baseUrl,
    workerId: resolved.workerId,
    maxConcurrency: resolved.maxConcurrency,
    pollers: resolved.pollers,
    pollIdleDelayMs: resolved.pollIdleDelayMs,
    item: {
      stopGraceMs: resolved.stopGraceMs,
      ackWindowMs: ACK_WINDOW_MS,
      leaseTtlSeconds: resolved.leaseTtlSeconds,
      retry: ITEM_RETRY,
      stopDeadlineMarginMs: STOP_DEADLINE_MARGIN_MS,
    },
    workdirRoot: resolved.workdirRoot,
    ownsWorkdirRoot: resolved.ownsWorkdirRoot,
    logger,
    knownSecrets,
    clock: resolved.clock,
    random: resolved.random,
    onClosed: () => (ownsClient ? client.close() : Promise.resolve()),
  });
  return {
    workerId: resolved.workerId,
    start: () => supervisor.start(),
    shutdown: (shutdownOptions) => supervisor.shutdown(shutdownOptions),
    events$: supervisor.events$,
    status: () => supervisor.status(),
    done: supervisor.done,
  };
}

function isLogger(value: Logger | LoggerOptions): value is Logger {
  return typeof (value as Partial<Logger>).child === 'function' && typeof (value as Partial<Logger>).info === 'function';
}

/** The worker's own logger: scrubs the environment key, the secrets the caller named, and each item's. */
function ownLogger(options: LoggerOptions, knownSecrets: Set<string>): Logger {
  for (const secret of options.knownSecrets ?? []) knownSecrets.add(secret);
  return createLogger({ ...options, knownSecrets });
}
