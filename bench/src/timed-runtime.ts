/**
 * A runtime's start cost: a `SandboxRuntime` that hands every call to the real runtime it wraps
 * and notes how long each `start()` took, from the call to its sandbox running (what a worker
 * waits for between its first heartbeat and its `started` event).
 */
import { performance } from 'node:perf_hooks';
import type { SandboxRuntime } from '@envworker/core';

export interface TimedRuntime extends SandboxRuntime {
  /** Milliseconds the `start()` of this item's sandbox took; `undefined` before it resolved. */
  startMs(workId: string): number | undefined;
}

/** Wraps `inner`, timing each `start()` that resolves. */
export function timedRuntime(inner: SandboxRuntime): TimedRuntime {
  const took = new Map<string, number>();
  const runtime: TimedRuntime = {
    name: inner.name,
    async start(spec, signal) {
      const calledAt = performance.now();
      const sandbox = await inner.start(spec, signal);
      took.set(spec.work.id, performance.now() - calledAt);
      return sandbox;
    },
    startMs: (workId) => took.get(workId),
  };
  const { prepare, reap } = inner;
  return {
    ...runtime,
    ...(prepare === undefined ? {} : { prepare: () => prepare.call(inner) }),
    ...(reap === undefined ? {} : { reap: (workerId: string) => reap.call(inner, workerId) }),
  };
}
