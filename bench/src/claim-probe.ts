/**
 * One claim-latency sample: an item is enqueued straight into the store of an in-process control
 * plane (so the moment it is queued is known exactly, with no client round trip in it) and timed
 * to the worker's `started` event for it, its sandbox up. The worker is real: it polls, acks and
 * heartbeats over HTTP on 127.0.0.1 and starts the sandbox with a real runtime.
 */
import { performance } from 'node:perf_hooks';
import { createWorker, type Worker, type WorkerEvent } from '@envworker/core';
import type { ControlPlane, EnvironmentRecord } from '@envworker/control-plane';
import type { TimedRuntime } from './timed-runtime.js';

/** Longest wait for any one event before the run fails. */
const EVENT_DEADLINE_MS = 30_000;

export interface ClaimSample {
  /** From just before the enqueue to the `started` event. */
  readonly latencyMs: number;
  /** The runtime's `start()` alone, from its call to the sandbox running. */
  readonly startMs: number;
}

type ItemEventType = 'started' | 'stopped';

/** A worker whose events are noted as they come (with `performance.now()`), so a probe can wait on one. */
export interface ProbedWorker {
  readonly worker: Worker;
  readonly runtime: TimedRuntime;
  /** When the event of `type` for `workId` came; waits for it if it has not yet (and fails after a deadline). */
  when(type: ItemEventType, workId: string): Promise<number>;
  /** Resolves at the next empty poll after this call. */
  nextEmptyPoll(): Promise<void>;
}

export interface ProbedWorkerOptions {
  readonly cp: ControlPlane;
  readonly environment: EnvironmentRecord;
  readonly runtime: TimedRuntime;
  readonly maxConcurrency: number;
  readonly pollers: number;
  /** Absent: the worker's default. */
  readonly pollIdleDelayMs?: readonly [number, number];
  /** Absent: the server's default. */
  readonly leaseTtlSeconds?: number;
}

interface Waiter {
  readonly resolve: (at: number) => void;
  readonly reject: (error: Error) => void;
}

/** Creates the worker (not started) and starts noting its events. */
export function probedWorker(options: ProbedWorkerOptions): ProbedWorker {
  const worker = createWorker({
    baseUrl: options.cp.url,
    environmentId: options.environment.id,
    environmentKey: options.environment.key,
    maxConcurrency: options.maxConcurrency,
    pollers: options.pollers,
    logger: { level: 'error' },
    runtime: options.runtime,
    ...(options.pollIdleDelayMs === undefined ? {} : { pollIdleDelayMs: options.pollIdleDelayMs }),
    ...(options.leaseTtlSeconds === undefined ? {} : { leaseTtlSeconds: options.leaseTtlSeconds }),
  });
  const seen = new Map<string, number>();
  const failed = new Map<string, Error>();
  const waiters = new Map<string, Waiter>();
  let emptyPollWaiters: (() => void)[] = [];
  let failure: Error | null = null;
  worker.events$.subscribe((event: WorkerEvent) => {
    const at = performance.now();
    if (event.type === 'poll_empty') {
      const ready = emptyPollWaiters;
      emptyPollWaiters = [];
      for (const resolve of ready) resolve();
      return;
    }
    if (event.type === 'fatal') {
      failure = new Error(`claim latency: the worker failed: ${event.error}`);
      for (const waiter of waiters.values()) waiter.reject(failure);
      waiters.clear();
      return;
    }
    if (event.type !== 'started' && event.type !== 'stopped') return;
    if (event.type === 'stopped' && event.outcome !== 'completed') {
      const error = new Error(`claim latency: item ${event.work_id} ended ${event.outcome}${event.error === undefined ? '' : `: ${event.error}`}`);
      for (const key of [`started ${event.work_id}`, `stopped ${event.work_id}`]) {
        failed.set(key, error);
        waiters.get(key)?.reject(error);
        waiters.delete(key);
      }
      return;
    }
    const key = `${event.type} ${event.work_id}`;
    seen.set(key, at);
    waiters.get(key)?.resolve(at);
    waiters.delete(key);
  });
  return {
    worker,
    runtime: options.runtime,
    when(type, workId) {
      const key = `${type} ${workId}`;
      const at = seen.get(key);
      if (at !== undefined) return Promise.resolve(at);
      const error = failed.get(key) ?? failure;
      if (error !== null) return Promise.reject(error);
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(key);
          reject(new Error(`claim latency: no ${type} event for ${workId} within ${EVENT_DEADLINE_MS} ms`));
        }, EVENT_DEADLINE_MS);
        const done = (): void => clearTimeout(timer);
        waiters.set(key, {
          resolve: (time) => {
            done();
            resolve(time);
          },
          reject: (error) => {
            done();
            reject(error);
          },
        });
      });
    },
    nextEmptyPoll() {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`claim latency: no empty poll within ${EVENT_DEADLINE_MS} ms`)), EVENT_DEADLINE_MS);
        emptyPollWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/** Enqueues one item for `probed`'s environment and times it to `started`; resolves once the item has stopped. */
export async function probeOnce(cp: ControlPlane, probed: ProbedWorker, environmentId: string): Promise<ClaimSample> {
  const enqueuedAt = performance.now();
  const work = await cp.enqueue({ metadata: { bench: 'claim-latency' } }, environmentId);
  const startedAt = await probed.when('started', work.id);
  await probed.when('stopped', work.id);
  const startMs = probed.runtime.startMs(work.id);
  if (startMs === undefined) throw new Error(`claim latency: the runtime did not time the start of ${work.id}`);
  return { latencyMs: startedAt - enqueuedAt, startMs };
}
