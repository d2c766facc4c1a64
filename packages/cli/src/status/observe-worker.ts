/**
 * What `poll` watches a worker with: core's worker metrics and the health rule, both fed by the
 * worker's events, in one registry with the client's `envworker_api_errors_total`.
 */
import { systemClock, workerMetrics, type Worker } from '@envworker/core';
import type { Registry } from 'prom-client';
import type { ControlPlaneWatch } from '../worker/control-plane-watch.js';
import { assessHealth, HealthTracker, type HealthReport } from './health.js';

/** A worker being watched. */
export interface WorkerObservation {
  /** The health rule applied now. */
  health(): HealthReport;
  /** Stops following the worker's events. */
  stop(): void;
}

/** What the health rule needs to know of the worker's settings. */
export interface ObservationSettings {
  /** The lease TTL the worker asks for, if any. */
  readonly leaseTtlSeconds: number | undefined;
  /** The longest pause after an empty poll. */
  readonly pollIdleMaxMs: number;
}

/**
 * Registers the worker metrics in `registry` and starts the health tracker. Call it before
 * `worker.start()`, so that no event is missed.
 */
export function observeWorker(worker: Worker, watch: ControlPlaneWatch, registry: Registry, settings: ObservationSettings): WorkerObservation {
  const metrics = workerMetrics(worker, registry);
  const tracker = new HealthTracker(worker.events$, systemClock.now(), settings.leaseTtlSeconds, settings.pollIdleMaxMs);
  return {
    health: () => assessHealth(tracker.facts(worker.status(), watch.lastAnswerAt, systemClock.now())),
    stop() {
      metrics.stop();
      tracker.stop();
    },
  };
}
