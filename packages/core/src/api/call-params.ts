/**
 * The parameters of the `WorkClient` calls and their checks (contract §5). The server checks them
 * too; checking here first turns a programming error into a clear local error before any I/O.
 */
import type { SessionSpec } from './sessions/session-script.js';
import { METADATA_LIMITS, NO_HEARTBEAT, POLL_LIMITS, LIST_LIMITS, TimestampSchema } from './wire.js';
import type { Metadata, MetadataPatch } from './wire.js';
import { requireBoolean, requireHeaderToken, requireInteger, requirePlainObject, requireString } from './validate.js';

/** Parameters of `poll`. */
export interface PollParams {
  /** Unique per poller, e.g. `<hostname>-<uuid>`; sent as `anthropic-worker-id`. */
  workerId: string;
  /** How long the server may hold the poll open waiting for work, 1–999 ms; omitted: no wait. */
  blockMs?: number | undefined;
  /** Redeliver items delivered but not acked for this long (server default 5000 ms). */
  reclaimOlderThanMs?: number | undefined;
}

/** Parameters of `heartbeat`. */
export interface HeartbeatParams {
  /** `NO_HEARTBEAT` for the first beat, then the last answer's `last_heartbeat`; omitted: unconditional. */
  expectedLastHeartbeat?: string | undefined;
  /** The lease TTL to ask for; the server clamps it to its bounds. */
  desiredTtlSeconds?: number | undefined;
}

/** Parameters of `stop`. */
export interface StopParams {
  /** `true` stops at once; `false` asks the holder to stop (`stopping`). Omitted: the server's default (false). */
  force?: boolean | undefined;
}

/** Parameters of `list`. */
export interface ListParams {
  /** Page size, 1–100 (server default 20). */
  limit?: number | undefined;
  /** The `next_page` cursor of the previous page. */
  page?: string | undefined;
}

/** Parameters of `listAll`. */
export interface ListAllParams {
  /** Page size, 1–100 (server default 20). */
  limit?: number | undefined;
}

/** Parameters of `enqueue` (local control plane). */
export interface EnqueueParams {
  /** What the item asks for; omitted: a session with a generated id. */
  data?: { type: 'session' | 'healthcheck'; id?: string | undefined } | undefined;
  /** Initial metadata. */
  metadata?: Metadata | undefined;
  /** Local control plane: the scripted agent of the item's session (checked by the server, which names the bad field). */
  session?: SessionSpec | undefined;
}

/** Parameters of `createEnvironment` (local control plane). */
export interface CreateEnvironmentParams {
  name: string;
}

export function checkWorkId(workId: unknown): string {
  return requireString(workId, 'workId');
}

export function pollQuery(params: PollParams): { workerId: string; query: URLSearchParams; blockMs: number } {
  requirePlainObject(params, 'poll params');
  const workerId = requireHeaderToken(params.workerId, 'workerId');
  const query = new URLSearchParams();
  let blockMs = 0;
  if (params.blockMs !== undefined) {
    blockMs = requireInteger(params.blockMs, 'blockMs', 1, POLL_LIMITS.maxBlockMs);
    query.set('block_ms', String(blockMs));
  }
  if (params.reclaimOlderThanMs !== undefined) {
    query.set('reclaim_older_than_ms', String(requireInteger(params.reclaimOlderThanMs, 'reclaimOlderThanMs', 1)));
  }
  return { workerId, query, blockMs };
}

export function heartbeatQuery(params: HeartbeatParams): URLSearchParams {
  requirePlainObject(params, 'heartbeat params');
  const query = new URLSearchParams();
  const expected = params.expectedLastHeartbeat;
  if (expected !== undefined) {
    if (expected !== NO_HEARTBEAT && !TimestampSchema.safeParse(expected).success) {
      throw new TypeError(`expectedLastHeartbeat must be ${NO_HEARTBEAT} or an RFC 3339 UTC timestamp`);
    }
    query.set('expected_last_heartbeat', expected);
  }
  if (params.desiredTtlSeconds !== undefined) {
    query.set('desired_ttl_seconds', String(requireInteger(params.desiredTtlSeconds, 'desiredTtlSeconds', 1)));
  }
  return query;
}

/** The stop body: `{}` when `force` is not set, so the server applies its default. */
export function stopBody(params: StopParams): string {
  requirePlainObject(params, 'stop params');
  if (params.force === undefined) return '{}';
  return JSON.stringify({ force: requireBoolean(params.force, 'force') });
}

export function listQuery(params: ListParams): URLSearchParams {
  requirePlainObject(params, 'list params');
  const query = new URLSearchParams();
  if (params.limit !== undefined) query.set('limit', String(requireInteger(params.limit, 'limit', 1, LIST_LIMITS.maxLimit)));
  if (params.page !== undefined) query.set('page', requireString(params.page, 'page'));
  return query;
}

export function updateBody(patch: MetadataPatch): string {
  requirePlainObject(patch, 'patch');
  for (const [key, value] of Object.entries(patch)) {
    checkMetadataKey(key, 'patch');
    const name = `patch[${JSON.stringify(key)}]`;
    if (value === null) continue;
    if (typeof value !== 'string') throw new TypeError(`${name} must be a string or null`);
    checkMetadataValueLength(value, name);
  }
  return JSON.stringify({ metadata: patch });
}

export function enqueueBody(params: EnqueueParams): string {
  requirePlainObject(params, 'enqueue params');
  const body: { data?: { type: string; id?: string }; metadata?: Metadata; session?: SessionSpec } = {};
  if (params.data !== undefined) {
    const data = requirePlainObject(params.data, 'data');
    if (data['type'] !== 'session' && data['type'] !== 'healthcheck') {
      throw new TypeError("data.type must be 'session' or 'healthcheck'");
    }
    body.data = { type: data['type'] };
    if (data['id'] !== undefined) body.data.id = requireString(data['id'], 'data.id');
  }
  if (params.metadata !== undefined) {
    const metadata = requirePlainObject(params.metadata, 'metadata');
    const entries = Object.entries(metadata);
    if (entries.length > METADATA_LIMITS.maxKeys) {
      throw new RangeError(`metadata must have at most ${METADATA_LIMITS.maxKeys} keys`);
    }
    for (const [key, value] of entries) {
      checkMetadataKey(key, 'metadata');
      const name = `metadata[${JSON.stringify(key)}]`;
      if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
      checkMetadataValueLength(value, name);
    }
    body.metadata = params.metadata;
  }
  if (params.session !== undefined) body.session = requirePlainObject(params.session, 'session') as SessionSpec;
  return JSON.stringify(body);
}

export function createEnvironmentBody(params: CreateEnvironmentParams): string {
  requirePlainObject(params, 'createEnvironment params');
  const name = requireString(params.name, 'name');
  return JSON.stringify({ name, config: { type: 'self_hosted' } });
}

function checkMetadataKey(key: string, name: string): void {
  if (key.length > METADATA_LIMITS.maxKeyLength) {
    throw new RangeError(`${name} keys must be at most ${METADATA_LIMITS.maxKeyLength} characters`);
  }
}

function checkMetadataValueLength(value: string, name: string): void {
  if (value.length > METADATA_LIMITS.maxValueLength) {
    throw new RangeError(`${name} must be at most ${METADATA_LIMITS.maxValueLength} characters`);
  }
}
