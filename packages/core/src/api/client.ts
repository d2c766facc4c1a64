/**
 * `WorkClient`: the Work API over undici (contract §1, §2, §5), plus the local control plane's
 * extensions (§6). Each call picks its credential, runs under a timeout on the injected clock,
 * retries transient failures with backoff, and validates the answer against its wire schema.
 */
import { Agent, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { authHeaders, type CredentialRule } from './auth.js';
import {
  checkWorkId,
  createEnvironmentBody,
  enqueueBody,
  heartbeatQuery,
  listQuery,
  pollQuery,
  stopBody,
  updateBody,
  type CreateEnvironmentParams,
  type EnqueueParams,
  type HeartbeatParams,
  type ListAllParams,
  type ListParams,
  type PollParams,
  type StopParams,
} from './call-params.js';
import { checkCallOptions, resolveClientOptions, type CallOptions, type ClientConfig, type WorkClientOptions } from './client-options.js';
import { EnvironmentSchema, type Environment } from './environment.js';
import type { WorkApiError } from './errors.js';
import { ANTHROPIC_VERSION } from './headers.js';
import { paginate } from './pagination.js';
import { errorFromResponse, readSuccess } from './response.js';
import { withRetries } from './retry-loop.js';
import { sendOnce, type HttpRequest } from './transport.js';
import { requireInteger } from './validate.js';
import {
  HeartbeatResponseSchema,
  LIST_LIMITS,
  PollResponseSchema,
  WorkListPageSchema,
  WorkQueueStatsSchema,
  WorkSchema,
  type HeartbeatResponse,
  type MetadataPatch,
  type Work,
  type WorkListPage,
  type WorkQueueStats,
} from './wire.js';

/** What one call sends and expects. */
interface CallSpec<S extends z.ZodType> {
  readonly operation: string;
  readonly method: 'GET' | 'POST';
  /** Path below the base URL, already encoded. */
  readonly path: string;
  readonly query?: URLSearchParams;
  /** A JSON body; a POST without one is sent empty (`content-length: 0`, no content type). */
  readonly body?: string;
  readonly rule: CredentialRule;
  readonly schema: S;
  readonly headers?: Readonly<Record<string, string>>;
  /** Added to the attempt timeout (a long poll's `blockMs`). */
  readonly extraTimeoutMs?: number;
  /** Which failures may be retried; default: the transient ones. */
  readonly mayRetry?: (err: WorkApiError) => boolean;
}

/**
 * A poll is retried only when the server provably did not hand out an item for it: the
 * connection was never opened, or the server shed the load (429, 529). After any other failure
 * an item may have been delivered to this poll, and polling again at once would take a second.
 */
function pollMayRetry(err: WorkApiError): boolean {
  return err.isTransient() && (err.requestNotSent || err.status === 429 || err.status === 529);
}

const isTransientError = (err: WorkApiError): boolean => err.isTransient();

/**
 * A client of the Work API of one environment.
 *
 * Every method rejects with a {@link WorkApiError} when the call fails: the server's error
 * answer, an answer that breaks the contract (`invalid_response`), no answer (`connection_error`,
 * `timeout_error`), or an abort through `CallOptions.signal` (`aborted`, never retried). Input
 * errors (a bad parameter, a missing credential, a closed client) reject instead with a
 * `TypeError`, `RangeError` or `Error` naming the field, before any I/O.
 *
 * @example
 * ```ts
 * const client = new WorkClient({
 *   baseUrl: 'http://127.0.0.1:8080',
 *   environmentId: 'env_0123456789abcdefghijklmn',
 *   environmentKey: process.env.ANTHROPIC_ENVIRONMENT_KEY,
 * });
 * const work = await client.poll({ workerId: `${hostname()}-${randomUUID()}`, blockMs: 900 });
 * if (work) {
 *   await client.ack(work.id);
 *   const { secret } = decodeWorkSecret(work.secret);
 *   const beat = await client.heartbeat(
 *     work.id,
 *     { expectedLastHeartbeat: NO_HEARTBEAT },
 *     { credential: secret?.sessions_token },
 *   );
 * }
 * await client.close();
 * ```
 */
export class WorkClient {
  readonly #config: ClientConfig;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  #closed = false;

  constructor(options: WorkClientOptions) {
    this.#config = resolveClientOptions(options);
    this.#ownsDispatcher = options.dispatcher === undefined;
    // One keep-alive agent per client: it keeps a connection pool per origin.
    this.#dispatcher = options.dispatcher ?? new Agent({ connections: this.#config.maxConnections });
  }

  /**
   * Claims the next deliverable work item, waiting up to `blockMs` for one; `null` when none
   * came. The answer carries the item's `secret`. Authenticates with the environment key.
   */
  poll(params: PollParams, options: CallOptions = {}): Promise<Work | null> {
    return this.#run(options, () => {
      const { workerId, query, blockMs } = pollQuery(params);
      return {
        operation: 'poll',
        method: 'GET',
        path: this.#workPath('poll', ['poll']),
        query,
        rule: 'environment',
        schema: PollResponseSchema,
        headers: { 'anthropic-worker-id': workerId },
        extraTimeoutMs: blockMs,
        mayRetry: pollMayRetry,
      };
    });
  }

  /** Reads one work item (its `secret` is always `null` here). */
  get(workId: string, options: CallOptions = {}): Promise<Work> {
    return this.#run(options, () => ({
      operation: 'get',
      method: 'GET',
      path: this.#workPath('get', [checkWorkId(workId)]),
      rule: 'operator',
      schema: WorkSchema,
    }));
  }

  /** Acknowledges a polled item (`queued` → `starting`); repeating it on `starting`/`active` is harmless. */
  ack(workId: string, options: CallOptions = {}): Promise<Work> {
    return this.#run(options, () => ({
      operation: 'ack',
      method: 'POST',
      path: this.#workPath('ack', [checkWorkId(workId), 'ack']),
      rule: 'environment',
      schema: WorkSchema,
    }));
  }

  /**
   * Renews the item's lease. Pass the item's sessions token as `options.credential` when it has
   * one. A failed precondition rejects with a 412 whose `currentState` is the server's lease.
   */
  heartbeat(workId: string, params: HeartbeatParams = {}, options: CallOptions = {}): Promise<HeartbeatResponse> {
    return this.#run(options, () => ({
      operation: 'heartbeat',
      method: 'POST',
      path: this.#workPath('heartbeat', [checkWorkId(workId), 'heartbeat']),
      query: heartbeatQuery(params),
      rule: 'lease',
      schema: HeartbeatResponseSchema,
    }));
  }

  /** Stops an item (contract §4); a 409 means it was already stopped. */
  stop(workId: string, params: StopParams = {}, options: CallOptions = {}): Promise<Work> {
    return this.#run(options, () => ({
      operation: 'stop',
      method: 'POST',
      path: this.#workPath('stop', [checkWorkId(workId), 'stop']),
      body: stopBody(params),
      rule: 'operator',
      schema: WorkSchema,
    }));
  }

  /** One page of the environment's items, newest first. */
  list(params: ListParams = {}, options: CallOptions = {}): Promise<WorkListPage> {
    return this.#run(options, () => ({
      operation: 'list',
      method: 'GET',
      path: this.#workPath('list', []),
      query: listQuery(params),
      rule: 'operator',
      schema: WorkListPageSchema,
    }));
  }

  /**
   * Every item of the environment, newest first, fetching page after page as it is consumed.
   * The iteration rejects with an `invalid_response` error if the server ever repeats a cursor;
   * a bad `limit` or call option throws at once.
   */
  listAll(params: ListAllParams = {}, options: CallOptions = {}): AsyncIterable<Work> {
    const limit = params.limit === undefined ? undefined : requireInteger(params.limit, 'limit', 1, LIST_LIMITS.maxLimit);
    checkCallOptions(options);
    return paginate('list', async (page) => {
      const result = await this.list({ limit, page }, options);
      return { items: result.data, next: result.next_page };
    });
  }

  /** Merges a metadata patch into an item: a string upserts a key, `null` deletes it. */
  update(workId: string, patch: MetadataPatch, options: CallOptions = {}): Promise<Work> {
    return this.#run(options, () => ({
      operation: 'update',
      method: 'POST',
      path: this.#workPath('update', [checkWorkId(workId)]),
      body: updateBody(patch),
      rule: 'operator',
      schema: WorkSchema,
    }));
  }

  /** Queue statistics of the environment. */
  stats(options: CallOptions = {}): Promise<WorkQueueStats> {
    return this.#run(options, () => ({
      operation: 'stats',
      method: 'GET',
      path: this.#workPath('stats', ['stats']),
      rule: 'operator',
      schema: WorkQueueStatsSchema,
    }));
  }

  /** Local control plane only (contract §6): queues a new item. Needs `apiKey` (the admin key). */
  enqueue(params: EnqueueParams = {}, options: CallOptions = {}): Promise<Work> {
    return this.#run(options, () => ({
      operation: 'enqueue',
      method: 'POST',
      path: this.#workPath('enqueue', []),
      body: enqueueBody(params),
      rule: 'admin',
      schema: WorkSchema,
    }));
  }

  /**
   * Local control plane only (contract §6): creates an environment and returns it with its new
   * `environment_key`, which is shown only here. Needs `apiKey`; `environmentId` is not needed.
   */
  createEnvironment(params: CreateEnvironmentParams, options: CallOptions = {}): Promise<Environment> {
    return this.#run(options, () => ({
      operation: 'createEnvironment',
      method: 'POST',
      path: '/v1/environments',
      body: createEnvironmentBody(params),
      rule: 'admin',
      schema: EnvironmentSchema,
    }));
  }

  /** Closes the client's own agent (not a dispatcher the caller passed in); later calls fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  /** Checks the call, builds its spec (which checks its parameters), then runs it. */
  async #run<S extends z.ZodType>(options: CallOptions, build: () => CallSpec<S>): Promise<z.output<S>> {
    checkCallOptions(options);
    const spec = build();
    if (this.#closed) throw new Error(`WorkClient.${spec.operation}: the client is closed`);
    const config = this.#config;
    const request = this.#request(spec, options);
    const attemptContext = {
      operation: spec.operation,
      dispatcher: this.#dispatcher,
      origin: config.origin,
      clock: config.clock,
      timeoutMs: (options.timeoutMs ?? config.timeoutMs) + (spec.extraTimeoutMs ?? 0),
      signal: options.signal,
    };
    return withRetries(
      async () => {
        const response = await sendOnce(request, attemptContext);
        if (response.status >= 200 && response.status <= 299) return readSuccess(spec.operation, response, spec.schema);
        throw errorFromResponse(spec.operation, response, config.clock.now());
      },
      {
        operation: spec.operation,
        policy: { ...config.retry, maxRetries: options.maxRetries ?? config.retry.maxRetries },
        clock: config.clock,
        random: config.random,
        signal: options.signal,
        mayRetry: spec.mayRetry ?? isTransientError,
      },
    );
  }

  #request<S extends z.ZodType>(spec: CallSpec<S>, options: CallOptions): HttpRequest {
    const config = this.#config;
    const headers: Record<string, string> = {
      'anthropic-version': ANTHROPIC_VERSION,
      'anthropic-beta': config.betaHeader,
      'user-agent': config.userAgent,
      ...authHeaders(spec.operation, spec.rule, config, options.credential),
      ...spec.headers,
    };
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    else if (spec.method === 'POST') headers['content-length'] = '0';
    const search = spec.query?.toString() ?? '';
    const path = `${config.pathPrefix}${spec.path}${search === '' ? '' : `?${search}`}`;
    return spec.body === undefined
      ? { method: spec.method, path, headers }
      : { method: spec.method, path, headers, body: spec.body };
  }

  /** `/v1/environments/{env}/work[/segment…]`, each segment encoded. */
  #workPath(operation: string, segments: readonly string[]): string {
    const environmentId = this.#config.environmentId;
    if (environmentId === null) throw new Error(`WorkClient.${operation} needs the environment id: set options.environmentId`);
    return ['/v1/environments', environmentId, 'work', ...segments]
      .map((segment, index) => (index === 0 ? segment : encodeURIComponent(segment)))
      .join('/');
  }
}
