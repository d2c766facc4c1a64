/**
 * The Sessions API endpoints a session runner calls, as the hosted API answers them, served by
 * the simulator: retrieve the session, list and stream its events, send events, fetch its agent's
 * skills; and the operator's transcript (local extension, admin key). Credentials: the sessions
 * token of the session's own work item, the environment key of its environment, or the admin
 * key; every call is counted in the session's transcript, refusals too.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MAX_EVENTS_PAGE } from '@envworker/core';
import { ApiError } from '../server/api-error.js';
import { authenticate, type Principal } from '../server/auth.js';
import type { RouteKit } from '../server/route-context.js';
import { integerParameter, parseQuery, stringParameter, type QueryParser } from '../server/validation.js';
import type { RequestKind, ScriptedSession, StoredEvent } from './scripted-session.js';
import { EventRejected } from './scripted-session.js';
import { parseSentEvents } from './sent-events.js';
import { skillArchive } from './skill-archive.js';
import type { MemorySessionStore } from './session-store.js';

const DEFAULT_PAGE = 20;
/** A keep-alive comment-free `ping` event this often, so idle proxies keep the stream open. */
const DEFAULT_PING_MS = 15_000;
const SESSION = '/v1/sessions/:sessionId';

const orderParameter: QueryParser<'asc' | 'desc'> = (text, name) => {
  if (text !== 'asc' && text !== 'desc') throw ApiError.invalid(`${name}: must be "asc" or "desc"`);
  return text;
};

/** The open event streams, so a shutdown can end them at once. */
export class OpenStreams {
  readonly #ends = new Set<() => void>();

  add(end: () => void): () => void {
    this.#ends.add(end);
    return () => this.#ends.delete(end);
  }

