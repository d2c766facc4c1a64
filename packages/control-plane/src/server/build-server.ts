/**
 * Assembles the HTTP server: fastify with our own body parsers, error envelope, request ids,
 * metrics, and the routes. Nothing here knows the semantics of a work item.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Clock } from '@envworker/core';
import { randomBase62, REQUEST_ID_PREFIX } from '../ids.js';
import type { WorkStore } from '../store/work-store.js';
import { ApiError } from './api-error.js';
import { adminKeyMatcher } from './auth.js';
import { addEnvironmentRoutes } from './environment-routes.js';
import { toErrorResponse, envelope } from './error-response.js';
import { ServerMetrics } from './metrics.js';
import { PollGate } from './poll-gate.js';
import { addProbeRoutes } from './probe-routes.js';
import { RateLimiter, type RateLimitOptions } from './rate-limiter.js';
import { addWorkRoutes } from './work-routes.js';
import { addSessionRoutes, OpenStreams } from '../sessions/session-routes.js';
import type { MemorySessionStore } from '../sessions/session-store.js';

/** Where and how much the server logs (pino, through fastify). Credentials headers are always redacted. */
export interface LoggerOptions {
  /** pino level; `info` logs every request. */
  readonly level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** Destination of the JSON log lines; standard output by default. */
  readonly stream?: { write(line: string): unknown };
}

export interface ServerOptions {
  readonly store: WorkStore;
  readonly adminKey: string;
  /** The clock of the rate limiter (the store has its own). */
  readonly clock: Clock;
  /** `false` or omitted: no logging. */
  readonly logger?: false | LoggerOptions;
  readonly maxWaitingPolls: number;
  readonly rateLimit?: RateLimitOptions;
  /** The session simulator's sessions. */
  readonly sessions: MemorySessionStore;
  /** The keep-alive interval of event streams; default 15 s. */
  readonly streamPingMs?: number;
}

/** A built server, not yet listening. */
export interface ControlPlaneServer {
  readonly app: FastifyInstance;
  /** Refuses new requests (503), answers every waiting long poll with `null` and ends every event stream now. */
  beginShutdown(): void;
}

const BODY_LIMIT_BYTES = 1024 * 1024;
const MAX_ID_LENGTH = 128;

export function buildServer(options: ServerOptions): ControlPlaneServer {
  const app = Fastify({
    logger: loggerConfig(options.logger),
    genReqId: () => REQUEST_ID_PREFIX + randomBase62(24),
    bodyLimit: BODY_LIMIT_BYTES,
    // A path id longer than any we issue is answered 404 by `frameworkErrors`.
    routerOptions: { maxParamLength: MAX_ID_LENGTH },
    return503OnClosing: false,
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      reply.header('request-id', request.id);
      sendError(request, reply, error);
    },
  });
  const metrics = new ServerMetrics();
  const polls = new PollGate(options.maxWaitingPolls, metrics.waitingPolls, () => metrics.shedPolls.inc());
  let shuttingDown = false;

  app.addHook('onRequest', async (request, reply) => {
    reply.header('request-id', request.id);
    if (shuttingDown) throw ApiError.shuttingDown();
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.observe(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000);
  });
  app.setErrorHandler((error, request, reply) => {
    sendError(request, reply, error);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '';
    reply.code(404).send(envelope('not_found_error', `no such endpoint: ${request.method} ${path.slice(0, 200)}`));
  });

  installBodyParsers(app);
  const kit = {
    app,
    store: options.store,
    isAdminKey: adminKeyMatcher(options.adminKey),
    rateLimiter: options.rateLimit === undefined ? undefined : new RateLimiter(options.rateLimit, options.clock),
  };
  addEnvironmentRoutes(kit);
  addWorkRoutes(kit, polls, options.sessions);
  const streams = new OpenStreams();
  addSessionRoutes(kit, { sessions: options.sessions, streams, ...(options.streamPingMs === undefined ? {} : { pingMs: options.streamPingMs }) });
  addProbeRoutes(app, options.store, metrics);

  return {
    app,
    beginShutdown: () => {
      shuttingDown = true;
      polls.abortAll();
      // An open stream would hold the server's close until its client hangs up.
      streams.endAll();
    },
  };
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): void {
  const response = toErrorResponse(error);
  if (response.unexpected) request.log.error({ err: error }, 'unexpected error while serving a request');
  reply.code(response.status).headers(response.headers).send(response.body);
}

/**
 * JSON is the only body type. An empty body of any type counts as no body (ack and heartbeat are
 * sent with none, and stop may be); a non-empty body must be `application/json`.
 */
function installBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim().length === 0) {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      // The parser's message quotes the body, which is not ours to echo.
      done(ApiError.invalid('body: malformed JSON'), undefined);
    }
  });
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    if (String(body).length === 0) done(null, undefined);
    else done(ApiError.invalid('content-type: must be application/json'), undefined);
  });
}

function loggerConfig(logger: false | LoggerOptions | undefined): false | Record<string, unknown> {
  if (logger === undefined || logger === false) return false;
  return {
    level: logger.level ?? 'info',
    ...(logger.stream === undefined ? {} : { stream: logger.stream }),
    redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]'], censor: '[redacted]' },
  };
}
