/**
 * One HTTP attempt on undici, bounded by a timeout on the injected clock and by the caller's
 * signal. Every failure leaves here as a `WorkApiError`: no answer (connection error, timeout,
 * abort) or an answer whose body broke off. Reading the answer's meaning is `response.ts`'s job.
 */
import type { Dispatcher } from 'undici';
import type { Clock } from '../time/clock.js';
import { ABORTED, CONNECTION_ERROR, INVALID_RESPONSE, TIMEOUT_ERROR, WorkApiError } from './errors.js';

/** A request as the client builds it. */
export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  /** Path and query, starting with `/`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** A complete answer: status, headers (lower-case names) and the whole body as text. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Dispatcher.ResponseData['headers'];
  readonly text: string;
}

/** Where and how long one attempt may run. */
export interface AttemptContext {
  readonly operation: string;
  readonly dispatcher: Dispatcher;
  readonly origin: string;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
}

/**
 * Error codes meaning the connection was never opened, so the server cannot have seen the
 * request. A reset or close after connecting is not in this list: the request may have arrived.
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Sends one request and reads its whole answer, or throws a `WorkApiError`. */
export async function sendOnce(request: HttpRequest, context: AttemptContext): Promise<HttpResponse> {
  const { operation, clock, signal } = context;
  if (signal?.aborted) throw abortedError(operation, signal);
  const controller = new AbortController();
  let timedOut = false;
  const timer = clock.setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, context.timeoutMs);
  const onCallerAbort = (): void => controller.abort();
  signal?.addEventListener('abort', onCallerAbort, { once: true });
  const failure = (cause: unknown, response?: { status: number; headers: HttpResponse['headers'] }): WorkApiError => {
    if (signal?.aborted) return abortedError(operation, signal);
    if (timedOut) {
      return new WorkApiError({
        operation,
        status: null,
        type: TIMEOUT_ERROR,
        message: `${operation}: no complete answer within ${context.timeoutMs} ms`,
      });
    }
    if (response !== undefined) {
      return new WorkApiError({
        operation,
        status: response.status,
        type: INVALID_RESPONSE,
        message: `response of ${operation}: the connection closed before the whole body arrived`,
        requestId: firstHeader(response.headers, 'request-id'),
        truncated: true,
        cause,
      });
    }
    const codes = errorCodes(cause);
    return new WorkApiError({
      operation,
      status: null,
      type: CONNECTION_ERROR,
      message: `${operation}: connection failed${codes.length > 0 ? ` (${codes.join(', ')})` : ''}`,
      requestNotSent: codes.length > 0 && codes.every((code) => NOT_SENT_CODES.has(code)),
      cause,
    });
  };
  try {
    let response: Dispatcher.ResponseData;
    try {
      response = await context.dispatcher.request({
        origin: context.origin,
        path: request.path,
        method: request.method,
        headers: { ...request.headers },
        body: request.body ?? null,
        signal: controller.signal,
        // The clock-driven timeout above is the only one, so virtual time governs every wait.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
    } catch (cause) {
      throw failure(cause);
    }
    try {
      const text = await response.body.text();
      return { status: response.statusCode, headers: response.headers, text };
    } catch (cause) {
      throw failure(cause, { status: response.statusCode, headers: response.headers });
    }
  } finally {
    clock.clearTimeout(timer);
    signal?.removeEventListener('abort', onCallerAbort);
  }
}

/** The error of a call that the caller's own signal ended; its reason is kept as `cause`. */
export function abortedError(operation: string, signal: AbortSignal): WorkApiError {
  return new WorkApiError({
    operation,
    status: null,
    type: ABORTED,
    message: `${operation}: aborted by the caller`,
    cause: signal.reason,
  });
}

/** The first value of a response header, or `null`. */
export function firstHeader(headers: HttpResponse['headers'], name: string): string | null {
  const value = headers[name];
  if (Array.isArray(value)) return value[0] ?? null;
  return value ?? null;
}

/** The `code`s of an error, its cause and (for a failed happy-eyeballs connect) its parts. */
function errorCodes(err: unknown): string[] {
  const codes = new Set<string>();
  const visit = (value: unknown, depth: number): void => {
    if (typeof value !== 'object' || value === null || depth > 3) return;
    const { code, cause, errors } = value as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string') codes.add(code);
    visit(cause, depth + 1);
    if (Array.isArray(errors)) for (const part of errors) visit(part, depth + 1);
  };
  visit(err, 0);
  return [...codes];
}
