/**
 * Prometheus metrics of one server, in a registry of its own (two servers in one process, as in
 * tests, never share or clash). Served as text on `/metrics`.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class ServerMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'envworker_control_plane_requests_total',
    help: 'HTTP requests answered, by route template, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly duration = new Histogram({
    name: 'envworker_control_plane_request_duration_seconds',
    help: 'Time from receiving a request to the end of its answer, by route template and method (long polls included)',
    labelNames: ['route', 'method'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly waitingPolls = new Gauge({
    name: 'envworker_control_plane_waiting_polls',
    help: 'Long polls currently waiting for a work item',
    registers: [this.registry],
  });

  readonly shedPolls = new Counter({
    name: 'envworker_control_plane_shed_polls_total',
    help: 'Polls answered 529 because too many were already waiting',
    registers: [this.registry],
  });

  /** Records one answered request. */
  observe(route: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ route, method, status: String(status) });
    this.duration.observe({ route, method }, seconds);
  }
}
