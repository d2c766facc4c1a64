/**
 * Turns anything thrown while serving a request into the error envelope of contract §2:
 * `{"type":"error","error":{"type","message"[,"details"]}}`. Fastify's own errors (bad JSON,
 * body too large, unsupported media type, …) are translated too, and anything unexpected becomes
 * a 500 whose message says nothing about the fault (the fault is logged instead).
 */
import type { ErrorEnvelope, ErrorType } from '@envworker/core';
import { StoreError } from '../store/store-error.js';
import { ApiError } from './api-error.js';

/** An error answer, ready to send. */
export interface ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ErrorEnvelope;
  /** The fault was not expected: log it. */
  readonly unexpected: boolean;
}

export function envelope(type: ErrorType, message: string, details?: Readonly<Record<string, unknown>>): ErrorEnvelope {
  return { type: 'error', error: details === undefined ? { type, message } : { type, message, details: { ...details } } };
}

/** The answer for `error`, thrown anywhere between routing and the route's reply. */
export function toErrorResponse(error: unknown): ErrorResponse {
  if (error instanceof StoreError) {
    return { status: error.status, headers: error.headers, body: envelope(error.type, error.message, error.details), unexpected: false };
  }
  if (error instanceof ApiError) {
    return { status: error.status, headers: error.headers, body: envelope(error.type, error.message), unexpected: false };
  }
  const translated = translateFastifyError(error);
  if (translated !== undefined) {
    return { status: translated.status, headers: translated.headers, body: envelope(translated.type, translated.message), unexpected: false };
  }
  return { status: 500, headers: {}, body: envelope('api_error', 'internal server error'), unexpected: true };
}

/** Fastify reports request faults as errors with a `code` and a 4xx `statusCode`. */
function translateFastifyError(error: unknown): ApiError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return ApiError.tooLarge('body: must be at most 1 MiB');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return ApiError.invalid('content-type: must be application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return ApiError.invalid('content-length: does not match the body');
    case 'FST_ERR_BAD_URL':
      return ApiError.invalid('url: not a valid URL');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return ApiError.notFound('no such resource');
    default:
      break;
  }
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    // Other client faults fastify detects (aborted body, …): their messages name no secret.
    const message = error instanceof Error ? error.message : 'invalid request';
    if (statusCode === 404) return ApiError.notFound(message);
    return ApiError.invalid(message);
  }
  return undefined;
}
