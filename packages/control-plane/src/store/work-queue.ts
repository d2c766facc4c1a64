/**
 * The queue of one environment: every `queued` item, split into those not yet delivered by a poll
 * and those delivered but not acknowledged (`pending`). Maps keep insertion order, which gives
 * FIFO order for free: the undelivered in (re-)queue order, the pending in delivery order.
 * Every operation is O(1) except finding a reclaimable pending item, which looks only at the
 * pending items old enough to reclaim (normally none: a delivered item is acked at once).
 */

/** What the queue needs to know of an item. */
export interface QueueEntry {
  readonly id: string;
  /** Position in FIFO order: a store-wide sequence number, taken at each (re-)queueing. */
  queueSeq: number;
  /** When it was (re-)queued, in microseconds. */
  queuedAt: number;
  /** When a poll last delivered it, in clock microseconds; `null` while undelivered. */
  deliveredAt: number | null;
}

export class WorkQueue<T extends QueueEntry> {
  /** Every queued item, in queue order (for `oldest_queued_at`). */
  readonly #queued = new Map<string, T>();
  readonly #undelivered = new Map<string, T>();
  /** Delivered, unacknowledged items, oldest delivery first. */
  readonly #pending = new Map<string, T>();

  /** `depth` of the stats: queued and not delivered to any poller. */
  get undeliveredCount(): number {
    return this.#undelivered.size;
  }

  /** `pending` of the stats: delivered and not yet acknowledged. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Appends an item at the tail; `queueSeq` must exceed that of every item already queued. */
  append(item: T, queueSeq: number, queuedAt: number): void {
    item.queueSeq = queueSeq;
    item.queuedAt = queuedAt;
    item.deliveredAt = null;
    this.#queued.set(item.id, item);
    this.#undelivered.set(item.id, item);
  }

  /** Takes an item out of the queue (acknowledged or stopped). */
  remove(item: T): void {
    this.#queued.delete(item.id);
    this.#undelivered.delete(item.id);
    this.#pending.delete(item.id);
  }

  /** Records a (re)delivery: the item moves to the tail of the pending items. */
  markDelivered(item: T, atMicros: number): void {
    this.#undelivered.delete(item.id);
    this.#pending.delete(item.id);
    item.deliveredAt = atMicros;
    this.#pending.set(item.id, item);
  }

  /**
   * The item a poll should take: the smallest queue position among the undelivered items and the
   * pending items delivered more than `reclaimMicros` before `nowMicros` (contract §4: "delivered
   * > reclaim_older_than_ms ago").
   */
  nextDeliverable(nowMicros: number, reclaimMicros: number): T | undefined {
    let best = first(this.#undelivered);
    for (const item of this.#pending.values()) {
      if (nowMicros - (item.deliveredAt as number) <= reclaimMicros) break;
      if (best === undefined || item.queueSeq < best.queueSeq) best = item;
    }
    return best;
  }

  /** Whether a poll reclaiming after `reclaimMicros` would find anything, in O(1). */
  hasDeliverable(nowMicros: number, reclaimMicros: number): boolean {
    if (this.#undelivered.size > 0) return true;
    const oldest = first(this.#pending);
    return oldest !== undefined && nowMicros - (oldest.deliveredAt as number) > reclaimMicros;
  }

  /** When the oldest pending delivery happened, or `undefined` when nothing is pending. */
  oldestDeliveryAt(): number | undefined {
    return first(this.#pending)?.deliveredAt ?? undefined;
  }

  /** `oldest_queued_at` of the stats, in microseconds, or `undefined` when nothing is queued. */
  oldestQueuedAt(): number | undefined {
    return first(this.#queued)?.queuedAt;
  }
}

function first<T>(map: Map<string, T>): T | undefined {
  for (const value of map.values()) return value;
  return undefined;
}
