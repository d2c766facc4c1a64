/**
 * @envworker/core: the Work API client and wire types, time, the runtime interface with the
 * in-process function runtime, the logger, and (later) the actors. The adapter test suite is the
 * separate entry `@envworker/core/conformance`.
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
export type {
  SandboxRuntime,
  Sandbox,
  SandboxSpec,
  SandboxExit,
  SandboxExitReason,
  SandboxLogSink,
  OnWorkEnvironment,
} from './runtime/sandbox-runtime.js';
export {
  functionRuntime,
  type WorkFunction,
  type WorkContext,
  type FunctionRuntimeOptions,
} from './runtime/function-runtime.js';
export {
  buildOnWorkEnvironment,
  ON_WORK_VARIABLES,
  type OnWorkEnvironmentInput,
} from './runtime/on-work-environment.js';
export { buildSandboxSpec, type SandboxSpecInput } from './runtime/sandbox-spec.js';
export { createWorkdir, removeWorkdir, errorCode } from './runtime/workdir.js';
export { LineSplitter, TRUNCATED_MARK } from './runtime/line-splitter.js';
export { signalGroup, groupRunning, waitGroupGone, GROUP_POLL_MS } from './runtime/process-group.js';
export { niceSandbox, NICE_RANGE } from './runtime/sandbox-priority.js';
export {
  parseProcStat,
  statFields,
  readProcStat,
  readProcStatSync,
  processGroupMembers,
  isLive,
  type ProcStat,
} from './runtime/proc-stat.js';
export {
  createLogger,
  workLogger,
  LOG_LEVELS,
  LOG_FORMATS,
  REDACT_PATHS,
  type LoggerOptions,
  type LogLevel,
  type LogFormat,
} from './observe/logger.js';
export type { Logger } from 'pino';
export { redactSecrets, REDACTED, MIN_SECRET_LENGTH } from './observe/redact-secrets.js';
export { workerMetrics, type WorkerMetrics, type MeteredWorker } from './observe/metrics.js';
export type { LeaseEvent, LeaseLostReason } from './lease/lease-events.js';
export {
  initialLease,
  applyBeatAnswer,
  applyBeatError,
  checkStale,
  beatDueAt,
  nextBeatAt,
  staleAt,
  beatIntervalMs,
  DEFAULT_INITIAL_TTL_SECONDS,
  BEAT_INTERVAL_BOUNDS,
  type Lease,
  type LeaseStep,
  type InitialLeaseOptions,
} from './lease/lease-rules.js';
export { heartbeat$, type HeartbeatStreamOptions, type HeartbeatClient } from './lease/heartbeat-stream.js';
export { createWorker, type Worker } from './worker/create-worker.js';
export { defaultWorkerId, type WorkerOptions } from './worker/worker-options.js';
export { DEFAULT_DRAIN_DEADLINE_MS, type ShutdownOptions } from './actors/supervisor.js';
export type {
  WorkerEvent,
  WorkItemEventBase,
  WorkerLifecycle,
  WorkerItemStatus,
  WorkerStatus,
} from './actors/worker-events.js';
export {
  workItemMachine,
  leaseMachineEvent,
  describeError,
  type WorkItemMachine,
  type WorkItemClient,
  type WorkItemDeps,
  type WorkItemSettings,
  type WorkItemInput,
  type WorkItemOutput,
  type WorkItemEvent,
  type WorkItemEmitted,
  type LeaseMachineEvent,
  type StopCallResult,
  type AckInput,
  type LeaseInput,
  type StartInput,
  type ItemCallInput,
} from './actors/work-item-machine.js';
export { startWorkItem, type StartWorkItemOptions, type WorkItemHandle } from './actors/work-item-actor.js';
export {
  WORK_ITEM_OUTCOMES,
  decideOutcome,
  exitOutcome,
  type WorkItemOutcome,
  type EndCause,
} from './actors/work-item-outcome.js';
export {
  WORK_ITEM_PHASES,
  WORK_ITEM_TRIGGERS,
  WORK_ITEM_REACTIONS,
  reactionTo,
  workStateOf,
  type WorkItemPhase,
  type WorkItemTrigger,
  type WorkItemReaction,
} from './actors/work-item-reactions.js';
export {
  ackFailureDecision,
  stopCallDecision,
  type RetryDecision,
  type StopCallDecision,
  type AckFailureContext,
} from './actors/retry-decisions.js';
export {
  pollStream,
  idleDelay,
  DEFAULT_POLL_IDLE_DELAY_MS,
  DEFAULT_POLL_BACKOFF,
  type PollStreamOptions,
  type PollEvent,
} from './actors/poll-stream.js';
export { FatalPollError, isFatalPollError, fatalPollMessage } from './actors/poll-errors.js';
export { SlotPool, type Slot, type SlotSource } from './actors/slot-pool.js';
export { clockDelay$ } from './actors/clock-delay.js';
export {
  SessionsClient,
  MAX_SKILL_ARCHIVE_BYTES,
  type SessionsClientOptions,
  type ListEventsParams,
  type SessionEventStream,
} from './api/sessions/sessions-client.js';
export {
  SessionSchema,
  SessionEventSchema,
  SessionEventsPageSchema,
  SentEventsSchema,
  SkillVersionSchema,
  SESSION_STATUSES,
  MAX_EVENTS_PAGE,
  type Session,
  type SessionSkill,
  type SessionEvent,
  type SessionEventsPage,
  type SentEvents,
  type SkillVersion,
} from './api/sessions/session-wire.js';
export { MalformedStreamEvent, type StreamedEvent } from './api/sessions/sse-events.js';
export {
  ScriptStepSchema,
  ScriptSkillSchema,
  SessionSpecSchema,
  SessionTranscriptSchema,
  TranscriptCallSchema,
  MAX_SCRIPT_STEPS,
  MAX_SCRIPT_SKILLS,
  type ScriptStep,
  type ScriptSkill,
  type SessionSpec,
  type SessionTranscript,
  type TranscriptCall,
} from './api/sessions/session-script.js';
