/**
 * The Work API's wire objects (contract §2–§3), each as a runtime schema and its TypeScript type.
 *
 * The schemas are the single source of truth: the client validates every response body against
 * them, and the local control plane builds its answers from the same types. Object schemas are
 * loose on purpose: the contract tells clients to ignore unknown fields, so a newer server that
 * adds one must not break an older client.
 */
import { z } from 'zod';

/** The states a work item moves through (contract §4). */
export const WORK_STATES = ['queued', 'starting', 'active', 'stopping', 'stopped'] as const;
export const WorkStateSchema = z.enum(WORK_STATES);
/** One of the five states of a work item. */
export type WorkState = z.infer<typeof WorkStateSchema>;

/**
 * RFC 3339 UTC timestamp, as the contract writes them (`2026-11-28T17:00:00.123456Z`). Clients
 * accept any fraction length (or none) so that a server with millisecond precision still parses.
 */
export const TimestampSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/, 'must be an RFC 3339 UTC timestamp');
export type Timestamp = z.infer<typeof TimestampSchema>;

/** The literal `expected_last_heartbeat` that claims a lease which has never been beaten. */
export const NO_HEARTBEAT = 'NO_HEARTBEAT';

export const SessionWorkDataSchema = z.looseObject({
  type: z.literal('session'),
  id: z.string().min(1),
});
export const HealthcheckWorkDataSchema = z.looseObject({
  type: z.literal('healthcheck'),
  id: z.string().min(1),
});
export const WorkDataSchema = z.discriminatedUnion('type', [SessionWorkDataSchema, HealthcheckWorkDataSchema]);
/** What a work item asks for: serve a session, or answer a health check. */
export type WorkData = z.infer<typeof WorkDataSchema>;

export const MetadataSchema = z.record(z.string(), z.string());
/** String-to-string metadata attached to a work item. */
export type Metadata = z.infer<typeof MetadataSchema>;

export const WorkSchema = z.looseObject({
  type: z.literal('work'),
  id: z.string().min(1),
  environment_id: z.string().min(1),
  data: WorkDataSchema,
  state: WorkStateSchema,
  created_at: TimestampSchema,
  acknowledged_at: TimestampSchema.nullable(),
  started_at: TimestampSchema.nullable(),
  latest_heartbeat_at: TimestampSchema.nullable(),
  stop_requested_at: TimestampSchema.nullable(),
  stopped_at: TimestampSchema.nullable(),
  metadata: MetadataSchema,
  secret: z.string().nullable(),
});
/** A work item (contract §3). `secret` is non-null only in a poll response. */
export type Work = z.infer<typeof WorkSchema>;

/** A poll answers one work item, or `null` when nothing was deliverable within `block_ms`. */
export const PollResponseSchema = WorkSchema.nullable();

export const HeartbeatResponseSchema = z.looseObject({
  type: z.literal('work_heartbeat'),
  last_heartbeat: TimestampSchema,
  lease_extended: z.boolean(),
  state: WorkStateSchema,
  ttl_seconds: z.number().int().nonnegative(),
});
/** The answer to a heartbeat that passed its precondition (or found the item stopped). */
export type HeartbeatResponse = z.infer<typeof HeartbeatResponseSchema>;

export const WorkListPageSchema = z.looseObject({
  data: z.array(WorkSchema),
  next_page: z.string().min(1).nullable(),
});
/** One page of `list`, newest first; `next_page` is an opaque cursor. */
export type WorkListPage = z.infer<typeof WorkListPageSchema>;

export const WorkQueueStatsSchema = z.looseObject({
  type: z.literal('work_queue_stats'),
  depth: z.number().int().nonnegative(),
  pending: z.number().int().nonnegative(),
  oldest_queued_at: TimestampSchema.nullable(),
  workers_polling: z.number().int().nonnegative().nullable(),
});
/** Queue statistics of one environment (contract §3). */
export type WorkQueueStats = z.infer<typeof WorkQueueStatsSchema>;

/** The server's view of a lease, sent with a 412 `heartbeat_precondition_failed`. */
export const LeaseStateSchema = z.looseObject({
  state: WorkStateSchema,
  last_heartbeat: TimestampSchema.nullable(),
  lease_extended: z.boolean(),
  ttl_seconds: z.number().int().nonnegative(),
});
export type LeaseState = z.infer<typeof LeaseStateSchema>;

export const PreconditionFailedDetailsSchema = z.looseObject({
  error_code: z.literal('heartbeat_precondition_failed'),
  current_state: LeaseStateSchema,
});
/** `details` of a 412 answer to a heartbeat. */
export type PreconditionFailedDetails = z.infer<typeof PreconditionFailedDetailsSchema>;

/** The `error.type` values of contract §2. Unknown types from a newer server are kept as strings. */
export const ERROR_TYPES = [
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'conflict_error',
  'request_too_large',
  'rate_limit_error',
  'api_error',
  'overloaded_error',
] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

export const ErrorEnvelopeSchema = z.looseObject({
  type: z.literal('error'),
  error: z.looseObject({
    type: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
/** The body of every error answer (contract §2). */
export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;

/** The decoded `secret` of a polled work item: the item's sessions token, and maybe a base URL. */
export const WorkSecretSchema = z.looseObject({
  sessions_token: z.string().min(1),
  api_base_url: z.url({ protocol: /^https?$/ }).optional(),
});
export type WorkSecret = z.infer<typeof WorkSecretSchema>;

/** Body of `update`: a string upserts a key, `null` deletes it, an omitted key is kept. */
export type MetadataPatch = Record<string, string | null>;

/** Limits on metadata (contract §5, update). */
export const METADATA_LIMITS = { maxKeys: 16, maxKeyLength: 64, maxValueLength: 512 } as const;

/** Lease TTL bounds and default of the contract (§4, TTL); the local server may be configured otherwise. */
export const DEFAULT_LEASE = { minTtlSeconds: 10, maxTtlSeconds: 600, defaultTtlSeconds: 120 } as const;

/** Poll parameter bounds (§5). */
export const POLL_LIMITS = { maxBlockMs: 999, defaultReclaimOlderThanMs: 5000 } as const;

/** List parameter bounds (§5). */
export const LIST_LIMITS = { maxLimit: 100, defaultLimit: 20 } as const;

/** Ids are a prefix and 24 base62 characters (contract §1, decided). */
export const ID_PREFIXES = { environment: 'env_', work: 'work_', session: 'sesn_' } as const;
export const ID_BODY_LENGTH = 24;
