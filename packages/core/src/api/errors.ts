/**
 * The one error type of the Work API client. Every failed call rejects with a `WorkApiError`,
 * whether the server answered with an error, the answer was unreadable, or no answer came.
 *
 * Messages are safe to log: they never carry a credential and never quote a response body (a
 * successful body may hold a `secret`); for an error answer they carry the server's
 * `error.message` from the contract's envelope.
 */
import { PreconditionFailedDetailsSchema, type LeaseState, type PreconditionFailedDetails } from './wire.js';

/** `type` of an error that had no HTTP answer because the connection failed or broke. */
export const CONNECTION_ERROR = 'connection_error';
/** `type` of an error that had no HTTP answer within the call's timeout. */
export const TIMEOUT_ERROR = 'timeout_error';
/** `type` of a call ended by the caller's own `AbortSignal`; never transient. */
export const ABORTED = 'aborted';
/** `type` of an answer that does not match the contract (bad JSON, wrong fields, wrong content type, cut short). */
export const INVALID_RESPONSE = 'invalid_response';

/** `details` of an error answer other than a 412 precondition failure: kept as the server sent it. */
export type UnknownErrorDetails = Readonly<Record<string, unknown>>;

/** What a `WorkApiError` is built from. */
export interface WorkApiErrorInit {
  /** The call that failed, e.g. `heartbeat`. */
  operation: string;
  status: number | null;
  type: string;
  message: string;
  requestId?: string | null;
  details?: Readonly<Record<string, unknown>> | null;
  retryAfterMs?: number | null;
  shouldRetryHeader?: boolean | null;
  truncated?: boolean;
  requestNotSent?: boolean;
  cause?: unknown;
}

const TRANSIENT_STATUSES = new Set([408, 409, 429, 529]);

/**
 * A failed Work API call.
 *
 * - `status` is the HTTP status, or `null` when no answer came (connection error, timeout, abort).
 * - `type` is the contract's `error.type` (e.g. `conflict_error`), or for client-side failures one
 *   of `connection_error`, `timeout_error`, `aborted`, `invalid_response`.
 * - {@link WorkApiError.isTransient} says whether trying again may help (contract §2).
 */
export class WorkApiError extends Error {
  override readonly name = 'WorkApiError';
  /** The call that failed, e.g. `heartbeat`. */
  readonly operation: string;
  /** The HTTP status, or `null` when there was no HTTP answer. */
  readonly status: number | null;
  /** The contract's `error.type`, or a client-side type (see the class description). */
  readonly type: string;
  /** The answer's `request-id` header, for correlating with server logs. */
  readonly requestId: string | null;
  /**
   * The envelope's `error.details`: {@link PreconditionFailedDetails} for a 412 heartbeat
   * precondition failure (see {@link WorkApiError.isPreconditionFailed}), else whatever the server sent.
   */
  readonly details: PreconditionFailedDetails | UnknownErrorDetails | null;
  /** The wait the server asked for (`retry-after-ms`, else `retry-after`), uncapped. */
  readonly retryAfterMs: number | null;
  /** The server's `x-should-retry` verdict, which overrides the status rule in both directions. */
  readonly shouldRetryHeader: boolean | null;
  /** True when the connection closed before the whole body arrived. */
  readonly truncated: boolean;
  /**
   * True when the request provably never reached the server (the connection could not be
   * opened), so repeating it is safe even for a call that is not idempotent.
   */
  readonly requestNotSent: boolean;

  constructor(init: WorkApiErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.operation = init.operation;
    this.status = init.status;
    this.type = init.type;
    this.requestId = init.requestId ?? null;
    this.details = init.details ?? null;
    this.retryAfterMs = init.retryAfterMs ?? null;
    this.shouldRetryHeader = init.shouldRetryHeader ?? null;
    this.truncated = init.truncated ?? false;
    this.requestNotSent = init.requestNotSent ?? false;
  }

  /** Whether this is a 412 heartbeat precondition failure, whose `details` are then typed. */
  isPreconditionFailed(): this is WorkApiError & { details: PreconditionFailedDetails } {
    return this.status === 412 && PreconditionFailedDetailsSchema.safeParse(this.details).success;
  }

  /** The server's view of the lease sent with a 412 precondition failure, else `null`. */
  get currentState(): LeaseState | null {
    return this.isPreconditionFailed() ? this.details.current_state : null;
  }

  /**
   * Whether trying again may succeed (contract §2). Transient: 408, 409, 429, 5xx (529
   * included), no answer at all (connection error, timeout), and an answer cut short by the
   * connection. `x-should-retry` overrides that rule either way. An abort by the caller's own
   * signal is never transient.
   */
  isTransient(): boolean {
    if (this.type === ABORTED) return false;
    if (this.shouldRetryHeader !== null) return this.shouldRetryHeader;
    if (this.status === null || this.truncated) return true;
    return TRANSIENT_STATUSES.has(this.status) || (this.status >= 500 && this.status <= 599);
  }
}

/** Whether `err` is a {@link WorkApiError} that may succeed when tried again; `false` for anything else. */
export function isTransient(err: unknown): boolean {
  return err instanceof WorkApiError && err.isTransient();
}

/**
 * The contract's `error.type` for a status, used when an error answer carries no readable
 * envelope (say, an HTML 502 from a proxy).
 */
export function errorTypeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 409:
      return 'conflict_error';
    case 412:
      return 'invalid_request_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 529:
      return 'overloaded_error';
    default:
      return status >= 400 && status < 500 ? 'invalid_request_error' : 'api_error';
  }
}
