/**
 * What every route of the Work API shares: the store, the access rule check, and the query
 * parsing. A route declares which credentials it accepts and which query parameters it takes;
 * authentication runs in its `onRequest` hook, before the body is even read.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WorkStore } from '../store/work-store.js';
import { ApiError } from './api-error.js';
import { authenticate, authorize, principalId, type AccessRule, type Scope } from './auth.js';
import type { RateLimiter } from './rate-limiter.js';
import { parseQuery, type ParsedQuery, type QuerySpec } from './validation.js';

/** What a route's handler gets besides the request and reply. */
export interface RouteInput<S extends QuerySpec> {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly query: ParsedQuery<S>;
  /** The `{environmentId}` path parameter (empty for routes without one). */
  readonly environmentId: string;
  /** The `{workId}` path parameter (empty for routes without one). */
  readonly workId: string;
}

export interface RouteDefinition<S extends QuerySpec> {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly access: AccessRule;
  readonly query: S;
  /** Resolves the response body (the reply's status and headers may be set on `reply`). */
  readonly handler: (input: RouteInput<S>) => Promise<unknown>;
}

/** The shared parts routes are registered with. */
export interface RouteKit {
  readonly app: FastifyInstance;
  readonly store: WorkStore;
  readonly isAdminKey: (candidate: string) => boolean;
  readonly rateLimiter: RateLimiter | undefined;
}

/** Registers an authenticated Work API route. */
export function addApiRoute<S extends QuerySpec>(kit: RouteKit, definition: RouteDefinition<S>): void {
  kit.app.route({
    method: definition.method,
    url: definition.url,
    onRequest: async (request) => {
      const principal = await authenticate(request.headers, kit.store, kit.isAdminKey);
      authorize(principal, definition.access, scopeOf(request));
      if (kit.rateLimiter !== undefined) {
        const waitSeconds = kit.rateLimiter.take(principalId(principal));
        if (waitSeconds > 0) throw ApiError.rateLimited(waitSeconds);
      }
    },
    handler: async (request, reply) => {
      const scope = scopeOf(request);
      const query = parseQuery(request.query, definition.query);
      return definition.handler({
        request,
        reply,
        query,
        environmentId: scope.environmentId ?? '',
        workId: scope.workId ?? '',
      });
    },
  });
}

function scopeOf(request: FastifyRequest): Scope {
  const params = (request.params ?? {}) as { environmentId?: string; workId?: string };
  const scope: { environmentId?: string; workId?: string } = {};
  if (params.environmentId !== undefined) scope.environmentId = params.environmentId;
  if (params.workId !== undefined) scope.workId = params.workId;
  return scope;
}
