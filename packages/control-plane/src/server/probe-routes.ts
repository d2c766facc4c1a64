/**
 * Unauthenticated probes for orchestrators: `/healthz` (the process serves HTTP), `/readyz` (the
 * store answers) and `/metrics` (Prometheus text).
 */
import type { FastifyInstance } from 'fastify';
import type { WorkStore } from '../store/work-store.js';
import { envelope } from './error-response.js';
import type { ServerMetrics } from './metrics.js';
import { parseQuery } from './validation.js';

export function addProbeRoutes(app: FastifyInstance, store: WorkStore, metrics: ServerMetrics): void {
  app.get('/healthz', async (request) => {
    parseQuery(request.query, {});
    return { status: 'ok' };
  });

  app.get('/readyz', async (request, reply) => {
    parseQuery(request.query, {});
    try {
      await store.ping();
      return { status: 'ok' };
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check: the work store did not answer');
      reply.code(503);
      return envelope('api_error', 'the work store is not reachable');
    }
  });

  app.get('/metrics', async (request, reply) => {
    parseQuery(request.query, {});
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
