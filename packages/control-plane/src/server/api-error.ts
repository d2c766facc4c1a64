/**
 * A refusal by the HTTP layer (authentication, validation, limits), carrying the status,
 * `error.type` and headers of contract §2. The store's refusals are `StoreError`s; both become
 * the same error envelope.
 */
import type { ErrorType } from '@envworker/core';

export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly type: ErrorType,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  static invalid(message: string): ApiError {
    return new ApiError(400, 'invalid_request_error', message);
  }

  static authentication(message: string): ApiError {
    return new ApiError(401, 'authentication_error', message);
  }

  static permission(message: string): ApiError {
    return new ApiError(403, 'permission_error', message);
  }

  static notFound(message: string): ApiError {
    return new ApiError(404, 'not_found_error', message);
  }

  static tooLarge(message: string): ApiError {
    return new ApiError(413, 'request_too_large', message);
  }

  static rateLimited(retryAfterSeconds: number): ApiError {
    return new ApiError(429, 'rate_limit_error', 'too many requests for this credential; retry later', {
      'retry-after': String(retryAfterSeconds),
    });
  }

  static overloaded(message: string, retryAfterSeconds: number): ApiError {
    return new ApiError(529, 'overloaded_error', message, { 'retry-after': String(retryAfterSeconds) });
  }

  static shuttingDown(): ApiError {
    return new ApiError(503, 'api_error', 'the control plane is shutting down', { connection: 'close' });
  }
}
