/**
 * The Redis store: the Work API state machine of contract §4 on Redis Streams, so that several
 * control-plane replicas serve one queue. Same semantics as the memory store; the scripts
 * (scripts.ts) hold every state transition and say how time and lease expiry are handled, and
 * keys.ts gives the key layout: every key of one environment shares its hash tag and every
 * script declares every key it touches, so the store runs on one server or on a Redis Cluster.
 *
 * A poll is one script on the environment's keys alone (keys.ts says how). Where a script would
 * have to find items before touching them, the work is split in two: a list reads a page's ids
 * (`listPage`), then the items (`listItems`); lease expiry is the `due` answer of any script, then
 * one `expireLease` per item, which re-checks that the lease is still due, so a replica racing
 * another one expires nothing twice.
 *
 * Deviations from a literal "XAUTOCLAIM then XREADGROUP BLOCK": reclaim age and lease expiry are
 * decided on the injected clock (XAUTOCLAIM's idle time is Redis's clock, which a virtual clock
 * cannot move), so a reclaim is an `XCLAIM` with min-idle 0 of the pending entry the script chose;
 * and a long poll waits in this process on the injected clock, woken by pub/sub and by a timer,
 * instead of holding a blocking connection. Waiting polls therefore need no connection pool; they
 * are bounded by `maxWaitingPolls`, and a poll beyond the bound is refused with 529. Stats take
 * `pending` from the group's pending list and `depth` as the stream length minus it (acked and
 * stopped entries are deleted from the stream, and `XDEL` leaves `XINFO GROUPS`' lag undefined);
 * `oldest_queued_at` comes from the stream's first entry, `workers_polling` from a sorted set.
 *
 * Known limits: a reclaim walks the environment's pending list, but only when some delivery is
 * old enough (normally a handful of entries: a delivered item is acked at once). A waiting poll
 * whose deadline passes while a retry for it is in flight may have its item delivered to nobody;
 * the item is then pending and reclaimable after the usual reclaim age, as if its poller had died
 * before acking.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  encodeWorkSecret,
  formatTimestamp,
  ID_PREFIXES,
  LIST_LIMITS,
  millisToMicros,
  NO_HEARTBEAT,
  parseTimestamp,
  POLL_LIMITS,
  systemClock,
  type Clock,
  type HeartbeatResponse,
  type LeaseState,
  type MetadataPatch,
  type Work,
  type WorkListPage,
  type WorkQueueStats,
  type WorkState,
} from '@envworker/core';
import { CREDENTIAL_PREFIXES, isId, newCredential, newId } from '../../ids.js';
import { clampTtl, resolveLeasePolicy } from '../lease-policy.js';
import { decodeListCursor, encodeListCursor } from '../list-cursor.js';
import { applyMetadataPatch, metadataFromInput } from '../metadata.js';
import { StoreError } from '../store-error.js';
import { checkEnvironmentInput, workDataFromInput } from '../store-input.js';
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
} from '../work-store.js';
import { decodeMetadata, encodeMetadata, fieldsFromReply, microsField, workFromFields, type ItemFields } from './item-codec.js';
import { openClients, redisTarget, type RedisClient, type RedisClients, type RedisClusterOptions } from './connection.js';
import { EnvironmentKeys, GlobalKeys } from './keys.js';
import { EnvironmentWaiters, type RedisPollWaiter } from './poll-waiting.js';
import { SCRIPTS, type ScriptName } from './scripts.js';

/** Options of {@link RedisWorkStore.connect}: `url` or `cluster`, not both. */
export interface RedisWorkStoreOptions {
  /** One Redis server, as a `redis://` or `rediss://` URL, e.g. `redis://127.0.0.1:6379/0`. */
  readonly url?: string;
  /** A Redis Cluster, reached through some of its nodes. */
  readonly cluster?: RedisClusterOptions;
  /** Prefix of every key (and pub/sub channel), so several deployments can share one Redis. Default `envworker:`. */
  readonly keyPrefix?: string;
  /** The time source of timestamps, leases, long polls and reclaims; the system clock by default. */
  readonly clock?: Clock;
  /** Lease TTL bounds and default, in seconds; the contract's 10 / 600 / 120 by default. */
  readonly lease?: Partial<LeasePolicy>;
  /** Long polls allowed to wait in this process at once; a poll beyond it is answered 529. Default 10,000. */
  readonly maxWaitingPolls?: number;
  /** How long to wait for a connection at start, in milliseconds. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** How long a command may take before the call fails with 503 (a hung Redis), in milliseconds. Default 2000. */
  readonly commandTimeoutMs?: number;
}

