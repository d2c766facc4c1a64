/**
 * A reference model of one environment's work items, written from the lifecycle table of the
 * Work API contract (§4) and its endpoint notes (§5), independently of any store. It says, for
 * each call, which answer the contract requires and what every item looks like afterwards; the
 * model-based property holds a real store to it step by step.
 *
 * Time is the store's injected clock. Operations run at whole milliseconds; only the comparison
 * exactly at a lease's end may run at a fractional one. Where the contract is silent or leaves a
 * boundary open, the model decides as follows:
 *
 * - A lease ends at `base + ttl`, where `base` is the stamp the holder was shown (`last_heartbeat`,
 *   or `acknowledged_at` before the first beat), and it has ended once `now >= end`. A worker
 *   computes its lease from what it was shown, so the store may not end it earlier.
 * - A delivered item is deliverable again once `now - delivered_at > reclaim_older_than_ms` (the
 *   table's "delivered > reclaim_older_than_ms ago").
 * - Leases that end in one stretch of time are re-queued in the order they ended; leases ending in
 *   the same microsecond may be re-queued in either order.
 * - `queued → stopped` by stop may or may not set `stop_requested_at` (the table only says
 *   "stopped"); once the store has shown its choice for an item, it must keep it.
 * - `latest_heartbeat_at` of a work item is the lease's `last_heartbeat`.
 * - A sessions token stays resolvable after its item is stopped (the `WorkStore` interface says so);
 *   it stops resolving when its item is delivered again or re-queued.
 * - The 16-key metadata limit applies to the merged metadata, which only the store can check.
 *   Key and value lengths are the HTTP layer's to check (the `WorkStore` interface says inputs
 *   arrive validated), so the model sends only lengths within the limits.
 * - A stamp is the clock reading, or up to 999 µs later (a store may push stamps to keep them
 *   strictly increasing). A stamp set when a lease ends lies between the end and the first time
 *   the store is asked afterwards.
 * - A heartbeat on a stopped item answers the item's `last_heartbeat` when it has one (the beat
 *   changes nothing); when it never had one, any timestamp.
 * - `workers_polling` may or may not count a worker whose last poll was exactly 30 s ago.
 * - `oldest_queued_at` may count a re-queued item from its creation or from its re-queueing.
 */
import { METADATA_LIMITS, NO_HEARTBEAT, formatTimestamp, millisToMicros, type Metadata, type MetadataPatch, type WorkData, type WorkState } from '@envworker/core';
import type { LeasePolicy } from '../../src/store/work-store.js';
import { ModelMismatch } from './model-mismatch.js';
import { NULL_TIME, maybeStampedAt, pinTime, pinnedMicros, stampedAt, stampedSince, type TimeField } from './time-field.js';

export const TIME_NAMES = ['created_at', 'acknowledged_at', 'started_at', 'latest_heartbeat_at', 'stop_requested_at', 'stopped_at'] as const;
export type TimeName = (typeof TIME_NAMES)[number];

/** How long a worker counts in `workers_polling` after its last poll (contract §3). */
export const WORKERS_POLLING_WINDOW_MS = 30_000;

/**
 * A timer-driven store reads its clock inside the timer, at `due` milliseconds, a float; turning
 * that into microseconds may round one below the instant the lease ended.
 */
const TIMER_ROUNDING_US = 1;

export interface ModelItem {
  readonly id: string;
  readonly data: WorkData;
  state: WorkState;
  readonly times: Record<TimeName, TimeField>;
  metadata: Metadata;
  /** FIFO rank while queued (lower first); `null` when not queued. Ties: re-queued in one instant. */
  rank: number | null;
  /** When a re-queued item was put back; `null` for an item still in its first queueing. */
  requeuedAt: TimeField | null;
  /** The clock reading (ms) of the poll that last delivered the item, while it is queued. */
  delivery: { readonly atMs: number } | null;
  /** The lease's TTL while one is held (starting, active, stopping). */
  lease: { readonly ttlSeconds: number } | null;
  /** The sessions token issued with the latest delivery, while it is valid. */
  token: string | null;
  /** Every `last_heartbeat` the item has had, in microseconds, oldest first. */
  readonly beats: number[];
}

