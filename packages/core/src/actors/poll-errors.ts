/**
 * Which poll failures end the worker, and what the operator is told to fix. A poll that fails
 * with a fatal 4xx will fail the same way forever, so the worker stops and says why instead of
 * backing off at its cap.
 */
import { WorkApiError } from '../api/errors.js';

/** The error a poll stream ends with when polling cannot go on. Its message says what to fix. */
export class FatalPollError extends Error {
  override readonly name = 'FatalPollError';
  /** The HTTP status of the failed poll, or `null` when it was not an HTTP answer. */
  readonly status: number | null;

  constructor(message: string, status: number | null, cause: unknown) {
    super(message, { cause });
    this.status = status;
  }
}

/**
 * Whether a poll failure is fatal: a 4xx that is not transient (400, 401, 403, 404, …), or
 * anything that is not a `WorkApiError` at all (a programming error: a bad parameter, a closed
 * client). Server faults, timeouts, broken connections and unreadable answers are retried.
 */
export function isFatalPollError(error: unknown): boolean {
  if (!(error instanceof WorkApiError)) return true;
  return error.status !== null && error.status >= 400 && error.status <= 499 && !error.isTransient();
}

/** The message of a fatal poll failure: what happened, and which option to check. Never carries a credential. */
export function fatalPollMessage(error: unknown, environmentId: string): string {
  if (!(error instanceof WorkApiError)) {
    const message = error instanceof Error ? error.message : String(error);
    return `polling stopped: the poll could not be sent (${message})`;
  }
  const what = `${String(error.status)} ${error.type}: ${error.message}`;
  switch (error.status) {
    case 401:
      return `polling stopped: the Work API refused the credential (${what}); check environmentKey: is it the key of this environment, and still valid?`;
    case 403:
      return `polling stopped: the environment key is not allowed on environment ${environmentId} (${what}); check that environmentId and environmentKey belong together`;
    case 404:
      return `polling stopped: environment ${environmentId} was not found (${what}); check environmentId, and that baseUrl points at the Work API`;
    case 400:
      return `polling stopped: the Work API rejected the poll as invalid (${what}); check baseUrl (a proxy or another API?) and the poll options`;
    default:
      return `polling stopped: the poll failed with an error that retrying cannot fix (${what}); check baseUrl, environmentId and environmentKey`;
  }
}
