/**
 * The embedded store: the whole Work API state machine of contract §4 in one process's memory.
 *
 * Time comes from the injected clock only. Leases expire both lazily (every operation first
 * applies the expiries that fell due) and on a clock timer at the earliest expiry, so a waiting
 * long poll sees a re-queued item without anybody calling in. Long polls wait on promises that an
 * enqueue, a re-queue or a reclaim timer resolves; nothing polls in a loop.
 */
import {
  encodeWorkSecret,
  formatTimestamp,
  ID_PREFIXES,
  NO_HEARTBEAT,
  POLL_LIMITS,
  LIST_LIMITS,
  systemClock,
  type Clock,
  type HeartbeatResponse,
  type MetadataPatch,
  type TimerHandle,
  type Work,
  type WorkData,
  type WorkListPage,
  type WorkQueueStats,
  type WorkState,
} from '@envworker/core';
import { CREDENTIAL_PREFIXES, newCredential, newId } from '../ids.js';
import { IndexedMinHeap, type HeapEntry } from './indexed-min-heap.js';
import { clampTtl, resolveLeasePolicy } from './lease-policy.js';
import { compareNewestFirst, decodeListCursor, encodeListCursor } from './list-cursor.js';
import { applyMetadataPatch, metadataFromInput } from './metadata.js';
import { MonotonicStamp } from './monotonic-stamp.js';
import { PollWaiters, type PollWaiter } from './poll-waiters.js';
import { RecentWorkers } from './recent-workers.js';
import { StoreError } from './store-error.js';
import { checkEnvironmentInput, workDataFromInput } from './store-input.js';
import { WorkQueue } from './work-queue.js';
import type {
  BearerPrincipal,
  CreateEnvironmentInput,
  EnqueueInput,
  EnvironmentRecord,
  HeartbeatInput,
  LeasePolicy,
  ListInput,
  PollInput,
  WorkStore,
} from './work-store.js';

/** Options of {@link MemoryWorkStore}. */
export interface MemoryWorkStoreOptions {
  /** The time source of timestamps, leases, long polls and reclaims; the system clock by default. */
  readonly clock?: Clock;
  /** Lease TTL bounds and default, in seconds; the contract's 10 / 600 / 120 by default. */
  readonly lease?: Partial<LeasePolicy>;
}

interface Lease {
  /** When the lease ends, in microseconds. */
  expiresAt: number;
  /** The TTL that was applied to it, in seconds. */
  ttlSeconds: number;
  readonly entry: HeapEntry<Item>;
}

/** A work item as the store keeps it; times are microseconds since the epoch. */
interface Item {
  readonly id: string;
  readonly environmentId: string;
  readonly data: WorkData;
  readonly createdAt: number;
  state: WorkState;
  acknowledgedAt: number | null;
  startedAt: number | null;
  /** The fencing token of the lease, also reported as `latest_heartbeat_at`. */
  lastHeartbeat: number | null;
  stopRequestedAt: number | null;
  stoppedAt: number | null;
  metadata: Map<string, string>;
  queueSeq: number;
  queuedAt: number;
  deliveredAt: number | null;
  /** The current sessions token; `null` before the first delivery and after a re-queue. */
  token: string | null;
  /** Held while `starting`, `active` or `stopping`. */
  lease: Lease | null;
}

interface Environment {
  readonly record: EnvironmentRecord;
  /** Every item, oldest first (ascending `created_at`, which the stamp makes unique). */
  readonly items: Item[];
  readonly byId: Map<string, Item>;
  readonly queue: WorkQueue<Item>;
  readonly waiters: PollWaiters<Work>;
  readonly workers: RecentWorkers;
  reclaimTimer: { readonly handle: TimerHandle; readonly dueAt: number } | undefined;
}

