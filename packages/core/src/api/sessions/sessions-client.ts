/**
 * `SessionsClient`: the Sessions API calls a worker makes to serve a session (retrieve it, list
 * and stream its events, send tool results, fetch its agent's skills), plus the local control
 * plane's transcript of a scripted session. Same transport, headers, retries and answer checks as
 * `WorkClient`; the credential is the item's sessions token (or the environment key where the
 * item has none), given once or per call.
 */
import { Agent, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { resolveClientOptions, type CallOptions, type ClientConfig, type WorkClientOptions } from '../client-options.js';
import { checkCallOptions } from '../client-options.js';
import { INVALID_RESPONSE, WorkApiError } from '../errors.js';
import { ANTHROPIC_VERSION } from '../headers.js';
import { paginate } from '../pagination.js';
import { errorFromResponse, readSuccess } from '../response.js';
import { withRetries } from '../retry-loop.js';
import { firstHeader, openStream, sendOnce, sendOnceForBytes, type AttemptContext, type HttpRequest } from '../transport.js';
import { requireHeaderToken, requireInteger, requirePlainObject, requireString } from '../validate.js';
import { SessionTranscriptSchema, type SessionTranscript } from './session-script.js';
import {
  MAX_EVENTS_PAGE,
  SentEventsSchema,
  SessionEventsPageSchema,
  SessionSchema,
  SkillVersionSchema,
  type SentEvents,
  type Session,
  type SessionEvent,
  type SessionEventsPage,
  type SkillVersion,
} from './session-wire.js';
import { sseSessionEvents, type StreamedEvent } from './sse-events.js';

/** Options of a {@link SessionsClient}: those of `WorkClient` but the environment's, plus a default credential. */
export interface SessionsClientOptions extends Omit<WorkClientOptions, 'environmentId' | 'environmentKey'> {
  /** The bearer credential of every call that is not given its own: a sessions token or an environment key. */
  credential?: string | undefined;
}

/** Parameters of {@link SessionsClient.listEvents}. */
export interface ListEventsParams {
  /** 1–1000; default: the server's. */
  limit?: number | undefined;
  /** A `next_page` cursor. */
  page?: string | undefined;
  order?: 'asc' | 'desc' | undefined;
}

/** An open event stream: the events as they arrive, and a way to end it. */
export interface SessionEventStream {
  /** The events in order; iteration ends when the server ends the stream, throws a `WorkApiError` when it breaks. */
  readonly events: AsyncIterable<StreamedEvent>;
  /** Ends the stream and frees its connection (also after iteration ended). */
  close(): void;
}

/** The largest skill archive a download accepts. */
export const MAX_SKILL_ARCHIVE_BYTES = 64 * 1024 * 1024;

/**
 * A client of the Sessions API.
 *
 * Every method rejects with a `WorkApiError` when the call fails (the server's error answer, an
 * answer that breaks the wire schema, no answer, or an abort); bad parameters throw before any I/O.
 *
 * @example
 * ```ts
 * const sessions = new SessionsClient({ baseUrl: process.env.ANTHROPIC_BASE_URL!, credential: sessionsToken });
 * const session = await sessions.retrieve(work.data.id);
 * const stream = await sessions.streamEvents(session.id);
 * for await (const event of stream.events) console.log(event);
 * await sessions.close();
 * ```
 */
export class SessionsClient {
  readonly #config: ClientConfig;
  readonly #credential: string | null;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  #closed = false;

  constructor(options: SessionsClientOptions) {
    requirePlainObject(options, 'SessionsClient options');
    const { credential, ...rest } = options;
    this.#credential = credential === undefined ? null : requireHeaderToken(credential, 'credential');
    this.#config = resolveClientOptions(rest);
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? new Agent({ connections: this.#config.maxConnections });
  }

  /** `GET /v1/sessions/{id}`. */
  retrieve(sessionId: string, options: CallOptions = {}): Promise<Session> {
    return this.#call(options, { operation: 'sessions.retrieve', method: 'GET', path: sessionPath(sessionId), schema: SessionSchema });
  }

  /** One page of the session's events, oldest first unless `order: 'desc'`. */
  listEvents(sessionId: string, params: ListEventsParams = {}, options: CallOptions = {}): Promise<SessionEventsPage> {
    requirePlainObject(params, 'listEvents params');
    const query = new URLSearchParams();
    if (params.limit !== undefined) query.set('limit', String(requireInteger(params.limit, 'limit', 1, MAX_EVENTS_PAGE)));
    if (params.page !== undefined) query.set('page', requireString(params.page, 'page'));
    if (params.order !== undefined) {
      if (params.order !== 'asc' && params.order !== 'desc') throw new TypeError("order must be 'asc' or 'desc'");
      query.set('order', params.order);
    }
    return this.#call(options, {
      operation: 'sessions.events.list',
      method: 'GET',
      path: `${sessionPath(sessionId)}/events`,
      query,
      schema: SessionEventsPageSchema,
    });
  }

  /** Every event of the session, oldest first, page after page as they are consumed. */
  listAllEvents(sessionId: string, params: { limit?: number } = {}, options: CallOptions = {}): AsyncIterable<SessionEvent> {
    return paginate('sessions.events.list', async (page) => {
      const result = await this.listEvents(sessionId, { limit: params.limit, page }, options);
      return { items: result.data, next: result.next_page ?? null };
    });
  }

  /**
   * Opens the session's live event stream (`GET /v1/sessions/{id}/events/stream`). Connecting is
   * retried like any call; once open, the stream has no timeout: end it with `options.signal` or
   * `close()`.
   */
  async streamEvents(sessionId: string, options: CallOptions = {}): Promise<SessionEventStream> {
    const operation = 'sessions.events.stream';
    const request = this.#request(operation, options, 'GET', `${sessionPath(sessionId)}/events/stream`, undefined, { accept: 'text/event-stream' });
    const context = this.#attempt(operation, options);
    const response = await this.#retrying(operation, options, async () => {
      const opened = await openStream(request, context);
      if (opened.status < 200 || opened.status > 299) {
        const text = await opened.text().catch(() => '');
        throw errorFromResponse(operation, { status: opened.status, headers: opened.headers, text }, this.#config.clock.now());
      }
      const contentType = firstHeader(opened.headers, 'content-type') ?? '';
      if (!/^text\/event-stream\b/i.test(contentType)) {
        opened.close();
        throw new WorkApiError({
          operation,
          status: opened.status,
          type: INVALID_RESPONSE,
          message: `response of ${operation}: expected content-type text/event-stream, got ${contentType === '' ? 'none' : contentType.slice(0, 100)}`,
          requestId: firstHeader(opened.headers, 'request-id'),
        });
      }
      return opened;
    });
    return { events: sseSessionEvents(operation, response.body), close: () => response.close() };
  }

  /** `POST /v1/sessions/{id}/events`: sends user events (tool results, confirmations, messages). */
  sendEvents(sessionId: string, events: readonly unknown[], options: CallOptions = {}): Promise<SentEvents> {
    if (!Array.isArray(events) || events.length === 0) throw new TypeError('events must be a non-empty array');
    return this.#call(options, {
      operation: 'sessions.events.send',
      method: 'POST',
      path: `${sessionPath(sessionId)}/events`,
      body: JSON.stringify({ events }),
      schema: SentEventsSchema,
    });
  }

  /** `GET /v1/skills/{skill_id}/versions/{version}` (`version` may be `latest`). */
  retrieveSkillVersion(skillId: string, version: string, options: CallOptions = {}): Promise<SkillVersion> {
    return this.#call(options, {
      operation: 'skills.versions.retrieve',
      method: 'GET',
      path: `/v1/skills/${segment(skillId, 'skillId')}/versions/${segment(version, 'version')}`,
      schema: SkillVersionSchema,
    });
  }

  /** The archive of a skill version (`…/content`), as bytes; at most {@link MAX_SKILL_ARCHIVE_BYTES}. */
  async downloadSkillVersion(skillId: string, versionId: string, options: CallOptions = {}): Promise<Buffer> {
    const operation = 'skills.versions.download';
    const path = `/v1/skills/${segment(skillId, 'skillId')}/versions/${segment(versionId, 'versionId')}/content`;
    const request = this.#request(operation, options, 'GET', path, undefined, { accept: 'application/binary' });
    const context = this.#attempt(operation, options);
    return this.#retrying(operation, options, async () => {
      const response = await sendOnceForBytes(request, context, MAX_SKILL_ARCHIVE_BYTES);
      if (response.status >= 200 && response.status <= 299) return response.bytes;
      throw errorFromResponse(operation, { status: response.status, headers: response.headers, text: response.bytes.toString('utf8') }, this.#config.clock.now());
    });
  }

  /** Local control plane only: the transcript of a scripted session (its calls and the results it got). Needs `apiKey`. */
  transcript(sessionId: string, options: CallOptions = {}): Promise<SessionTranscript> {
    return this.#call(options, {
      operation: 'sessions.transcript',
      method: 'GET',
      path: `${sessionPath(sessionId)}/transcript`,
      schema: SessionTranscriptSchema,
      admin: true,
    });
  }

  /** Closes the client's own agent (not a dispatcher passed in); later calls fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  async #call<S extends z.ZodType>(
    options: CallOptions,
    spec: { operation: string; method: 'GET' | 'POST'; path: string; query?: URLSearchParams; body?: string; schema: S; admin?: boolean },
  ): Promise<z.output<S>> {
    const search = spec.query?.toString() ?? '';
    const request = this.#request(spec.operation, options, spec.method, `${spec.path}${search === '' ? '' : `?${search}`}`, spec.body, {}, spec.admin);
    const context = this.#attempt(spec.operation, options);
    return this.#retrying(spec.operation, options, async () => {
      const response = await sendOnce(request, context);
      if (response.status >= 200 && response.status <= 299) return readSuccess(spec.operation, response, spec.schema);
      throw errorFromResponse(spec.operation, response, this.#config.clock.now());
    });
  }

  #retrying<T>(operation: string, options: CallOptions, attempt: () => Promise<T>): Promise<T> {
    const config = this.#config;
    return withRetries(attempt, {
      operation,
      policy: { ...config.retry, maxRetries: options.maxRetries ?? config.retry.maxRetries },
      clock: config.clock,
      random: config.random,
      signal: options.signal,
      mayRetry: (err) => err.isTransient(),
    });
  }

  #attempt(operation: string, options: CallOptions): AttemptContext {
    return {
      operation,
      dispatcher: this.#dispatcher,
      origin: this.#config.origin,
      clock: this.#config.clock,
      timeoutMs: options.timeoutMs ?? this.#config.timeoutMs,
      signal: options.signal,
    };
  }

  #request(
    operation: string,
    options: CallOptions,
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    extraHeaders: Readonly<Record<string, string>>,
    admin = false,
  ): HttpRequest {
    checkCallOptions(options);
    if (this.#closed) throw new Error(`SessionsClient.${operation}: the client is closed`);
    const config = this.#config;
    const headers: Record<string, string> = {
      'anthropic-version': ANTHROPIC_VERSION,
      'anthropic-beta': config.betaHeader,
      'user-agent': config.userAgent,
      ...this.#auth(operation, options, admin),
      ...extraHeaders,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const fullPath = `${config.pathPrefix}${path}`;
    return body === undefined ? { method, path: fullPath, headers } : { method, path: fullPath, headers, body };
  }

  /** The call's own credential, else the client's, as a bearer; the admin endpoint takes `x-api-key`. */
  #auth(operation: string, options: CallOptions, admin: boolean): Record<string, string> {
    if (admin) {
      if (this.#config.apiKey === null) throw new Error(`SessionsClient.${operation} needs the admin key: set options.apiKey`);
      return { 'x-api-key': this.#config.apiKey };
    }
    const bearer = options.credential ?? this.#credential;
    if (bearer !== null) return { authorization: `Bearer ${bearer}` };
    if (this.#config.apiKey !== null) return { 'x-api-key': this.#config.apiKey };
    throw new Error(`SessionsClient.${operation} needs a credential: set options.credential (the sessions token) or pass callOptions.credential`);
  }
}

function sessionPath(sessionId: string): string {
  return `/v1/sessions/${segment(sessionId, 'sessionId')}`;
}

function segment(value: string, name: string): string {
  return encodeURIComponent(requireString(value, name));
}
