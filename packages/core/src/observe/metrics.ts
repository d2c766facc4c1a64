/**
 * Prometheus metrics of a worker, derived from its public face only: counters and the latency
 * histogram follow `events$`, the gauges read `status()` at each scrape. Every name starts with
 * `envworker_`; a host serves the registry wherever it likes (the CLI serves it on `/metrics`).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import type { WorkerEvent } from '../actors/worker-events.js';
import { WORK_ITEM_OUTCOMES } from '../actors/work-item-outcome.js';
import type { LeaseLostReason } from '../lease/lease-events.js';
import type { Worker } from '../worker/create-worker.js';

/** The metrics of one worker, registered in the registry given to {@link workerMetrics}. */
export interface WorkerMetrics {
  /** Stops following the worker's events (the metrics stay registered with their last values). */
  stop(): void;
}

/** What `workerMetrics` reads of a worker. */
export type MeteredWorker = Pick<Worker, 'events$' | 'status'>;

const LEASE_LOST_REASONS: readonly LeaseLostReason[] = ['precondition', 'stale', 'fatal'];
const POLL_RESULTS = ['work', 'empty', 'error'] as const;

/**
 * Bounds of the heartbeat latency and lateness histograms, in seconds: a loopback beat takes about
 * a millisecond, a slow one seconds; a beat on time is under a millisecond late, one of an
 * overloaded worker hundreds of milliseconds.
 */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Registers the worker metrics in `registry` and keeps them up to date until the worker's events
 * complete (or `stop()`):
 *
 * | name | type | labels | |
 * |---|---|---|---|
 * | `envworker_items_claimed_total` | counter | | items claimed by a poll |
 * | `envworker_items_running` | gauge | | items held now (claimed, not yet stopped) |
 * | `envworker_items_completed_total` | counter | `outcome` | items ended, by outcome (`completed`, `failed`, `shutdown`, …) |
 * | `envworker_free_slots` | gauge | | slots neither held by an item nor by a poll in flight |
 * | `envworker_heartbeat_latency_seconds` | histogram | | send-to-answer time of each successful heartbeat |
 * | `envworker_heartbeat_lateness_seconds` | histogram | | how long after its due time each successful heartbeat was sent |
 * | `envworker_leases_lost_total` | counter | `reason` | leases lost: `precondition` (412), `stale`, `fatal` |
 * | `envworker_poll_results_total` | counter | `result` | polls by result: `work`, `empty`, `error` |
 * | `envworker_poll_errors_total` | counter | `status` | failed polls by HTTP status (`none`: no answer) |
 *
 * The lateness histogram is the early warning of an overloaded worker: its beats go out late
 * (timers and answers wait on a busy event loop) well before a lease is lost.
 *
 * Every label value a metric can take is present from the start, at 0. Registering a second
 * worker in the same registry throws (the names clash): give each worker its own registry.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * const registry = new Registry();
 * workerMetrics(worker, registry);
 * await worker.start();
 * // later, in an HTTP handler:
 * response.end(await registry.metrics());
 * ```
 */
export function workerMetrics(worker: MeteredWorker, registry: Registry): WorkerMetrics {
  const registers = [registry];
  const claimed = new Counter({ name: 'envworker_items_claimed_total', help: 'Work items claimed by a poll', registers });
  new Gauge({
    name: 'envworker_items_running',
    help: 'Work items the worker holds now (claimed and not yet stopped)',
    registers,
    collect() {
      this.set(worker.status().slots.busy);
    },
  });
  const completed = new Counter({
    name: 'envworker_items_completed_total',
    help: 'Work items that ended, by outcome',
    labelNames: ['outcome'] as const,
    registers,
  });
  new Gauge({
    name: 'envworker_free_slots',
    help: 'Slots held neither by an item nor by a poll in flight',
    registers,
    collect() {
      this.set(worker.status().slots.free);
    },
  });
  const heartbeatLatency = new Histogram({
    name: 'envworker_heartbeat_latency_seconds',
    help: 'Time from sending a heartbeat to its successful answer',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const heartbeatLateness = new Histogram({
    name: 'envworker_heartbeat_lateness_seconds',
    help: 'How long after its due time each successful heartbeat was sent; an overloaded worker shows late beats before it loses leases',
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const leasesLost = new Counter({
    name: 'envworker_leases_lost_total',
    help: 'Leases lost, by reason: precondition (412), stale (no good beat for a TTL), fatal (a 4xx)',
    labelNames: ['reason'] as const,
    registers,
  });
  const pollResults = new Counter({
    name: 'envworker_poll_results_total',
    help: 'Polls by result: work (an item claimed), empty, error',
    labelNames: ['result'] as const,
    registers,
  });
  const pollErrors = new Counter({
    name: 'envworker_poll_errors_total',
    help: 'Failed polls by HTTP status; none when no answer came',
    labelNames: ['status'] as const,
    registers,
  });
  // Zero series from the start, so that rate() and absence alerts work before the first event.
  for (const outcome of WORK_ITEM_OUTCOMES) completed.inc({ outcome }, 0);
  for (const reason of LEASE_LOST_REASONS) leasesLost.inc({ reason }, 0);
  for (const result of POLL_RESULTS) pollResults.inc({ result }, 0);

  const onEvent = (event: WorkerEvent): void => {
    switch (event.type) {
      case 'claimed':
        claimed.inc();
        pollResults.inc({ result: 'work' });
        return;
      case 'poll_empty':
        pollResults.inc({ result: 'empty' });
        return;
      case 'poll_error':
        pollResults.inc({ result: 'error' });
        pollErrors.inc({ status: event.status === null ? 'none' : String(event.status) });
        return;
      case 'lease_renewed':
        heartbeatLatency.observe(event.latency_ms / 1000);
        heartbeatLateness.observe(event.late_ms / 1000);
        return;
      case 'lease_lost':
        leasesLost.inc({ reason: event.reason });
        return;
      case 'stopped':
        completed.inc({ outcome: event.outcome });
        return;
      default:
        return;
    }
  };
  const subscription: Subscription = worker.events$.subscribe({ next: onEvent });
  return { stop: () => subscription.unsubscribe() };
}
