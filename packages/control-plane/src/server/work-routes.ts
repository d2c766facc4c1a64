/**
 * The Work API endpoints of contract §5 and the enqueue extension of §6. Each route only checks
 * its input and calls the store; the store decides what the call means for the item.
 */
import type { FastifyReply } from 'fastify';
import { LIST_LIMITS, POLL_LIMITS } from '@envworker/core';
import { ApiError } from './api-error.js';
import type { AccessRule } from './auth.js';
import { enqueueWithSession, parseSessionSpec } from '../sessions/session-enqueue.js';
import type { MemorySessionStore } from '../sessions/session-store.js';
import type { PollGate } from './poll-gate.js';
import { addApiRoute, type RouteKit } from './route-context.js';
import {
  integerParameter,
  parseEnqueueBody,
  parseStopBody,
  parseUpdateBody,
  requireNoBody,
  stringParameter,
} from './validation.js';

const ENVIRONMENT_KEY_ONLY: AccessRule = { environmentKey: true, sessionsToken: false, admin: false };
const HOLDER: AccessRule = { environmentKey: true, sessionsToken: true, admin: false };
const HOLDER_OR_ADMIN: AccessRule = { environmentKey: true, sessionsToken: true, admin: true };
const OPERATOR: AccessRule = { environmentKey: true, sessionsToken: false, admin: true };
const ADMIN_ONLY: AccessRule = { environmentKey: false, sessionsToken: false, admin: true };

const WORK = '/v1/environments/:environmentId/work';
const ITEM = `${WORK}/:workId`;
const MAX_WORKER_ID_LENGTH = 256;

const pollQuery = {
  block_ms: integerParameter(1, POLL_LIMITS.maxBlockMs),
  reclaim_older_than_ms: integerParameter(1, Number.MAX_SAFE_INTEGER),
};
const heartbeatQuery = {
  expected_last_heartbeat: stringParameter(64),
  desired_ttl_seconds: integerParameter(1, Number.MAX_SAFE_INTEGER),
};
const listQuery = {
  limit: integerParameter(1, LIST_LIMITS.maxLimit),
  page: stringParameter(1024),
};

export function addWorkRoutes(kit: RouteKit, polls: PollGate, sessions: MemorySessionStore): void {
  const { store } = kit;

  addApiRoute(kit, {
    method: 'GET',
    url: `${WORK}/poll`,
    access: ENVIRONMENT_KEY_ONLY,
    query: pollQuery,
    handler: async ({ request, reply, query, environmentId }) => {
      const workerId = request.headers['anthropic-worker-id'];
      if (workerId !== undefined && (typeof workerId !== 'string' || workerId.length === 0 || workerId.length > MAX_WORKER_ID_LENGTH)) {
        throw ApiError.invalid(`anthropic-worker-id: must be one header of 1–${MAX_WORKER_ID_LENGTH} characters`);
      }
      const input = {
        ...(workerId === undefined ? {} : { workerId }),
        ...(query.reclaim_older_than_ms === undefined ? {} : { reclaimOlderThanMs: query.reclaim_older_than_ms }),
      };
      if (query.block_ms === undefined) return pollAnswer(reply, await store.poll(environmentId, input));

      const controller = polls.enter();
      // A client that hangs up while its poll waits must not be handed an item: nobody would ack it.
      const onClose = (): void => {
        if (!reply.raw.writableEnded) controller.abort();
      };
      reply.raw.on('close', onClose);
      try {
        const work = await store.poll(environmentId, { ...input, blockMs: query.block_ms, signal: controller.signal });
        return pollAnswer(reply, work);
      } finally {
        reply.raw.off('close', onClose);
        polls.leave(controller);
      }
    },
  });

  addApiRoute(kit, {
    method: 'GET',
    url: `${WORK}/stats`,
    access: OPERATOR,
    query: {},
    handler: async ({ environmentId }) => store.stats(environmentId),
  });

  addApiRoute(kit, {
    method: 'GET',
    url: WORK,
    access: OPERATOR,
    query: listQuery,
    handler: async ({ query, environmentId }) =>
      store.list(environmentId, {
        limit: query.limit ?? LIST_LIMITS.defaultLimit,
        ...(query.page === undefined ? {} : { page: query.page }),
      }),
  });

  addApiRoute(kit, {
    method: 'POST',
    url: WORK,
    access: ADMIN_ONLY,
    query: {},
    handler: async ({ request, reply, environmentId }) => {
      const { input, session } = parseEnqueueBody(request.body);
      const spec = session === undefined ? undefined : parseSessionSpec(session);
      const work = await enqueueWithSession(store, sessions, environmentId, input, spec);
      reply.code(201);
      return work;
    },
  });

  addApiRoute(kit, {
    method: 'GET',
    url: ITEM,
    access: HOLDER_OR_ADMIN,
    query: {},
    handler: async ({ environmentId, workId }) => store.get(environmentId, workId),
  });

  addApiRoute(kit, {
    method: 'POST',
    url: ITEM,
    access: OPERATOR,
    query: {},
    handler: async ({ request, environmentId, workId }) => store.update(environmentId, workId, parseUpdateBody(request.body)),
  });

  addApiRoute(kit, {
    method: 'POST',
    url: `${ITEM}/ack`,
    access: ENVIRONMENT_KEY_ONLY,
    query: {},
    handler: async ({ request, environmentId, workId }) => {
      requireNoBody(request.body, 'ack');
      return store.ack(environmentId, workId);
    },
  });

  addApiRoute(kit, {
    method: 'POST',
    url: `${ITEM}/heartbeat`,
    access: HOLDER,
    query: heartbeatQuery,
    handler: async ({ request, query, environmentId, workId }) => {
      requireNoBody(request.body, 'heartbeat');
      return store.heartbeat(environmentId, workId, {
        ...(query.expected_last_heartbeat === undefined ? {} : { expectedLastHeartbeat: query.expected_last_heartbeat }),
        ...(query.desired_ttl_seconds === undefined ? {} : { desiredTtlSeconds: query.desired_ttl_seconds }),
      });
    },
  });

  addApiRoute(kit, {
    method: 'POST',
    url: `${ITEM}/stop`,
    access: HOLDER_OR_ADMIN,
    query: {},
    handler: async ({ request, environmentId, workId }) => store.stop(environmentId, workId, parseStopBody(request.body)),
  });
}

/** A poll answers the item, or a JSON `null` (never an empty 204). */
function pollAnswer(reply: FastifyReply, work: unknown): unknown {
  if (work !== null) return work;
  reply.type('application/json; charset=utf-8');
  return 'null';
}