/** The leases that ended in one move of the clock. */
export interface LeaseEnds {
  /** Starting/active items put back at the tail of the queue. */
  readonly requeued: ModelItem[];
  /** Stopping items that stopped. */
  readonly stopped: ModelItem[];
}

/** The answer the contract requires from a heartbeat. */
export type HeartbeatExpectation =
  | { readonly status: 404 | 409 }
  | { readonly status: 412; readonly state: WorkState; readonly lastHeartbeat: string | null }
  | { readonly status: 200; readonly extended: false; readonly lastHeartbeat: string | null }
  | { readonly status: 200; readonly extended: true; readonly state: WorkState; readonly ttlSeconds: number; readonly item: ModelItem };

/** The answer the contract requires from ack, stop or update: refused, or the item as it now is. */
export type ItemExpectation = { readonly status: 400 | 404 | 409 } | { readonly status: 200; readonly item: ModelItem };

export interface StatsExpectation {
  readonly depth: number;
  readonly pending: number;
  readonly queued: readonly ModelItem[];
  /** `workers_polling` lies in [min, max]: a worker exactly 30 s after its poll may count or not. */
  readonly workersPolling: { readonly min: number; readonly max: number };
}

export class ReferenceModel {
  #nowMs: number;
  #nextRank = 0;
  readonly #items = new Map<string, ModelItem>();
  /** Every sessions token ever issued, and its item. */
  readonly #tokens = new Map<string, string>();
  readonly #lastPollMs = new Map<string, number>();

  constructor(
    readonly lease: LeasePolicy,
    startMs: number,
  ) {
    this.#nowMs = startMs;
  }

  get nowMs(): number {
    return this.#nowMs;
  }

