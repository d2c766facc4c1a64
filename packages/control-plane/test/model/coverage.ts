/**
 * Which rows of the lifecycle table (contract §4) the generated runs actually exercised, so that a
 * passing property cannot hide a generator that never reaches a row.
 */

/** Rows every full check must reach at least once. Labels are the ones the commands record. */
export const REQUIRED_ROWS = [
  'enqueue',
  'poll: delivered a fresh item',
  'poll: redelivered after the reclaim window',
  'poll: skipped an item inside its reclaim window',
  'poll: reclaim window exactly at its boundary',
  'poll: nothing deliverable → null',
  'ack: queued, delivered → 200',
  'ack: queued, not delivered → 409',
  'ack: starting → 200',
  'ack: active → 200',
  'ack: stopping → 409',
  'ack: stopped → 409',
  'heartbeat: starting → 200',
  'heartbeat: active → 200',
  'heartbeat: stopping → 200',
  'heartbeat: stopped → 200',
  'heartbeat: queued → 409',
  'heartbeat: queued → 412',
  'heartbeat: starting → 412',
  'heartbeat: active → 412',
  'heartbeat: stale last_heartbeat refused',
  'heartbeat: TTL clamped to the minimum',
  'heartbeat: TTL clamped to the maximum',
  'heartbeat: TTL omitted → default',
  'lease end: starting → queued',
  'lease end: active → queued',
  'lease end: stopping → stopped',
  'lease end: clock exactly at the end',
  'lease end: clock just before the end',
  'stop: queued, delivered → stopped',
  'stop: queued, not delivered → stopped',
  'stop{force:false}: starting → stopping',
  'stop{force:false}: active → stopping',
  'stop{force:true}: active → stopped',
  'stop{force:true}: starting → stopped',
  'stop: stopping → stopped',
  'stop: stopped → 409',
  'update → 200',
  'update: over 16 keys → 400',
  'list: several pages',
  'list: items added while paging',
  'unknown item or environment → 404',
  'token revoked by redelivery',
  'token revoked by re-queue',
] as const;

/** Counts how often each label was reached, across all runs of a check. */
export class Coverage {
  readonly #counts = new Map<string, number>();

  hit(label: string): void {
    this.#counts.set(label, (this.#counts.get(label) ?? 0) + 1);
  }

  counts(): ReadonlyMap<string, number> {
    return this.#counts;
  }

  /** Required rows never reached. */
  missing(): string[] {
    return REQUIRED_ROWS.filter((label) => !this.#counts.has(label));
  }
}