const UNAVAILABLE = 'the Redis work store is unreachable; retry shortly';
/**
 * How long a replica waits for another that is creating the same environment to write its record:
 * real time (another process's write), not the store's clock, which may be virtual in tests.
 */
const RECORD_WAIT_ATTEMPTS = 40;
const RECORD_WAIT_STEP_MS = 25;

type Reply = readonly unknown[];
type ScriptCaller = (numberOfKeys: number, ...keysAndArgs: string[]) => Promise<unknown>;

/**
 * A {@link WorkStore} on Redis 7 or later, one server or a Redis Cluster. Replicas pointing at
 * the same Redis and prefix serve the same environments. While Redis is unreachable every call
 * fails with a 503 (a `StoreError`), `ping` rejects, and the client reconnects in the background.
 *
 * @example
 * ```ts
 * const store = await RedisWorkStore.connect({ url: 'redis://127.0.0.1:6379' });
 * // or: RedisWorkStore.connect({ cluster: { nodes: ['redis://10.0.0.1:6379', 'redis://10.0.0.2:6379'] } })
 * const env = await store.createEnvironment({ name: 'dev' });
 * ```
 */
export class RedisWorkStore implements WorkStore {
  readonly #clients: RedisClients;
  readonly #redis: RedisClient;
  readonly #prefix: string;
  readonly #global: GlobalKeys;
  readonly #clock: Clock;
  readonly #policy: LeasePolicy;
  readonly #maxWaitingPolls: number;
  readonly #waiting = new Map<string, EnvironmentWaiters>();
  /** Every long poll in progress (registered as a waiter or still on its first attempt), for `close`. */
  readonly #longPolls = new Set<() => void>();
  #closed = false;

  private constructor(clients: RedisClients, options: RedisWorkStoreOptions, policy: LeasePolicy) {
    this.#clients = clients;
    this.#redis = clients.commands;
    this.#prefix = options.keyPrefix ?? 'envworker:';
    this.#global = new GlobalKeys(this.#prefix);
    this.#clock = options.clock ?? systemClock;
    this.#policy = policy;
    this.#maxWaitingPolls = options.maxWaitingPolls ?? 10_000;
  }