  get nowUs(): number {
    return millisToMicros(this.#nowMs);
  }

  /** Items in enqueue order. */
  items(): ModelItem[] {
    return [...this.#items.values()];
  }

  item(id: string): ModelItem | undefined {
    return this.#items.get(id);
  }

  /** Every token issued so far, with the item it was issued for. */
  tokens(): ReadonlyMap<string, string> {
    return this.#tokens;
  }

  /** The end of an item's lease in microseconds, or `null` when it holds none. */
  leaseEnd(item: ModelItem): number | null {
    if (item.lease === null) return null;
    const base = item.times.latest_heartbeat_at.kind === 'null' ? item.times.acknowledged_at : item.times.latest_heartbeat_at;
    return pinnedMicros(base, `lease base of ${item.id}`) + item.lease.ttlSeconds * 1_000_000;
  }

  /** The `expected_last_heartbeat` that passes the precondition now. */
  actualHeartbeat(item: ModelItem): string {
    const last = item.times.latest_heartbeat_at;
    return last.kind === 'null' ? NO_HEARTBEAT : formatTimestamp(pinnedMicros(last, `latest_heartbeat_at of ${item.id}`));
  }

  /** The TTL a heartbeat gets (contract §4, TTL). */
  appliedTtl(desired: number | undefined): number {
    if (desired === undefined) return this.lease.defaultTtlSeconds;
    return Math.min(Math.max(desired, this.lease.minTtlSeconds), this.lease.maxTtlSeconds);
  }

  /**
   * Moves time to `targetMs` and applies every lease end on the way: starting/active items go back
   * to the tail of the queue, stopping items stop.
   */
  advanceTo(targetMs: number): LeaseEnds {
    if (targetMs < this.#nowMs) throw new Error(`reference model: time cannot go back (${targetMs} < ${this.#nowMs})`);
    this.#nowMs = targetMs;
    const now = this.nowUs;
    const ended = this.items()
      .map((item) => ({ item, end: this.leaseEnd(item) }))
      .filter((entry): entry is { item: ModelItem; end: number } => entry.end !== null && now >= entry.end)
      .sort((a, b) => a.end - b.end);
    const result: LeaseEnds = { requeued: [], stopped: [] };
    let previousEnd: number | null = null;
    let rank = -1;
    for (const { item, end } of ended) {
      if (end !== previousEnd) rank = this.#nextRank++;
      previousEnd = end;
      item.lease = null;
      if (item.state === 'stopping') {
        item.state = 'stopped';
        item.times.stopped_at = stampedSince(end - TIMER_ROUNDING_US);
        result.stopped.push(item);
      } else {
        result.requeued.push(item);
        item.state = 'queued';
        item.rank = rank;
        item.requeuedAt = stampedSince(end - TIMER_ROUNDING_US);
        item.times.acknowledged_at = NULL_TIME;
        item.times.started_at = NULL_TIME;
        item.times.latest_heartbeat_at = NULL_TIME;
        item.token = null;
      }
    }
    return result;
  }

  /** A new queued item at the tail; `id` and `data` are what the store assigned. */
  enqueue(id: string, data: WorkData, metadata: Metadata): ModelItem {
    if (this.#items.has(id)) throw new ModelMismatch(`enqueue returned id ${id}, which an earlier item already has`);
    const item: ModelItem = {
      id,
      data,
      state: 'queued',
      times: {
        created_at: stampedAt(this.nowUs),
        acknowledged_at: NULL_TIME,
        started_at: NULL_TIME,
        latest_heartbeat_at: NULL_TIME,
        stop_requested_at: NULL_TIME,
        stopped_at: NULL_TIME,
      },
      metadata: { ...metadata },
      rank: this.#nextRank++,
      requeuedAt: null,
      delivery: null,
      lease: null,
      token: null,
      beats: [],
    };
    this.#items.set(id, item);
    return item;
  }

  /** Counts a poll by `workerId` for `workers_polling`. */
  notePoll(workerId: string): void {
    this.#lastPollMs.set(workerId, this.#nowMs);
  }

  /** Whether a queued item may be handed out by a poll with this reclaim window. */
  deliverable(item: ModelItem, reclaimOlderThanMs: number): boolean {
    if (item.state !== 'queued') return false;
    return item.delivery === null || this.#nowMs - item.delivery.atMs > reclaimOlderThanMs;
  }

  /** The items a poll may answer now: the head of the queue among deliverable items (ties: any of them). */
  pollCandidates(reclaimOlderThanMs: number): ModelItem[] {
    const deliverable = this.items().filter((item) => this.deliverable(item, reclaimOlderThanMs));
    if (deliverable.length === 0) return [];
    const head = Math.min(...deliverable.map((item) => item.rank ?? Infinity));
    return deliverable.filter((item) => item.rank === head);
  }

  /** Hands `item` to a poller with a fresh sessions token; an earlier token of the item is revoked. */
  deliver(item: ModelItem, token: string): void {
    if (this.#tokens.has(token)) throw new ModelMismatch(`poll of ${item.id} issued a sessions token that was issued before`);
    this.#tokens.set(token, item.id);
    item.delivery = { atMs: this.#nowMs };
    item.token = token;
  }

  ack(id: string): ItemExpectation {
    const item = this.#items.get(id);
    if (item === undefined) return { status: 404 };
    switch (item.state) {
      case 'queued':
        if (item.delivery === null) return { status: 409 };
        item.state = 'starting';
        item.times.acknowledged_at = stampedAt(this.nowUs);
        item.lease = { ttlSeconds: this.lease.defaultTtlSeconds };
        item.rank = null;
        item.requeuedAt = null;
        item.delivery = null;
        return { status: 200, item };
      case 'starting':
      case 'active':
        return { status: 200, item };
      case 'stopping':
      case 'stopped':
        return { status: 409 };
    }
  }

  /** Heartbeat, in the contract's order of checks: stopped, precondition, queued, extend. */
  heartbeat(id: string, expected: string | undefined, desiredTtlSeconds: number | undefined): HeartbeatExpectation {
    const item = this.#items.get(id);
    if (item === undefined) return { status: 404 };
    const last = item.times.latest_heartbeat_at;
    const lastHeartbeat = last.kind === 'null' ? null : formatTimestamp(pinnedMicros(last, `latest_heartbeat_at of ${id}`));
    if (item.state === 'stopped') return { status: 200, extended: false, lastHeartbeat };
    if (expected !== undefined && expected !== this.actualHeartbeat(item)) return { status: 412, state: item.state, lastHeartbeat };
    if (item.state === 'queued') return { status: 409 };
    const ttlSeconds = this.appliedTtl(desiredTtlSeconds);
    if (item.state === 'starting') {
      item.state = 'active';
      item.times.started_at = stampedAt(this.nowUs);
    }
    const previous = item.beats.at(-1);
    item.times.latest_heartbeat_at = stampedAt(this.nowUs, previous === undefined ? this.nowUs : previous + 1);
    item.lease = { ttlSeconds };
    return { status: 200, extended: true, state: item.state, ttlSeconds, item };
  }

  /** Pins a beat's `last_heartbeat` to what the store answered and adds it to the item's lineage. */
  settleBeat(item: ModelItem, lastHeartbeat: string): void {
    item.times.latest_heartbeat_at = pinTime(item.times.latest_heartbeat_at, lastHeartbeat, this.nowUs, `last_heartbeat of ${item.id}`);
    item.beats.push(pinnedMicros(item.times.latest_heartbeat_at, 'last_heartbeat'));
  }

  stop(id: string, force: boolean): ItemExpectation {
    const item = this.#items.get(id);
    if (item === undefined) return { status: 404 };
    const now = this.nowUs;
    switch (item.state) {
      case 'stopped':
        return { status: 409 };
      case 'queued':
        item.state = 'stopped';
        item.times.stop_requested_at = maybeStampedAt(now);
        item.times.stopped_at = stampedAt(now);
        item.rank = null;
        item.requeuedAt = null;
        item.delivery = null;
        return { status: 200, item };
      case 'stopping':
        item.state = 'stopped';
        item.times.stopped_at = stampedAt(now);
        item.lease = null;
        return { status: 200, item };
      case 'starting':
      case 'active':
        item.times.stop_requested_at = stampedAt(now);
        if (force) {
          item.state = 'stopped';
          item.times.stopped_at = stampedAt(now);
          item.lease = null;
        } else {
          item.state = 'stopping';
        }
        return { status: 200, item };
    }
  }

  update(id: string, patch: MetadataPatch): ItemExpectation {
    const item = this.#items.get(id);
    if (item === undefined) return { status: 404 };
    const merged: Metadata = { ...item.metadata };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete merged[key];
      else merged[key] = value;
    }
    if (Object.keys(merged).length > METADATA_LIMITS.maxKeys) return { status: 400 };
    item.metadata = merged;
    return { status: 200, item };
  }

  stats(): StatsExpectation {
    const queued = this.items().filter((item) => item.state === 'queued');
    let min = 0;
    let max = 0;
    for (const at of this.#lastPollMs.values()) {
      const age = this.#nowMs - at;
      if (age < WORKERS_POLLING_WINDOW_MS) min++;
      if (age <= WORKERS_POLLING_WINDOW_MS) max++;
    }
    return {
      depth: queued.filter((item) => item.delivery === null).length,
      pending: queued.filter((item) => item.delivery !== null).length,
      queued,
      workersPolling: { min, max },
    };
  }

  /** Whether `token` must resolve to its item now. */
  tokenLive(token: string): boolean {
    const id = this.#tokens.get(token);
    return id !== undefined && this.#items.get(id)?.token === token;
  }
}
