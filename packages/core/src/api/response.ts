/**
 * Reading an answer: a 2xx body is checked against its wire schema, anything else becomes a
 * `WorkApiError` from the contract's error envelope (or from the status alone when the body is no
 * envelope, like an HTML 502 from a proxy). No message here ever quotes the body.
 */
import type { z } from 'zod';
import { errorTypeForStatus, INVALID_RESPONSE, WorkApiError } from './errors.js';
import { parseRetryAfterMs, parseShouldRetry } from './retry-after.js';
import { firstHeader, type HttpResponse } from './transport.js';
import { ErrorEnvelopeSchema } from './wire.js';

/** How many schema problems one message lists; the rest are counted. */
const MAX_LISTED_ISSUES = 3;
/** The longest piece of server-chosen text (a content type, an error message) a message repeats. */
const MAX_ECHO = 300;

/** The parsed body of a 2xx answer, or a `WorkApiError` of type `invalid_response`. */
export function readSuccess<S extends z.ZodType>(operation: string, response: HttpResponse, schema: S): z.output<S> {
  const invalid = (problem: string): WorkApiError =>
    new WorkApiError({
      operation,
      status: response.status,
      type: INVALID_RESPONSE,
      message: `response of ${operation}: ${problem}`,
      requestId: firstHeader(response.headers, 'request-id'),
    });
  const contentType = firstHeader(response.headers, 'content-type');
  if (!isJsonContentType(contentType)) {
    throw invalid(`expected content-type application/json, got ${contentType === null ? 'none' : clip(contentType)}`);
  }
  if (response.text.trim().length === 0) throw invalid('the body is empty');
  let json: unknown;
  try {
    json = JSON.parse(response.text);
  } catch {
    // JSON.parse's own message quotes the text, so it is dropped.
    throw invalid('the body is not valid JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw invalid(describeIssues(parsed.error.issues));
  return parsed.data;
}

/** The `WorkApiError` of a non-2xx answer. */
export function errorFromResponse(operation: string, response: HttpResponse, nowMs: number): WorkApiError {
  const { status, headers } = response;
  const envelope = parseEnvelope(response.text);
  const type = envelope?.error.type ?? errorTypeForStatus(status);
  const reason =
    envelope === null ? 'the answer carries no error envelope' : clip(envelope.error.message) || '(no message)';
  return new WorkApiError({
    operation,
    status,
    type,
    message: `${operation}: ${status} ${type}: ${reason}`,
    requestId: firstHeader(headers, 'request-id'),
    details: envelope?.error.details ?? null,
    retryAfterMs: parseRetryAfterMs(firstHeader(headers, 'retry-after-ms'), firstHeader(headers, 'retry-after'), nowMs),
    shouldRetryHeader: parseShouldRetry(firstHeader(headers, 'x-should-retry')),
  });
}

function parseEnvelope(text: string): z.output<typeof ErrorEnvelopeSchema> | null {
  try {
    const parsed = ErrorEnvelopeSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function isJsonContentType(value: string | null): boolean {
  if (value === null) return false;
  const mediaType = value.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}

/**
 * `ttl_seconds: expected number, received string`: each issue as its field path and zod's
 * description, which names types and expected values but never the received value.
 */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const listed = issues.slice(0, MAX_LISTED_ISSUES).map((issue) => {
    const path = issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
    return `${path}: ${issue.message.replace(/^Invalid input: /, '')}`;
  });
  const more = issues.length - listed.length;
  return more > 0 ? `${listed.join('; ')} (and ${more} more)` : listed.join('; ');
}

function clip(text: string): string {
  const oneLine = text.replace(/[\r\n]+/g, ' ');
  return oneLine.length > MAX_ECHO ? `${oneLine.slice(0, MAX_ECHO)}…` : oneLine;
}