  /** Connects (commands and pub/sub) and defines the scripts; rejects with a `TypeError` naming a bad option. */
  static async connect(options: RedisWorkStoreOptions): Promise<RedisWorkStore> {
    const target = redisTarget(options);
    const prefix = options.keyPrefix ?? 'envworker:';
    if (typeof prefix !== 'string' || /[{}\s]/.test(prefix)) throw new TypeError('redis.keyPrefix: must be a string without braces or spaces');
    const { maxWaitingPolls } = options;
    if (maxWaitingPolls !== undefined && !(Number.isSafeInteger(maxWaitingPolls) && maxWaitingPolls >= 1)) {
      throw new TypeError('redis.maxWaitingPolls: must be an integer ≥ 1');
    }
    const policy = resolveLeasePolicy(options.lease);
    const clients = await openClients(target, { connectTimeoutMs: options.connectTimeoutMs ?? 5000, commandTimeoutMs: options.commandTimeoutMs ?? 2000 });
    // The number of keys is given per call: list declares as many items as its page holds.
    for (const name of Object.keys(SCRIPTS) as ScriptName[]) clients.commands.defineCommand(scriptCommand(name), { lua: SCRIPTS[name].lua });
    const store = new RedisWorkStore(clients, options, policy);
    clients.subscriber.on('pmessage', (_pattern: string, channel: string) => store.#onWake(channel));
    try {
      await clients.subscriber.psubscribe(store.#global.wakePattern);
    } catch (error) {
      await clients.close();
      throw StoreError.unavailable(`redis store: cannot subscribe to wake-ups: ${(error as Error).message}`);
    }
    return store;
  }

  async createEnvironment(input: CreateEnvironmentInput): Promise<EnvironmentRecord> {
    this.#open();
    checkEnvironmentInput(input);
    return this.#guard(async () => {
      const id = input.id ?? newId(ID_PREFIXES.environment);
      const keys = new EnvironmentKeys(this.#prefix, id);
      if ((await this.#redis.exists(keys.record)) === 1) throw StoreError.conflict(`environment ${id} already exists`);
      const key = input.key ?? newCredential(CREDENTIAL_PREFIXES.environmentKey);
      if ((await this.#redis.exists(this.#global.sessionsToken(key))) === 1) throw StoreError.conflict('key: already in use');
      const keyIndex = this.#global.environmentKey(key);
      if ((await this.#redis.set(keyIndex, id, 'NX')) !== 'OK') {
        // Another replica creating this same environment holds the key and writes the record next:
        // answer as if it were done, once it is, so that the caller finds the environment.
        if ((await this.#redis.get(keyIndex)) === id && (await this.#recordAppears(keys.record))) throw StoreError.conflict(`environment ${id} already exists`);
        throw StoreError.conflict('key: already in use');
      }
      const reply = await this.#call('createEnvironment', keys.scriptKeys([]), [this.#now(), input.name, key, id]);
      if (reply[0] !== 'ok') {
        await this.#redis.del(keyIndex);
        throw StoreError.conflict(`environment ${id} already exists`);
      }
      await this.#redis.sadd(this.#global.environments, id);
      return { id, name: input.name, key, created_at: formatTimestamp(Number(reply[1])) };
    });
  }

  /** Whether the record at `key` exists within about a second (another process is writing it). */
  async #recordAppears(key: string): Promise<boolean> {
    for (let attempt = 0; attempt < RECORD_WAIT_ATTEMPTS; attempt += 1) {
      if ((await this.#redis.exists(key)) === 1) return true;
      await sleep(RECORD_WAIT_STEP_MS);
    }
    return false;
  }

  async getEnvironment(environmentId: string): Promise<EnvironmentRecord | null> {
    this.#open();
    return this.#guard(async () => {
      const record = await this.#redis.hgetall(new EnvironmentKeys(this.#prefix, environmentId).record);
      if (record['id'] === undefined) return null;
      return { id: record['id'], name: record['name'] ?? '', key: record['key'] ?? '', created_at: formatTimestamp(Number(record['created_at'])) };
    });
  }

  async resolveBearer(credential: string): Promise<BearerPrincipal | null> {
    this.#open();
    return this.#guard(async () => {
      const environmentId = await this.#redis.get(this.#global.environmentKey(credential));
      if (environmentId !== null) return { kind: 'environment', environmentId };
      const indexKey = this.#global.sessionsToken(credential);
      const target = await this.#redis.get(indexKey);
      if (target === null) return null;
      const reply = await this.#run('resolveToken', target, [], [credential]);
      if (reply[0] === 'ok') return { kind: 'session', environmentId: target, workId: String(reply[1]) };
      // Revoked by a re-delivery or a re-queue: the index entry is stale.
      await this.#redis.del(indexKey);
      return null;
    });
  }

  async enqueue(environmentId: string, input: EnqueueInput): Promise<Work> {
    this.#open();
    const data = workDataFromInput(input.data);
    const metadata = encodeMetadata(metadataFromInput(input.metadata));
    const wake = new EnvironmentKeys(this.#prefix, environmentId).wakeChannel;
    const work = await this.#guard(async () => {
      for (;;) {
        const workId = newId(ID_PREFIXES.work);
        const reply = await this.#run('enqueue', environmentId, [workId], [workId, wake, data.type, data.id, metadata]);
        if (reply[0] === 'duplicate') continue;
        return workFromFields(environmentId, this.#itemOf(reply, environmentId), null);
      }
    });
    this.#wake(environmentId);
    return work;
  }

  async poll(environmentId: string, input: PollInput): Promise<Work | null> {
    this.#open();
    const { blockMs, workerId, signal } = input;
    if (blockMs !== undefined && !(Number.isSafeInteger(blockMs) && blockMs >= 1 && blockMs <= POLL_LIMITS.maxBlockMs)) {
      throw StoreError.invalid(`block_ms: must be an integer between 1 and ${POLL_LIMITS.maxBlockMs}`);
    }
    const reclaimMs = input.reclaimOlderThanMs ?? POLL_LIMITS.defaultReclaimOlderThanMs;
    if (!Number.isSafeInteger(reclaimMs) || reclaimMs < 1) {
      throw StoreError.invalid('reclaim_older_than_ms: must be an integer ≥ 1');
    }
    const reclaimMicros = reclaimMs * 1000;
    if (blockMs === undefined || signal?.aborted === true) {
      const taken = await this.#take(environmentId, reclaimMicros, workerId);
      return taken.work;
    }
    if (this.#longPolls.size >= this.#maxWaitingPolls) {
      throw StoreError.overloaded(`too many long polls are waiting (${this.#maxWaitingPolls}); retry shortly`, 1);
    }
    // The deadline starts now, on the injected clock, before any round trip to Redis.
    const waiting = this.#waitersOf(environmentId);
    const wakesBefore = waiting.wakes;
    let settled = false;
    let registered: RedisPollWaiter | undefined;
    let resolveAnswer: (answer: Work | null) => void = () => undefined;
    const answer = new Promise<Work | null>((resolve) => (resolveAnswer = resolve));
    const finish = (work: Work | null): void => {
      if (settled) return;
      settled = true;
      this.#longPolls.delete(giveUp);
      this.#clock.clearTimeout(timeout);
      signal?.removeEventListener('abort', giveUp);
      if (registered !== undefined) waiting.waiters.delete(registered);
      this.#disarmIfIdle(waiting);
      resolveAnswer(work);
    };
    // A poll that times out or is aborted takes nothing: the queue is left as it was.
    const giveUp = (): void => finish(null);
    this.#longPolls.add(giveUp);
    const timeout = this.#clock.setTimeout(giveUp, blockMs);
    signal?.addEventListener('abort', giveUp, { once: true });

    let first: Taken;
    try {
      first = await this.#take(environmentId, reclaimMicros, workerId);
    } catch (error) {
      finish(null);
      throw error;
    }
    if (first.work !== null) {
      finish(first.work);
      return first.work;
    }
    if (settled) return null;
    registered = { reclaimMicros, finish };
    waiting.waiters.add(registered);
    this.#arm(environmentId, waiting, dueOf(first, reclaimMicros));
    if (waiting.wakes !== wakesBefore) void this.#serve(environmentId);
    return answer;
  }

  async get(environmentId: string, workId: string): Promise<Work> {
    this.#open();
    return this.#guard(async () => {
      const reply = await this.#run('get', environmentId, [workId], [workId]);
      return workFromFields(environmentId, this.#itemOf(reply, environmentId, workId), null);
    });
  }

  async ack(environmentId: string, workId: string): Promise<Work> {
    this.#open();
    return this.#guard(async () => {
      const reply = await this.#run('ack', environmentId, [workId], [workId, String(this.#policy.defaultTtlSeconds)]);
      if (reply[0] === 'undelivered') {
        throw StoreError.conflict(`work ${workId} is queued and was not delivered by a poll; poll before acknowledging`);
      }
      if (reply[0] === 'conflict') throw StoreError.conflict(`work ${workId} is ${String(reply[1])} and can no longer be acknowledged`);
      return workFromFields(environmentId, this.#itemOf(reply, environmentId, workId), null);
    });
  }

  async heartbeat(environmentId: string, workId: string, input: HeartbeatInput): Promise<HeartbeatResponse> {
    this.#open();
    const { expectedLastHeartbeat, desiredTtlSeconds } = input;
    if (expectedLastHeartbeat !== undefined && typeof expectedLastHeartbeat !== 'string') {
      throw StoreError.invalid('expected_last_heartbeat: must be a string');
    }
    if (desiredTtlSeconds !== undefined && !(Number.isSafeInteger(desiredTtlSeconds) && desiredTtlSeconds >= 1)) {
      throw StoreError.invalid('desired_ttl_seconds: must be an integer ≥ 1');
    }
    const ttlSeconds = clampTtl(this.#policy, desiredTtlSeconds);
    return this.#guard(async () => {
      const reply = await this.#run('heartbeat', environmentId, [workId], [workId, echoArgument(expectedLastHeartbeat), String(ttlSeconds)]);
      switch (reply[0]) {
        case 'stopped':
          return { type: 'work_heartbeat', last_heartbeat: formatTimestamp(Number(reply[1])), lease_extended: false, state: 'stopped', ttl_seconds: 0 };
        case 'precond': {
          const last = String(reply[2]);
          const state: LeaseState = {
            state: String(reply[1]) as WorkState,
            last_heartbeat: last === '' ? null : formatTimestamp(Number(last)),
            lease_extended: false,
            ttl_seconds: Number(reply[3]),
          };
          throw StoreError.preconditionFailed(state);
        }
        case 'queued':
          throw StoreError.conflict(`work ${workId} is queued and not acknowledged; acknowledge it before heartbeating`);
      }
      const fields = this.#itemOf(reply, environmentId, workId);
      return {
        type: 'work_heartbeat',
        last_heartbeat: formatTimestamp(microsField(fields, 'hb') ?? 0),
        lease_extended: true,
        state: (fields.get('s') ?? 'active') as WorkState,
        ttl_seconds: ttlSeconds,
      };
    });
  }

  async stop(environmentId: string, workId: string, input: { readonly force: boolean }): Promise<Work> {
    this.#open();
    return this.#guard(async () => {
      const reply = await this.#run('stop', environmentId, [workId], [workId, input.force ? '1' : '0']);
      if (reply[0] === 'conflict') throw StoreError.conflict(`work ${workId} is already stopped`);
      return workFromFields(environmentId, this.#itemOf(reply, environmentId, workId), null);
    });
  }

  async list(environmentId: string, input: ListInput): Promise<WorkListPage> {
    this.#open();
    const { limit, page } = input;
    if (!(Number.isSafeInteger(limit) && limit >= 1 && limit <= LIST_LIMITS.maxLimit)) {
      throw StoreError.invalid(`limit: must be an integer between 1 and ${LIST_LIMITS.maxLimit}`);
    }
    const cursor = page === undefined ? undefined : decodeListCursor(environmentId, page);
    return this.#guard(async () => {
      const now = this.#now();
      const ids = await this.#run('listPage', environmentId, [], [String(limit), cursor === undefined ? '' : String(cursor.createdAtMicros), cursor?.id ?? ''], now);
      this.#checkEnvironment(ids, environmentId);
      const workIds = ids.slice(2).map(String);
      const reply = workIds.length === 0 ? ['ok'] : await this.#run('listItems', environmentId, workIds, workIds, now);
      this.#checkEnvironment(reply, environmentId);
      const items = reply.slice(1).map(fieldsFromReply);
      const data = items.map((fields) => workFromFields(environmentId, fields, null));
      const last = items.at(-1);
      const next_page =
        ids[1] === '1' && last !== undefined
          ? encodeListCursor(environmentId, { createdAtMicros: microsField(last, 'c') ?? 0, id: last.get('id') ?? '' })
          : null;
      return { data, next_page };
    });
  }

  async update(environmentId: string, workId: string, patch: MetadataPatch): Promise<Work> {
    this.#open();
    return this.#guard(async () => {
      for (;;) {
        const current = this.#itemOf(await this.#run('get', environmentId, [workId], [workId]), environmentId, workId);
        const before = current.get('m') ?? '[]';
        const after = encodeMetadata(applyMetadataPatch(decodeMetadata(before), patch));
        const reply = await this.#run('setMetadata', environmentId, [workId], [workId, before, after]);
        // Another replica changed the metadata between the read and the write: apply to the new one.
        if (reply[0] === 'changed') continue;
        return workFromFields(environmentId, this.#itemOf(reply, environmentId, workId), null);
      }
    });
  }

  async stats(environmentId: string): Promise<WorkQueueStats> {
    this.#open();
    return this.#guard(async () => {
      const reply = await this.#run('stats', environmentId, [], []);
      this.#checkEnvironment(reply, environmentId);
      const oldest = String(reply[3]);
      return {
        type: 'work_queue_stats',
        depth: Number(reply[1]),
        pending: Number(reply[2]),
        oldest_queued_at: oldest === '' ? null : formatTimestamp(Number(oldest)),
        workers_polling: Number(reply[4]),
      };
    });
  }

  /**
   * Applies every lease expiry that fell due, in every environment. Any number of replicas may run
   * it at the same time: each expiry is one script that re-checks the lease is still due, so an
   * expiry happens once. (Every operation also applies its own environment's expiries first.)
   */
  async sweepExpiredLeases(): Promise<void> {
    this.#open();
    await this.#guard(async () => {
      const environmentIds = await this.#redis.smembers(this.#global.environments);
      for (const environmentId of environmentIds) await this.#run('check', environmentId, [], []);
    });
  }

  async ping(): Promise<void> {
    this.#open();
    await this.#guard(() => this.#clients.ping());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const giveUp of [...this.#longPolls]) giveUp();
    for (const waiting of this.#waiting.values()) {
      this.#disarmIfIdle(waiting);
    }
    this.#waiting.clear();
    await this.#clients.close();
  }

  #open(): void {
    if (this.#closed) throw StoreError.unavailable('the work store is closed');
  }

  /** Runs Redis calls; a lost or refused connection becomes a 503 naming the cause, never the data. */
  async #guard<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw StoreError.unavailable(this.#closed ? 'the work store is closed' : UNAVAILABLE);
    }
  }

  /** Now on the injected clock, in decimal microseconds, as every script takes it (`ARGV[1]`). */
  #now(): string {
    return String(millisToMicros(this.#clock.now()));
  }

  /** One script call: `keys` declared as `KEYS`, `args` as `ARGV`. */
  async #call(name: ScriptName, keys: readonly string[], args: readonly string[]): Promise<Reply> {
    const call = (this.#redis as unknown as Record<string, ScriptCaller>)[scriptCommand(name)];
    if (call === undefined) throw new TypeError(`redis store: script ${name} is not loaded`);
    const reply = await call.call(this.#redis, keys.length, ...keys, ...args);
    if (!Array.isArray(reply)) throw new TypeError(`redis store: script ${name} answered a non-array`);
    return reply as Reply;
  }

  /**
   * Runs an operation's script on the environment and the given items, at one `now` (read once per
   * operation unless given). A `due` answer means leases of the environment fell due: they are
   * expired one by one, soonest first, and the script runs again (see scripts.ts).
   */
  async #run(name: ScriptName, environmentId: string, workIds: readonly string[], args: readonly string[], now = this.#now()): Promise<Reply> {
    // No environment has another id, and such an id could not make a hash tag (a cluster would refuse its keys).
    if (!isId(ID_PREFIXES.environment, environmentId)) return ['noenv'];
    const keys = new EnvironmentKeys(this.#prefix, environmentId);
    for (;;) {
      const reply = await this.#call(name, keys.scriptKeys(workIds), [now, ...args]);
      if (reply[0] !== 'due') return reply;
      for (const workId of (reply[1] as unknown[]).map(String)) {
        await this.#call('expireLease', keys.scriptKeys([workId]), [now, workId, keys.wakeChannel]);
      }
    }
  }

  #checkEnvironment(reply: Reply, environmentId: string): void {
    if (reply[0] === 'noenv') throw StoreError.notFound(`environment ${environmentId} not found`);
  }

  #itemOf(reply: Reply, environmentId: string, workId = ''): ItemFields {
    this.#checkEnvironment(reply, environmentId);
    if (reply[0] === 'nowork') throw StoreError.notFound(`work ${workId} not found in environment ${environmentId}`);
    return fieldsFromReply(reply[1]);
  }

  /** One non-waiting poll (one script): delivers the next deliverable item with a fresh token, or reports when to look again. */
  async #take(environmentId: string, reclaimMicros: number, workerId: string | undefined): Promise<Taken> {
    return this.#guard(async () => {
      const token = newCredential(CREDENTIAL_PREFIXES.sessionsToken);
      const reply = await this.#run('poll', environmentId, [], [String(reclaimMicros), workerId ?? '', token]);
      this.#checkEnvironment(reply, environmentId);
      if (reply[0] === 'none') {
        const leaseEnd = String(reply[1]);
        const oldest = String(reply[2]);
        return { work: null, leaseEnd: leaseEnd === '' ? Infinity : Number(leaseEnd), oldestDelivery: oldest === '' ? Infinity : Number(oldest) };
      }
      // The index only finds the environment; the environment's `tokens` says whether the token is current.
      const previous = String(reply[2]);
      await Promise.all([
        this.#redis.set(this.#global.sessionsToken(token), environmentId),
        previous === '' ? undefined : this.#redis.del(this.#global.sessionsToken(previous)),
      ]);
      return { work: workFromFields(environmentId, fieldsFromReply(reply[1]), encodeWorkSecret({ sessions_token: token })), leaseEnd: Infinity, oldestDelivery: Infinity };
    });
  }

  #waitersOf(environmentId: string): EnvironmentWaiters {
    let waiting = this.#waiting.get(environmentId);
    if (waiting === undefined) {
      waiting = new EnvironmentWaiters();
      this.#waiting.set(environmentId, waiting);
    }
    return waiting;
  }

  #onWake(channel: string): void {
    const environmentId = this.#global.environmentOfChannel(channel);
    if (environmentId !== undefined) this.#wake(environmentId);
  }

  #wake(environmentId: string): void {
    const waiting = this.#waiting.get(environmentId);
    if (waiting === undefined) return;
    waiting.wakes += 1;
    if (waiting.waiters.size > 0) void this.#serve(environmentId);
  }

  /**
   * Offers the environment's queue to its waiting polls, first arrival first, until none can take
   * anything, then arms the timer for the next moment one could. One pass runs at a time.
   */
  async #serve(environmentId: string): Promise<void> {
    const waiting = this.#waiting.get(environmentId);
    if (waiting === undefined || this.#closed) return;
    if (waiting.serving) {
      waiting.again = true;
      return;
    }
    waiting.serving = true;
    try {
      do {
        waiting.again = false;
        let due = Infinity;
        for (const waiter of [...waiting.waiters]) {
          if (!waiting.waiters.has(waiter) || this.#closed) continue;
          const taken = await this.#take(environmentId, waiter.reclaimMicros, undefined);
          if (taken.work !== null) waiter.finish(taken.work);
          else due = Math.min(due, dueOf(taken, waiter.reclaimMicros));
        }
        if (!waiting.again) this.#arm(environmentId, waiting, due);
      } while (waiting.again && !this.#closed);
    } catch {
      // Redis is unreachable: the waiters keep waiting until their deadline (then they answer null).
    } finally {
      waiting.serving = false;
    }
  }

  /** Keeps the environment's timer at or before `dueAt` (µs); a moment already past serves at once. */
  #arm(environmentId: string, waiting: EnvironmentWaiters, dueAt: number): void {
    if (this.#closed || waiting.waiters.size === 0 || dueAt === Infinity) return;
    const now = millisToMicros(this.#clock.now());
    if (dueAt <= now) {
      void this.#serve(environmentId);
      return;
    }
    if (waiting.timer !== undefined && waiting.timer.dueAt <= dueAt) return;
    if (waiting.timer !== undefined) this.#clock.clearTimeout(waiting.timer.handle);
    const delayMs = Math.max(1, Math.ceil((dueAt - now) / 1000));
    waiting.timer = {
      dueAt: now + delayMs * 1000,
      handle: this.#clock.setTimeout(() => {
        waiting.timer = undefined;
        void this.#serve(environmentId);
      }, delayMs),
    };
  }

  /** Clears the timer once nobody waits. The entry itself stays (one per environment ever long-polled). */
  #disarmIfIdle(waiting: EnvironmentWaiters): void {
    if (waiting.waiters.size > 0 && !this.#closed) return;
    if (waiting.timer !== undefined) this.#clock.clearTimeout(waiting.timer.handle);
    waiting.timer = undefined;
  }
}

/** The client command a script is defined as; prefixed so it never shadows a Redis command (`get`). */
function scriptCommand(name: ScriptName): string {
  return `envworker_${name}`;
}

interface Taken {
  readonly work: Work | null;
  /** The environment's earliest lease end, µs (`Infinity` when none). */
  readonly leaseEnd: number;
  /** The oldest delivery among the pending items, µs (`Infinity` when none). */
  readonly oldestDelivery: number;
}

/** When a poll that found nothing could find something: a lease end, or a delivery turning reclaimable. */
function dueOf(taken: Taken, reclaimMicros: number): number {
  return Math.min(taken.leaseEnd, taken.oldestDelivery + reclaimMicros + 1);
}

/** The echo as the heartbeat script compares it (see scripts.ts). */
function echoArgument(expected: string | undefined): string {
  if (expected === undefined) return 'any';
  if (expected === NO_HEARTBEAT) return 'none';
  const micros = parseTimestamp(expected);
  // Only the exact text a store hands out can match, as in the memory store's string comparison.
  if (micros === null || formatTimestamp(micros) !== expected) return 'never';
  return String(micros);
}
