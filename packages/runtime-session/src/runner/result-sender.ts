/**
 * Sending a call's result, retried while it can still matter: a transient failure (no answer, a
 * 5xx, a 429) is retried with capped exponential backoff and full jitter for up to a window (the
 * official runner's five minutes: past that the lease that made the result ours is surely gone);
 * a permanent one (any other 4xx) is given up at once, as is every send once its signal aborts.
 */
import { retryDelay, WorkApiError, type Clock, type Logger, type SessionsClient } from '@envworker/core';
import { sleepOn } from './clock-sleep.js';
import type { ResultEvent } from './tool-result.js';

/** How long a failing send is retried. */
export const SEND_RETRY_WINDOW_MS = 5 * 60_000;
const SEND_BACKOFF = { maxRetries: Number.MAX_SAFE_INTEGER, baseDelayMs: 1_000, maxDelayMs: 30_000 };

export interface ResultSenderInput {
  readonly client: SessionsClient;
  readonly sessionId: string;
  readonly credential: string;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  /** Aborts every send (the session was killed). */
  readonly signal: AbortSignal;
  readonly windowMs?: number;
}

/** Sends `result`; resolves whether the server took it. Never throws. */
export async function sendResult(input: ResultSenderInput, result: ResultEvent, toolUseId: string): Promise<boolean> {
  const { clock, logger, signal } = input;
  const windowMs = input.windowMs ?? SEND_RETRY_WINDOW_MS;
  const startedAt = clock.now();
  for (let attempt = 0; ; attempt += 1) {
    try {
      await input.client.sendEvents(input.sessionId, [result], { credential: input.credential, signal, maxRetries: 0 });
      return true;
    } catch (error) {
      if (signal.aborted) return false;
      const transient = error instanceof WorkApiError && error.isTransient();
      const message = error instanceof Error ? error.message : String(error);
      const remainingMs = windowMs - (clock.now() - startedAt);
      if (!transient || remainingMs <= 0) {
        logger.error({ tool_use_id: toolUseId, attempts: attempt + 1, err_message: message }, 'the tool result could not be sent');
        return false;
      }
      const serverDelay = error instanceof WorkApiError ? error.retryAfterMs : null;
      const waitMs = Math.min(retryDelay(attempt, SEND_BACKOFF, input.random, serverDelay), remainingMs);
      logger.warn({ tool_use_id: toolUseId, attempt: attempt + 1, backoff_ms: Math.round(waitMs), err_message: message }, 'sending the tool result failed; retrying');
      if (!(await sleepOn(clock, waitMs, signal))) return false;
    }
  }
}