/**
 * A {@link WorkStore} held in memory: one process, nothing to install, lost on exit. Every
 * hot path (enqueue, poll, ack, heartbeat, stop, get) is O(1) or O(log n) in the number of items.
 *
 * @example
 * ```ts
 * const store = new MemoryWorkStore({ clock: new VirtualClock(Date.now()) });
 * const env = await store.createEnvironment({ name: 'dev' });
 * await store.enqueue(env.id, {});
 * const work = await store.poll(env.id, { workerId: 'w1' });
 * ```
 */
export class MemoryWorkStore implements WorkStore {
  readonly #clock: Clock;
  readonly #policy: LeasePolicy;
  readonly #stamp: MonotonicStamp;
  readonly #environments = new Map<string, Environment>();
  readonly #environmentKeys = new Map<string, Environment>();
  /** Current sessions tokens (revoked ones are deleted). */
  readonly #tokens = new Map<string, Item>();
  /** Every work id ever issued, so that none is issued twice. */
  readonly #workIds = new Set<string>();
  /** Leases of `starting`, `active` and `stopping` items, soonest expiry on top. */
  readonly #leases = new IndexedMinHeap<Item>();
  #expiryTimer: { readonly handle: TimerHandle; readonly dueAt: number } | undefined;
  #queueSeq = 0;
  #closed = false;

  constructor(options: MemoryWorkStoreOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#policy = resolveLeasePolicy(options.lease);
    this.#stamp = new MonotonicStamp(this.#clock);
  }