  endAll(): void {
    for (const end of [...this.#ends]) end();
  }
}

export interface SessionRouteOptions {
  readonly sessions: MemorySessionStore;
  readonly streams: OpenStreams;
  readonly pingMs?: number;
}

export function addSessionRoutes(kit: RouteKit, options: SessionRouteOptions): void {
  const { app } = kit;
  const { sessions, streams } = options;
  const pingMs = options.pingMs ?? DEFAULT_PING_MS;

  /** The session of the request, once its caller may act on it; counts the call as `kind` (the transcript's own calls are not counted). */
  async function sessionFor(request: FastifyRequest, kind: RequestKind | null, adminOnly = false): Promise<ScriptedSession> {
    const { sessionId } = request.params as { sessionId: string };
    let principal: Principal;
    try {
      principal = await authenticate(request.headers, kit.store, kit.isAdminKey);
    } catch (error) {
      const known = sessions.get(sessionId);
      if (known !== undefined) known.requests.refused += 1;
      throw error;
    }
    const session = sessions.get(sessionId);
    if (session === undefined) throw ApiError.notFound(`no session ${sessionId.slice(0, 128)}`);
    check(session, principal, adminOnly);
    if (kind !== null) session.requests[kind] += 1;
    return session;
  }

  function check(session: ScriptedSession, principal: Principal, adminOnly: boolean): void {
    const refuse = (error: ApiError): never => {
      session.requests.refused += 1;
      throw error;
    };
    if (principal.kind === 'admin') return;
    if (adminOnly) refuse(ApiError.permission('the transcript is an operator endpoint: send the admin key as x-api-key'));
    // A named fault: the session's bearer credentials are refused as if revoked.
    if (session.rejectAuth) refuse(ApiError.authentication('authorization: the credential was rejected (reject_auth)'));
    if (principal.environmentId !== session.environmentId) refuse(ApiError.permission('the credential belongs to another environment'));
    if (principal.kind === 'session' && principal.workId !== session.workId) refuse(ApiError.permission('the sessions token belongs to another work item'));
  }

  app.get(SESSION, async (request) => {
    parseQuery(request.query, {});
    return sessionObject(await sessionFor(request, 'retrieve'));
  });

  app.get(`${SESSION}/events`, async (request) => {
    const query = parseQuery(request.query, { limit: integerParameter(1, MAX_EVENTS_PAGE), page: stringParameter(256), order: orderParameter });
    const session = await sessionFor(request, 'events_list');
    return eventPage(session.events, query.limit ?? DEFAULT_PAGE, query.order ?? 'asc', query.page);
  });

  app.get(`${SESSION}/events/stream`, async (request, reply) => {
    parseQuery(request.query, {});
    const session = await sessionFor(request, 'events_stream');
    streamEvents(session, request, reply, streams, pingMs);
  });

  app.post(`${SESSION}/events`, async (request) => {
    parseQuery(request.query, {});
    const session = await sessionFor(request, 'events_send');
    const events = parseSentEvents(request.body);
    try {
      return { data: session.receive(events) };
    } catch (error) {
      if (error instanceof EventRejected) throw ApiError.invalid(error.message);
      throw error;
    }
  });

  app.get(`${SESSION}/transcript`, async (request) => {
    parseQuery(request.query, {});
    return (await sessionFor(request, null, true)).transcript();
  });

  /** The skill and its session, once the caller may read that session. */
  async function skillFor(request: FastifyRequest): Promise<NonNullable<ReturnType<MemorySessionStore['skill']>>> {
    const { skillId, version } = request.params as { skillId: string; version: string };
    const principal = await authenticate(request.headers, kit.store, kit.isAdminKey);
    const found = sessions.skill(skillId);
    if (found === undefined || (version !== 'latest' && version !== found.skill.versionId)) throw ApiError.notFound(`no skill version ${skillId.slice(0, 64)}/${version.slice(0, 64)}`);
    check(found.session, principal, false);
    found.session.requests.skills += 1;
    return found;
  }

  app.get('/v1/skills/:skillId/versions/:version', async (request) => {
    parseQuery(request.query, {});
    const { skill } = await skillFor(request);
    return { type: 'skill_version', id: skill.versionId, skill_id: skill.skillId, name: skill.name, description: skill.description ?? '', directory: skill.name, created_at: skill.createdAt };
  });

  app.get('/v1/skills/:skillId/versions/:version/content', async (request, reply) => {
    parseQuery(request.query, {});
    const { skill } = await skillFor(request);
    reply.type('application/octet-stream');
    return skillArchive(skill);
  });
}

/** The session object, with every field of the SDK's `BetaManagedAgentsSession`. */
function sessionObject(session: ScriptedSession): Record<string, unknown> {
  return {
    type: 'session',
    id: session.id,
    status: session.status,
    environment_id: session.environmentId,
    title: `scripted session of ${session.workId}`,
    agent: {
      type: 'agent',
      id: 'agent_scripted',
      name: 'scripted agent',
      description: 'the local control plane\'s scripted agent',
      model: { id: 'scripted', speed: 'standard' },
      system: null,
      version: 1,
      tools: [{ type: 'agent_toolset_20260401', default_config: { enabled: true, permission_policy: { type: 'always_allow' } }, configs: [] }],
      mcp_servers: [],
      skills: session.skills.map((skill) => ({ type: 'custom', skill_id: skill.skillId, version: skill.versionId })),
    },
    resources: [],
    metadata: {},
    vault_ids: [],
    stats: { active_seconds: 0, duration_seconds: 0 },
    usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    created_at: session.createdAt,
    updated_at: session.updatedAt,
    archived_at: null,
  };
}

/** One page of the history; the cursor is the index to go on from, so appends never shift a page. */
function eventPage(events: readonly StoredEvent[], limit: number, order: 'asc' | 'desc', page: string | undefined): { data: StoredEvent[]; next_page: string | null } {
  let start: number;
  if (page === undefined) start = order === 'asc' ? 0 : events.length - 1;
  else {
    const match = /^p(\d{1,9})$/.exec(Buffer.from(page, 'base64url').toString('utf8'));
    const index = match === null ? Number.NaN : Number(match[1]);
    if (!Number.isSafeInteger(index) || index > events.length) throw ApiError.invalid('page: not a cursor this endpoint issued');
    start = index;
  }
  const data: StoredEvent[] = [];
  let index = start;
  while (data.length < limit && index >= 0 && index < events.length) {
    data.push(events[index] as StoredEvent);
    index += order === 'asc' ? 1 : -1;
  }
  const more = order === 'asc' ? index < events.length : index >= 0;
  return { data, next_page: more ? Buffer.from(`p${index}`).toString('base64url') : null };
}

/** Server-sent events: every event appended from now on, `event: <type>`; ends after the session terminates. */
function streamEvents(session: ScriptedSession, request: FastifyRequest, reply: FastifyReply, streams: OpenStreams, pingMs: number): void {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'request-id': request.id });
  raw.flushHeaders();
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(ping);
    unsubscribe();
    forget();
    raw.end();
  };
  const write = (event: StoredEvent): void => {
    raw.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    if (event.type === 'session.status_terminated') end();
  };
  const unsubscribe = session.subscribe(write);
  const ping = setInterval(() => raw.write('event: ping\ndata: {"type":"ping"}\n\n'), pingMs);
  const forget = streams.add(end);
  raw.on('close', end);
  if (session.status === 'terminated') end();
}
