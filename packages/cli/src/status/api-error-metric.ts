/**
 * `envworker_api_errors_total`: every Work API call of the worker that failed, after the client's
 * own retries, by operation and HTTP status (`none` when no answer came). It covers what the
 * worker's events do not show, such as a heartbeat answered 503.
 */
import { Counter, type Registry } from 'prom-client';

/** Registers the counter; returns the function that counts one failure. */
export function apiErrorMetric(registry: Registry): (operation: string, status: number | null) => void {
  const errors = new Counter({
    name: 'envworker_api_errors_total',
    help: 'Work API calls of the worker that failed after retries, by operation and HTTP status (none: no answer)',
    labelNames: ['operation', 'status'] as const,
    registers: [registry],
  });
  return (operation, status) => errors.inc({ operation, status: status === null ? 'none' : String(status) });
}
