/**
 * The semantics of the Work API live behind this interface; the HTTP layer only authenticates,
 * validates and translates. Every implementation (memory now, Redis later) passes the same store
 * test suite and the same model-based property test.
 *
 * All inputs reaching a store are already validated for shape and range by the HTTP layer (or
 * by the typed caller); the store decides everything that depends on state, and reports it by
 * throwing a `StoreError`.
 */
import type {
  HeartbeatResponse,
  Metadata,
  MetadataPatch,
  WorkData,
  Work,
  WorkListPage,
  WorkQueueStats,
} from '@envworker/core';

/** An environment as the local control plane keeps it. `key` is its environment key. */
export interface EnvironmentRecord {
  readonly id: string;
  readonly name: string;
  readonly key: string;
  readonly created_at: string;
}

/** Who a bearer credential belongs to. */
export type BearerPrincipal =
  /** An environment key: may poll, ack, heartbeat and stop any item of its environment. */
  | { readonly kind: 'environment'; readonly environmentId: string }
  /**
   * A sessions token: may heartbeat, stop and get its own item only. A token stays resolvable
   * after its item is stopped (every call on a stopped item is then read-only or a 409, so its
   * holder learns the item ended), and stops resolving when the item is re-delivered or re-queued.
   */
  | { readonly kind: 'session'; readonly environmentId: string; readonly workId: string };

export interface CreateEnvironmentInput {
  /** `env_` + 24 base62 characters; generated when omitted. */
  readonly id?: string;
  /** The environment key; generated when omitted. */
  readonly key?: string;
  readonly name: string;
}

export interface EnqueueInput {
  /** Omitted: a session with a generated `sesn_…` id. A given `type` without `id` gets a generated id. */
  readonly data?: { readonly type: WorkData['type']; readonly id?: string };
  readonly metadata?: Metadata;
}

export interface PollInput {
  /** The `Anthropic-Worker-ID` header, when sent; counted in `workers_polling`. */
  readonly workerId?: string;
  /** 1–999: wait up to this long for a deliverable item; omitted: answer at once. */
  readonly blockMs?: number;
  /** ≥ 1: a delivered, unacked item older than this is deliverable again. Default 5000. */
  readonly reclaimOlderThanMs?: number;
  /** Aborted when the caller goes away: a waiting poll then takes nothing and resolves `null`. */
  readonly signal?: AbortSignal;
}

export interface HeartbeatInput {
  /** `NO_HEARTBEAT` or an echoed `last_heartbeat`; omitted: unconditional beat. */
  readonly expectedLastHeartbeat?: string;
  /** Clamped to the store's [min, max]; omitted: the default TTL. */
  readonly desiredTtlSeconds?: number;
}

export interface ListInput {
  /** 1–100. */
  readonly limit: number;
  /** A `next_page` cursor from an earlier page; a malformed one is a 400. */
  readonly page?: string;
}

/** Lease TTL policy, in seconds. */
export interface LeasePolicy {
  readonly minTtlSeconds: number;
  readonly maxTtlSeconds: number;
  readonly defaultTtlSeconds: number;
}

/** The Work API's state machine and queue, for any number of environments. */
export interface WorkStore {
  createEnvironment(input: CreateEnvironmentInput): Promise<EnvironmentRecord>;
  getEnvironment(environmentId: string): Promise<EnvironmentRecord | null>;
  /** Resolves an environment key or a sessions token; `null` when unknown or revoked. */
  resolveBearer(credential: string): Promise<BearerPrincipal | null>;

  enqueue(environmentId: string, input: EnqueueInput): Promise<Work>;
  poll(environmentId: string, input: PollInput): Promise<Work | null>;
  get(environmentId: string, workId: string): Promise<Work>;
  ack(environmentId: string, workId: string): Promise<Work>;
  heartbeat(environmentId: string, workId: string, input: HeartbeatInput): Promise<HeartbeatResponse>;
  stop(environmentId: string, workId: string, input: { readonly force: boolean }): Promise<Work>;
  list(environmentId: string, input: ListInput): Promise<WorkListPage>;
  update(environmentId: string, workId: string, patch: MetadataPatch): Promise<Work>;
  stats(environmentId: string): Promise<WorkQueueStats>;

  /** Resolves when the store can serve requests (what `/readyz` reports). */
  ping(): Promise<void>;
  /** Releases timers and connections; waiting polls resolve `null`. */
  close(): Promise<void>;
}
