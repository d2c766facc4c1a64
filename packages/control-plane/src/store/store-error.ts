import type { ErrorType, LeaseState } from '@envworker/core';

/**
 * A refusal by the store, carrying the HTTP status and `error.type` of contract §2. The HTTP
 * layer turns it into the error envelope as is; anything else thrown is a 500.
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';

  constructor(
    readonly status: number,
    readonly type: ErrorType,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
    /** Extra response headers, e.g. `x-should-retry: false` on a 409. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  static invalid(message: string): StoreError {
    return new StoreError(400, 'invalid_request_error', message);
  }

  static notFound(message: string): StoreError {
    return new StoreError(404, 'not_found_error', message);
  }

  /** The call is not allowed in the item's state (contract §4); never worth retrying. */
  static conflict(message: string): StoreError {
    return new StoreError(409, 'conflict_error', message, undefined, { 'x-should-retry': 'false' });
  }

  static preconditionFailed(currentState: LeaseState): StoreError {
    return new StoreError(
      412,
      'invalid_request_error',
      'expected_last_heartbeat does not match the lease; another worker may hold it',
      { error_code: 'heartbeat_precondition_failed', current_state: currentState },
    );
  }

  static unavailable(message: string): StoreError {
    return new StoreError(503, 'api_error', message);
  }

  static overloaded(message: string, retryAfterSeconds: number): StoreError {
    return new StoreError(529, 'overloaded_error', message, undefined, { 'retry-after': String(retryAfterSeconds) });
  }
}