  async createEnvironment(input: CreateEnvironmentInput): Promise<EnvironmentRecord> {
    this.#open();
    checkEnvironmentInput(input);
    const id = input.id ?? this.#unusedId(ID_PREFIXES.environment, (candidate) => this.#environments.has(candidate));
    if (this.#environments.has(id)) throw StoreError.conflict(`environment ${id} already exists`);
    const key = input.key ?? newCredential(CREDENTIAL_PREFIXES.environmentKey);
    if (this.#environmentKeys.has(key) || this.#tokens.has(key)) throw StoreError.conflict('key: already in use');
    const record: EnvironmentRecord = { id, name: input.name, key, created_at: formatTimestamp(this.#stamp.next()) };
    const environment: Environment = {
      record,
      items: [],
      byId: new Map(),
      queue: new WorkQueue(),
      waiters: new PollWaiters(),
      workers: new RecentWorkers(),
      reclaimTimer: undefined,
    };
    this.#environments.set(id, environment);
    this.#environmentKeys.set(key, environment);
    return record;
  }

  async getEnvironment(environmentId: string): Promise<EnvironmentRecord | null> {
    this.#open();
    return this.#environments.get(environmentId)?.record ?? null;
  }

  async resolveBearer(credential: string): Promise<BearerPrincipal | null> {
    this.#tick();
    const environment = this.#environmentKeys.get(credential);
    if (environment !== undefined) return { kind: 'environment', environmentId: environment.record.id };
    const item = this.#tokens.get(credential);
    if (item === undefined) return null;
    return { kind: 'session', environmentId: item.environmentId, workId: item.id };
  }

  async enqueue(environmentId: string, input: EnqueueInput): Promise<Work> {
    this.#tick();
    const environment = this.#environment(environmentId);
    const data = workDataFromInput(input.data);
    const metadata = metadataFromInput(input.metadata);
    const id = this.#unusedId(ID_PREFIXES.work, (candidate) => this.#workIds.has(candidate));
    this.#workIds.add(id);
    const createdAt = this.#stamp.next();
    const item: Item = {
      id,
      environmentId,
      data,
      createdAt,
      state: 'queued',
      acknowledgedAt: null,
      startedAt: null,
      lastHeartbeat: null,
      stopRequestedAt: null,
      stoppedAt: null,
      metadata,
      queueSeq: 0,
      queuedAt: createdAt,
      deliveredAt: null,
      token: null,
      lease: null,
    };
    environment.items.push(item);
    environment.byId.set(id, item);
    environment.queue.append(item, ++this.#queueSeq, createdAt);
    const work = toWork(item, null);
    this.#serveWaiters(environment);
    return work;
  }

  async poll(environmentId: string, input: PollInput): Promise<Work | null> {
    this.#tick();
    const environment = this.#environment(environmentId);
    const { blockMs, workerId, signal } = input;
    if (blockMs !== undefined && !(Number.isSafeInteger(blockMs) && blockMs >= 1 && blockMs <= POLL_LIMITS.maxBlockMs)) {
      throw StoreError.invalid(`block_ms: must be an integer between 1 and ${POLL_LIMITS.maxBlockMs}`);
    }
    const reclaimMs = input.reclaimOlderThanMs ?? POLL_LIMITS.defaultReclaimOlderThanMs;
    if (!Number.isSafeInteger(reclaimMs) || reclaimMs < 1) {
      throw StoreError.invalid('reclaim_older_than_ms: must be an integer ≥ 1');
    }
    const reclaimMicros = reclaimMs * 1000;
    const now = this.#stamp.nowMicros();
    if (workerId !== undefined) environment.workers.record(workerId, now);

    const item = environment.queue.nextDeliverable(now, reclaimMicros);
    if (item !== undefined) {
      const work = this.#deliver(environment, item);
      this.#armReclaimTimer(environment);
      return work;
    }
    if (blockMs === undefined || signal?.aborted === true) return null;
    return new Promise<Work | null>((resolve) => {
      const waiter: PollWaiter<Work> = {
        reclaimMicros,
        finish: (answer) => {
          this.#clock.clearTimeout(timeout);
          signal?.removeEventListener('abort', giveUp);
          resolve(answer);
        },
      };
      // A poll that times out or is aborted takes nothing: the queue is left as it was.
      const giveUp = (): void => {
        if (!environment.waiters.remove(waiter)) return;
        waiter.finish(null);
        this.#armReclaimTimer(environment);
      };
      const timeout = this.#clock.setTimeout(giveUp, blockMs);
      signal?.addEventListener('abort', giveUp, { once: true });
      environment.waiters.add(waiter);
      this.#armReclaimTimer(environment);
    });
  }

  async get(environmentId: string, workId: string): Promise<Work> {
    this.#tick();
    return toWork(this.#item(environmentId, workId), null);
  }

  async ack(environmentId: string, workId: string): Promise<Work> {
    this.#tick();
    const environment = this.#environment(environmentId);
    const item = this.#item(environmentId, workId);
    switch (item.state) {
      case 'queued': {
        if (item.deliveredAt === null) {
          throw StoreError.conflict(`work ${item.id} is queued and was not delivered by a poll; poll before acknowledging`);
        }
        const now = this.#stamp.next();
        environment.queue.remove(item);
        item.state = 'starting';
        item.acknowledgedAt = now;
        item.deliveredAt = null;
        this.#grantLease(item, now, this.#policy.defaultTtlSeconds);
        return toWork(item, null);
      }
      case 'starting':
      case 'active':
        return toWork(item, null);
      case 'stopping':
      case 'stopped':
        throw StoreError.conflict(`work ${item.id} is ${item.state} and can no longer be acknowledged`);
    }
  }

  async heartbeat(environmentId: string, workId: string, input: HeartbeatInput): Promise<HeartbeatResponse> {
    this.#tick();
    const item = this.#item(environmentId, workId);
    const { expectedLastHeartbeat, desiredTtlSeconds } = input;
    if (expectedLastHeartbeat !== undefined && typeof expectedLastHeartbeat !== 'string') {
      throw StoreError.invalid('expected_last_heartbeat: must be a string');
    }
    if (desiredTtlSeconds !== undefined && !(Number.isSafeInteger(desiredTtlSeconds) && desiredTtlSeconds >= 1)) {
      throw StoreError.invalid('desired_ttl_seconds: must be an integer ≥ 1');
    }

    if (item.state === 'stopped') {
      const last = item.lastHeartbeat ?? (item.stoppedAt as number);
      return { type: 'work_heartbeat', last_heartbeat: formatTimestamp(last), lease_extended: false, state: 'stopped', ttl_seconds: 0 };
    }
    const actual = item.lastHeartbeat === null ? NO_HEARTBEAT : formatTimestamp(item.lastHeartbeat);
    if (expectedLastHeartbeat !== undefined && expectedLastHeartbeat !== actual) {
      throw StoreError.preconditionFailed({
        state: item.state,
        last_heartbeat: item.lastHeartbeat === null ? null : actual,
        lease_extended: false,
        ttl_seconds: item.lease?.ttlSeconds ?? 0,
      });
    }
    if (item.state === 'queued') {
      throw StoreError.conflict(`work ${item.id} is queued and not acknowledged; acknowledge it before heartbeating`);
    }

    const now = this.#stamp.next();
    const ttlSeconds = clampTtl(this.#policy, desiredTtlSeconds);
    item.lastHeartbeat = now;
    if (item.state === 'starting') {
      item.state = 'active';
      item.startedAt = now;
    }
    this.#grantLease(item, now, ttlSeconds);
    return { type: 'work_heartbeat', last_heartbeat: formatTimestamp(now), lease_extended: true, state: item.state, ttl_seconds: ttlSeconds };
  }

  async stop(environmentId: string, workId: string, input: { readonly force: boolean }): Promise<Work> {
    this.#tick();
    const environment = this.#environment(environmentId);
    const item = this.#item(environmentId, workId);
    switch (item.state) {
      case 'queued':
        environment.queue.remove(item);
        item.deliveredAt = null;
        this.#finish(item, this.#stamp.next());
        break;
      case 'starting':
      case 'active': {
        const now = this.#stamp.next();
        item.stopRequestedAt = now;
        if (input.force) this.#finish(item, now);
        else item.state = 'stopping';
        break;
      }
      case 'stopping':
        this.#finish(item, this.#stamp.next());
        break;
      case 'stopped':
        throw StoreError.conflict(`work ${item.id} is already stopped`);
    }
    return toWork(item, null);
  }

  async list(environmentId: string, input: ListInput): Promise<WorkListPage> {
    this.#tick();
    const environment = this.#environment(environmentId);
    const { limit, page } = input;
    if (!(Number.isSafeInteger(limit) && limit >= 1 && limit <= LIST_LIMITS.maxLimit)) {
      throw StoreError.invalid(`limit: must be an integer between 1 and ${LIST_LIMITS.maxLimit}`);
    }
    const items = environment.items;
    // `end`: how many items come after the cursor in newest-first order (all of them without one).
    let end = items.length;
    if (page !== undefined) {
      const cursor = decodeListCursor(environmentId, page);
      let low = 0;
      let high = items.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        const item = items[middle] as Item;
        if (compareNewestFirst({ createdAtMicros: item.createdAt, id: item.id }, cursor) > 0) low = middle + 1;
        else high = middle;
      }
      end = low;
    }
    const start = Math.max(0, end - limit);
    const data: Work[] = [];
    for (let index = end - 1; index >= start; index -= 1) data.push(toWork(items[index] as Item, null));
    const last = items[start];
    const next_page = start > 0 && last !== undefined ? encodeListCursor(environmentId, { createdAtMicros: last.createdAt, id: last.id }) : null;
    return { data, next_page };
  }

  async update(environmentId: string, workId: string, patch: MetadataPatch): Promise<Work> {
    this.#tick();
    const item = this.#item(environmentId, workId);
    item.metadata = applyMetadataPatch(item.metadata, patch);
    return toWork(item, null);
  }

  async stats(environmentId: string): Promise<WorkQueueStats> {
    this.#tick();
    const environment = this.#environment(environmentId);
    const oldest = environment.queue.oldestQueuedAt();
    return {
      type: 'work_queue_stats',
      depth: environment.queue.undeliveredCount,
      pending: environment.queue.pendingCount,
      oldest_queued_at: oldest === undefined ? null : formatTimestamp(oldest),
      workers_polling: environment.workers.count(this.#stamp.nowMicros()),
    };
  }

  async ping(): Promise<void> {
    this.#open();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#expiryTimer !== undefined) this.#clock.clearTimeout(this.#expiryTimer.handle);
    this.#expiryTimer = undefined;
    for (const environment of this.#environments.values()) {
      if (environment.reclaimTimer !== undefined) this.#clock.clearTimeout(environment.reclaimTimer.handle);
      environment.reclaimTimer = undefined;
      for (const waiter of environment.waiters) {
        environment.waiters.remove(waiter);
        waiter.finish(null);
      }
    }
  }

  #open(): void {
    if (this.#closed) throw StoreError.unavailable('the work store is closed');
  }

  /** Runs before every operation: refuses once closed, and applies the lease expiries that fell due. */
  #tick(): void {
    this.#open();
    this.#expireLeases();
  }

  #environment(environmentId: string): Environment {
    const environment = this.#environments.get(environmentId);
    if (environment === undefined) throw StoreError.notFound(`environment ${environmentId} not found`);
    return environment;
  }

  #item(environmentId: string, workId: string): Item {
    const item = this.#environment(environmentId).byId.get(workId);
    if (item === undefined) throw StoreError.notFound(`work ${workId} not found in environment ${environmentId}`);
    return item;
  }

  #unusedId(prefix: string, taken: (candidate: string) => boolean): string {
    for (;;) {
      const candidate = newId(prefix);
      if (!taken(candidate)) return candidate;
    }
  }

  /**
   * Starts or extends the lease of an item to `from + ttl`, where `from` is the call's timestamp
   * (`acknowledged_at` or `last_heartbeat`), so a lease's end is exactly what a client can compute
   * from what it was told.
   */
  #grantLease(item: Item, from: number, ttlSeconds: number): void {
    const expiresAt = from + ttlSeconds * 1_000_000;
    if (item.lease === null) {
      item.lease = { expiresAt, ttlSeconds, entry: this.#leases.push(item, expiresAt) };
    } else {
      item.lease.expiresAt = expiresAt;
      item.lease.ttlSeconds = ttlSeconds;
      this.#leases.update(item.lease.entry, expiresAt);
    }
    this.#armExpiryTimer();
  }

  /** Moves an item to `stopped`. Its sessions token keeps resolving, so its holder learns the end. */
  #finish(item: Item, now: number): void {
    if (item.lease !== null) this.#leases.remove(item.lease.entry);
    item.lease = null;
    item.state = 'stopped';
    item.stoppedAt = now;
  }

  #revokeToken(item: Item): void {
    if (item.token !== null) this.#tokens.delete(item.token);
    item.token = null;
  }

  /** Hands an item to a poll: a fresh sessions token, the earlier one revoked. */
  #deliver(environment: Environment, item: Item): Work {
    this.#revokeToken(item);
    const token = newCredential(CREDENTIAL_PREFIXES.sessionsToken);
    item.token = token;
    this.#tokens.set(token, item);
    environment.queue.markDelivered(item, this.#stamp.nowMicros());
    return toWork(item, encodeWorkSecret({ sessions_token: token }));
  }

  /** Applies every lease expiry that fell due: starting/active items are re-queued, stopping ones stop. */
  #expireLeases(): void {
    const now = this.#stamp.nowMicros();
    const requeuedIn = new Set<Environment>();
    for (let top = this.#leases.peek(); top !== undefined && top.key <= now; top = this.#leases.peek()) {
      const item = top.value;
      if (item.state === 'stopping') {
        this.#finish(item, this.#stamp.next());
        continue;
      }
      this.#leases.remove(top);
      item.lease = null;
      this.#revokeToken(item);
      item.state = 'queued';
      item.acknowledgedAt = null;
      item.startedAt = null;
      item.lastHeartbeat = null;
      const environment = this.#environment(item.environmentId);
      environment.queue.append(item, ++this.#queueSeq, this.#stamp.next());
      requeuedIn.add(environment);
    }
    for (const environment of requeuedIn) this.#serveWaiters(environment);
    this.#armExpiryTimer();
  }

  /** Gives waiting polls, first come first served, whatever is deliverable to each. */
  #serveWaiters(environment: Environment): void {
    const { waiters, queue } = environment;
    const now = this.#stamp.nowMicros();
    for (const waiter of waiters) {
      if (!queue.hasDeliverable(now, waiters.minReclaimMicros())) break;
      const item = queue.nextDeliverable(now, waiter.reclaimMicros);
      if (item === undefined) continue;
      waiters.remove(waiter);
      waiter.finish(this.#deliver(environment, item));
    }
    this.#armReclaimTimer(environment);
  }

  /**
   * Keeps one clock timer at or before the earliest lease expiry. A timer that fires early (the
   * lease was extended meanwhile) just re-arms, which is cheaper than re-arming on every beat.
   */
  #armExpiryTimer(): void {
    if (this.#closed) return;
    const top = this.#leases.peek();
    if (top === undefined) {
      if (this.#expiryTimer !== undefined) this.#clock.clearTimeout(this.#expiryTimer.handle);
      this.#expiryTimer = undefined;
      return;
    }
    if (this.#expiryTimer !== undefined && this.#expiryTimer.dueAt <= top.key) return;
    if (this.#expiryTimer !== undefined) this.#clock.clearTimeout(this.#expiryTimer.handle);
    this.#expiryTimer = this.#schedule(top.key, () => {
      this.#expiryTimer = undefined;
      this.#expireLeases();
    });
  }

  /**
   * Keeps one clock timer per environment at or before the moment its oldest pending delivery
   * becomes reclaimable by some waiting poll, so that the poll is served on time.
   */
  #armReclaimTimer(environment: Environment): void {
    if (this.#closed) return;
    const oldestDelivery = environment.queue.oldestDeliveryAt();
    const current = environment.reclaimTimer;
    if (environment.waiters.size === 0 || oldestDelivery === undefined) {
      if (current !== undefined) this.#clock.clearTimeout(current.handle);
      environment.reclaimTimer = undefined;
      return;
    }
    // Reclaimable once strictly older than the reclaim age: one microsecond past it.
    const dueAt = oldestDelivery + environment.waiters.minReclaimMicros() + 1;
    if (current !== undefined && current.dueAt <= dueAt) return;
    if (current !== undefined) this.#clock.clearTimeout(current.handle);
    environment.reclaimTimer = this.#schedule(dueAt, () => {
      environment.reclaimTimer = undefined;
      this.#expireLeases();
      this.#serveWaiters(environment);
    });
  }

