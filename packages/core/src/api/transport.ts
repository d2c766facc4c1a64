/**
 * One HTTP attempt on undici, bounded by a timeout on the injected clock and by the caller's
 * signal: read whole as text (every JSON call), whole as bytes (a download), or as a stream whose
 * body keeps arriving after the timeout (an event stream). Every failure leaves here as a
 * `WorkApiError`: no answer (connection error, timeout, abort) or an answer whose body broke off.
 * Reading the answer's meaning is `response.ts`'s job.
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

/** Sends one request and reads its whole answer as text, or throws a `WorkApiError`. */
export async function sendOnce(request: HttpRequest, context: AttemptContext): Promise<HttpResponse> {
  const answer = await sendAttempt(request, context, (body) => body.text());
  return { status: answer.status, headers: answer.headers, text: answer.body };
}

/** A complete answer whose body is kept as bytes (a download), at most `maxBytes` of them. */
export interface BytesResponse {
  readonly status: number;
  readonly headers: Dispatcher.ResponseData['headers'];
  readonly bytes: Buffer;
}

/**
 * Sends one request and reads its whole answer as bytes; a body longer than `maxBytes` is an
 * `invalid_response` error (read no further).
 */
export async function sendOnceForBytes(request: HttpRequest, context: AttemptContext, maxBytes: number): Promise<BytesResponse> {
  const answer = await sendAttempt(request, context, async (body) => {
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > maxBytes) {
        body.destroy();
        throw new TooLargeBody(maxBytes);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, length);
  });
  return { status: answer.status, headers: answer.headers, bytes: answer.body };
}

/** An answer whose body is still arriving: the headers came within the timeout; the body runs until it ends or `close()`. */
export interface StreamingResponse {
  readonly status: number;
  readonly headers: Dispatcher.ResponseData['headers'];
  readonly body: AsyncIterable<Buffer>;
  /** Reads the rest as text (for an error answer). */
  text(): Promise<string>;
  /** Ends the body and the connection it holds. */
  close(): void;
}

/**
 * Sends one request and resolves once the answer's headers came, within the timeout; the body
 * then streams with no timeout of its own, ended by the caller's signal or `close()`. A failure
 * while the body streams surfaces from iterating `body` as a `WorkApiError`.
 */
export async function openStream(request: HttpRequest, context: AttemptContext): Promise<StreamingResponse> {
  const { operation, signal } = context;
  if (signal?.aborted) throw abortedError(operation, signal);
  const controller = new AbortController();
  const timer = context.clock.setTimeout(() => controller.abort(TIMED_OUT), context.timeoutMs);
  const onCallerAbort = (): void => controller.abort();
  signal?.addEventListener('abort', onCallerAbort, { once: true });
  const release = (): void => signal?.removeEventListener('abort', onCallerAbort);
  let response: Dispatcher.ResponseData;
  try {
    response = await dispatch(request, context, controller.signal);
  } catch (cause) {
    release();
    throw failure(context, controller.signal.reason === TIMED_OUT, cause);
  } finally {
    context.clock.clearTimeout(timer);
  }
  const { body, statusCode, headers } = response;
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) yield chunk;
    } catch (cause) {
      throw failure(context, false, cause, { status: statusCode, headers });
    } finally {
      release();
    }
  }
  return {
    status: statusCode,
    headers,
    body: chunks(),
    text: async () => {
      try {
        return await body.text();
      } finally {
        release();
      }
    },
    close: () => {
      body.destroy();
      release();
    },
  };
}

/** The abort reason of an attempt's own timeout, to tell it from the caller's abort. */
const TIMED_OUT = Symbol('timed out');

class TooLargeBody extends Error {
  constructor(readonly maxBytes: number) {
    super(`the body is longer than ${maxBytes} bytes`);
  }
}

/** One attempt: the request, then `read` of the body, both under the timeout and the caller's signal. */
async function sendAttempt<T>(
  request: HttpRequest,
  context: AttemptContext,
  read: (body: Dispatcher.ResponseData['body']) => Promise<T>,
): Promise<{ status: number; headers: Dispatcher.ResponseData['headers']; body: T }> {
  const { operation, clock, signal } = context;
  if (signal?.aborted) throw abortedError(operation, signal);
  const controller = new AbortController();
  const timer = clock.setTimeout(() => controller.abort(TIMED_OUT), context.timeoutMs);
  const onCallerAbort = (): void => controller.abort();
  signal?.addEventListener('abort', onCallerAbort, { once: true });
  try {
    let response: Dispatcher.ResponseData;
    try {
      response = await dispatch(request, context, controller.signal);
    } catch (cause) {
      throw failure(context, controller.signal.reason === TIMED_OUT, cause);
    }
    try {
      return { status: response.statusCode, headers: response.headers, body: await read(response.body) };
    } catch (cause) {
      if (cause instanceof TooLargeBody) {
        throw new WorkApiError({
          operation,
          status: response.statusCode,
          type: INVALID_RESPONSE,
          message: `response of ${operation}: ${cause.message}`,
          requestId: firstHeader(response.headers, 'request-id'),
        });
      }
      throw failure(context, controller.signal.reason === TIMED_OUT, cause, { status: response.statusCode, headers: response.headers });
    }
  } finally {
    clock.clearTimeout(timer);
    signal?.removeEventListener('abort', onCallerAbort);
  }
}

function dispatch(request: HttpRequest, context: AttemptContext, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
  return context.dispatcher.request({
    origin: context.origin,
    path: request.path,
    method: request.method,
    headers: { ...request.headers },
    body: request.body ?? null,
    signal,
    // The clock-driven timeout is the only one, so virtual time governs every wait.
    headersTimeout: 0,
    bodyTimeout: 0,
  });
}

/** The `WorkApiError` of an attempt that got no (whole) answer. */
function failure(
  context: AttemptContext,
  timedOut: boolean,
  cause: unknown,
  response?: { status: number; headers: HttpResponse['headers'] },
): WorkApiError {
  const { operation, signal } = context;
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
