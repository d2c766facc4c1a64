/**
 * @envworker/core: the Work API client and wire types, time, and (later) the actors and the
 * runtime interface.
 */
export * from './api/wire.js';
export { formatTimestamp, parseTimestamp, millisToMicros } from './api/timestamp.js';
export { decodeWorkSecret, encodeWorkSecret, type DecodedWorkSecret } from './api/secret.js';
export { WorkClient } from './api/client.js';
export type { WorkClientOptions, CallOptions } from './api/client-options.js';
export type {
  PollParams,
  HeartbeatParams,
  StopParams,
  ListParams,
  ListAllParams,
  EnqueueParams,
  CreateEnvironmentParams,
} from './api/call-params.js';
export {
  WorkApiError,
  isTransient,
  errorTypeForStatus,
  CONNECTION_ERROR,
  TIMEOUT_ERROR,
  ABORTED,
  INVALID_RESPONSE,
  type WorkApiErrorInit,
  type UnknownErrorDetails,
} from './api/errors.js';
export {
  DEFAULT_RETRY_POLICY,
  MAX_RETRY_AFTER_MS,
  resolveRetryPolicy,
  backoffDelay,
  retryDelay,
  type RetryPolicy,
} from './api/retry.js';
export { parseRetryAfterMs, parseShouldRetry } from './api/retry-after.js';
export { ANTHROPIC_VERSION, MANAGED_AGENTS_BETA, DEFAULT_USER_AGENT, betaHeaderValue } from './api/headers.js';
export { EnvironmentSchema, type Environment } from './api/environment.js';
export { paginate, type Page } from './api/pagination.js';
export { PACKAGE_NAME, VERSION } from './version.js';
export { systemClock, type Clock, type TimerHandle } from './time/clock.js';
export { VirtualClock } from './time/virtual-clock.js';