  /** Schedules `fn` on the clock at `dueAt` microseconds (at least 1 ms ahead, so it cannot spin). */
  #schedule(dueAt: number, fn: () => void): { handle: TimerHandle; dueAt: number } {
    const now = this.#stamp.nowMicros();
    const delayMs = Math.max(1, Math.ceil((dueAt - now) / 1000));
    return { handle: this.#clock.setTimeout(fn, delayMs), dueAt: now + delayMs * 1000 };
  }
}

function timestampOrNull(micros: number | null): string | null {
  return micros === null ? null : formatTimestamp(micros);
}

/** The wire form of an item; `secret` is non-null only in a poll's answer. */
function toWork(item: Item, secret: string | null): Work {
  return {
    type: 'work',
    id: item.id,
    environment_id: item.environmentId,
    data: { type: item.data.type, id: item.data.id },
    state: item.state,
    created_at: formatTimestamp(item.createdAt),
    acknowledged_at: timestampOrNull(item.acknowledgedAt),
    started_at: timestampOrNull(item.startedAt),
    latest_heartbeat_at: timestampOrNull(item.lastHeartbeat),
    stop_requested_at: timestampOrNull(item.stopRequestedAt),
    stopped_at: timestampOrNull(item.stoppedAt),
    metadata: Object.fromEntries(item.metadata),
    secret,
  };
}
