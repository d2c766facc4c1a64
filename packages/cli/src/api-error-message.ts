/**
 * Turns a failed Work API call into the one line a person needs: what went wrong and which flag
 * or variable to fix. Connection and credential problems exit 2 (fix and retry); any other
 * failure exits 1. The messages come from `WorkApiError`, which never holds a credential.
 */
import { CONNECTION_ERROR, TIMEOUT_ERROR, WorkApiError } from '@envworker/core';
import { CliError, EXIT_FAILURE, oneLine } from './cli-error.js';

/** What the message may name. */
export interface CallSite {
  readonly baseUrl: string;
  /** Which flags carry the credential used, e.g. `--environment-key or ANTHROPIC_ENVIRONMENT_KEY`. */
  readonly credentialHint: string;
  /** What a 404 means here, e.g. `check --environment-id`; default: the server's message only. */
  readonly notFoundHint?: string;
}

/** The error as a {@link CliError}; anything but a `WorkApiError` is returned as is. */
export function describeApiError(error: unknown, site: CallSite): unknown {
  if (!(error instanceof WorkApiError)) return error;
  const { baseUrl } = site;
  if (error.type === CONNECTION_ERROR) {
    const codes = errorCodes(error.cause);
    if (codes.includes('ECONNREFUSED')) return new CliError(`cannot reach ${baseUrl}: connection refused; is the control plane running?`);
    if (codes.includes('ENOTFOUND') || codes.includes('EAI_AGAIN')) return new CliError(`cannot reach ${baseUrl}: host not found; check --base-url`);
    const reason = codes.length > 0 ? codes.join(', ') : 'the connection failed';
    return new CliError(`cannot reach ${baseUrl}: ${reason}; check --base-url and the network`);
  }
  if (error.type === TIMEOUT_ERROR) return new CliError(`cannot reach ${baseUrl}: no answer in time; check --base-url and the network`);
  // The message reads `<operation>: <status> <type>: <server's message>`.
  const answer = oneLine(error.message);
  switch (error.status) {
    case 401:
      return new CliError(`${baseUrl} refused the credential (${answer}); check ${site.credentialHint}`);
    case 403:
      return new CliError(`${baseUrl} denied access (${answer}); check --environment-id and ${site.credentialHint}`);
    case 404:
      return new CliError(`not found (${answer})${site.notFoundHint === undefined ? '' : `; ${site.notFoundHint}`}`);
    default:
      return new CliError(`failed: ${answer}`, EXIT_FAILURE);
  }
}

/** The `code`s of an error and of its causes (undici wraps the socket's error, sometimes in an AggregateError). */
export function errorCodes(error: unknown, depth = 0): string[] {
  if (typeof error !== 'object' || error === null || depth > 4) return [];
  const codes: string[] = [];
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string') codes.push(code);
  codes.push(...errorCodes(cause, depth + 1));
  if (Array.isArray(errors)) for (const inner of errors) codes.push(...errorCodes(inner, depth + 1));
  return [...new Set(codes)];
}
