/**
 * The options of `WorkClient` and of each call, and their checks. Every error names the option
 * and never repeats its value (some are credentials).
 */
import type { Dispatcher } from 'undici';
import { systemClock, type Clock } from '../time/clock.js';
import { betaHeaderValue, DEFAULT_USER_AGENT } from './headers.js';
import { resolveRetryPolicy, type RetryPolicy } from './retry.js';
import { requireFunction, requireHeaderToken, requireInteger, requirePlainObject, requireString } from './validate.js';

/** The options of a {@link WorkClient}. */
export interface WorkClientOptions {
  /** Base URL of the Work API, `http:` or `https:` (a path prefix is kept), e.g. `https://api.anthropic.com`. */
  baseUrl: string;
  /** The environment whose work this client handles; needed by every call but `createEnvironment`. */
  environmentId?: string | undefined;
  /** The environment key: the credential of poll and ack, and the default of the other work calls. */
  environmentKey?: string | undefined;
  /** An operator API key, sent as `x-api-key` (on the local control plane: its admin key). */
  apiKey?: string | undefined;
  /** Extra `anthropic-beta` flags, sent before `managed-agents-2026-04-01`. */
  betas?: readonly string[] | undefined;
  /** Replaces the default `user-agent` (`@envworker/core/<version>`). */
  userAgent?: string | undefined;
  /** Per-attempt timeout in milliseconds (default 30 000); a poll adds its `blockMs`. */
  timeoutMs?: number | undefined;
  /** Retry policy; missing fields take {@link DEFAULT_RETRY_POLICY}. */
  retry?: Partial<RetryPolicy> | undefined;
  /** The clock of timeouts and backoff sleeps (default: the system clock). */
  clock?: Clock | undefined;
  /** Source of backoff jitter, returning numbers in [0, 1) (default `Math.random`). */
  random?: (() => number) | undefined;
  /** Most connections the client's own agent opens to the server (default: unlimited). */
  maxConnections?: number | undefined;
  /** An undici dispatcher to send through instead of the client's own agent; the caller closes it. */
  dispatcher?: Dispatcher | undefined;
}

/** Per-call options, the last argument of every `WorkClient` method. */
export interface CallOptions {
  /** Ends the call (and any backoff sleep); the call then rejects with a `WorkApiError` of type `aborted`. */
  signal?: AbortSignal | undefined;
  /** Per-attempt timeout of this call, replacing the client's `timeoutMs` (a poll adds its `blockMs`). */
  timeoutMs?: number | undefined;
  /**
   * A bearer credential used in place of the call's default: for heartbeat and stop, the item's
   * sessions token (from its decoded `secret`).
   */
  credential?: string | undefined;
  /** Retries of this call, replacing the policy's `maxRetries`. */
  maxRetries?: number | undefined;
}

/** The checked client options. */
export interface ClientConfig {
  readonly origin: string;
  /** The base URL's path without a trailing slash (often empty). */
  readonly pathPrefix: string;
  readonly environmentId: string | null;
  readonly environmentKey: string | null;
  readonly apiKey: string | null;
  readonly betaHeader: string;
  readonly userAgent: string;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly clock: Clock;
  readonly random: () => number;
  readonly maxConnections: number | null;
}

/** The longest timeout a timer can hold (about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
const DEFAULT_TIMEOUT_MS = 30_000;

/** Checks the client options and fills in defaults. */
export function resolveClientOptions(options: WorkClientOptions): ClientConfig {
  requirePlainObject(options, 'WorkClient options');
  const { origin, pathPrefix } = parseBaseUrl(options.baseUrl);
  const betas = options.betas ?? [];
  if (!Array.isArray(betas)) throw new TypeError('betas must be an array of strings');
  betas.forEach((beta, index) => {
    if (typeof beta !== 'string' || !/^[A-Za-z0-9._-]+$/.test(beta)) {
      throw new TypeError(`betas[${index}] must be a beta name (letters, digits, '.', '_', '-')`);
    }
  });
  const clock = options.clock ?? systemClock;
  for (const method of ['now', 'setTimeout', 'clearTimeout'] as const) {
    requireFunction((clock as Partial<Clock> | null)?.[method], `clock.${method}`);
  }
  if (options.maxConnections !== undefined && options.dispatcher !== undefined) {
    throw new TypeError('maxConnections applies only to the client\'s own agent: configure it on the dispatcher you pass instead');
  }
  return {
    origin,
    pathPrefix,
    environmentId: optional(options.environmentId, (value) => requireString(value, 'environmentId')),
    environmentKey: optional(options.environmentKey, (value) => requireHeaderToken(value, 'environmentKey')),
    apiKey: optional(options.apiKey, (value) => requireHeaderToken(value, 'apiKey')),
    betaHeader: betaHeaderValue(betas),
    userAgent: optional(options.userAgent, (value) => requireUserAgent(value)) ?? DEFAULT_USER_AGENT,
    timeoutMs: requireInteger(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs', 1, MAX_TIMEOUT_MS),
    retry: resolveRetryPolicy(options.retry ?? {}, 'retry'),
    clock,
    random: requireFunction(options.random ?? Math.random, 'random'),
    maxConnections: optional(options.maxConnections, (value) => requireInteger(value, 'maxConnections', 1)),
  };
}

/** Checks the options of one call. */
export function checkCallOptions(options: CallOptions): void {
  requirePlainObject(options, 'call options');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError('signal must be an AbortSignal');
  }
  if (options.timeoutMs !== undefined) requireInteger(options.timeoutMs, 'timeoutMs', 1, MAX_TIMEOUT_MS);
  if (options.credential !== undefined) requireHeaderToken(options.credential, 'credential');
  if (options.maxRetries !== undefined) requireInteger(options.maxRetries, 'maxRetries', 0, 100);
}

function parseBaseUrl(value: unknown): { origin: string; pathPrefix: string } {
  // The value is not repeated in these messages: a URL may carry a credential in its user info.
  const url = typeof value === 'string' && URL.canParse(value) ? new URL(value) : null;
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new TypeError('baseUrl must be an absolute http: or https: URL');
  }
  if (url.username !== '' || url.password !== '') throw new TypeError('baseUrl must not carry user info (credentials)');
  if (url.search !== '' || url.hash !== '') throw new TypeError('baseUrl must not have a query or fragment');
  return { origin: url.origin, pathPrefix: url.pathname.replace(/\/+$/, '') };
}

function requireUserAgent(value: unknown): string {
  if (typeof value !== 'string' || !/^[\x20-\x7e]+$/.test(value)) {
    throw new TypeError('userAgent must be a non-empty string of printable ASCII characters');
  }
  return value;
}

function optional<T>(value: T | undefined, check: (value: T) => T): T | null {
  return value === undefined ? null : check(value);
}
