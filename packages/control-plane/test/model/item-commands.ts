/**
 * The commands that call the store about work items: enqueue, poll, ack, heartbeat, stop, update,
 * list, and calls naming items of no environment. Each holds the answer to the reference model
 * and updates the model.
 *
 * Commands name their target item by a number that is resolved against the model when the
 * command runs (`pick % candidates`), so a shrunk sequence still names a sensible item.
 */
import {
  HeartbeatResponseSchema,
  NO_HEARTBEAT,
  POLL_LIMITS,
  WorkListPageSchema,
  formatTimestamp,
  parseTimestamp,
  type Metadata,
  type MetadataPatch,
  type Work,
  type WorkData,
} from '@envworker/core';
import type { EnqueueInput, HeartbeatInput } from '../../src/store/work-store.js';
import { ModelMismatch } from './model-mismatch.js';
import type { ModelItem, ReferenceModel } from './reference-model.js';
import { attempt, checkOldestQueued, checkWork, expectAnswer, expectRefusal, sessionsToken } from './store-checks.js';
import { StoreCommand, label, needsItem, type StoreUnderTest } from './store-command.js';

const WORK_ID = /^work_[0-9A-Za-z]{24}$/;
const SESSION_ID = /^sesn_[0-9A-Za-z]{24}$/;
const GIVEN_SESSION_ID = 'sesn_ModelSession000000000001';
const GIVEN_HEALTHCHECK_ID = 'healthcheck-model-1';
const NEVER_CREATED_WORK_ID = `work_${'Z'.repeat(24)}`;
const UNKNOWN_ENVIRONMENT_ID = `env_${'Z'.repeat(24)}`;

/** The state as the table of §4 distinguishes it (a queued item: delivered or not). */
function tableState(item: ModelItem): string {
  if (item.state !== 'queued') return item.state;
  return item.delivery === null ? 'queued, not delivered' : 'queued, delivered';
}

/** Which items a command picks from: random picks alone would rarely carry an item deep into its lifecycle. */
export type Focus = 'delivered' | 'leased' | 'stopping' | 'any';

const FOCUS: Readonly<Record<Focus, (item: ModelItem) => boolean>> = {
  delivered: (item) => item.state === 'queued' && item.delivery !== null,
  leased: (item) => item.lease !== null,
  stopping: (item) => item.state === 'stopping',
  any: () => true,
};

/** The `pick`-th item of the focused ones, or of all items when none is. */
function target(m: ReferenceModel, pick: number, focus: Focus): ModelItem {
  const all = m.items();
  const focused = all.filter(FOCUS[focus]);
  const pool = focused.length > 0 ? focused : all;
  const item = pool[pick % pool.length];
  if (item === undefined) throw new Error('store model: a command that needs an item ran without one');
  return item;
}

export type DataChoice = 'omitted' | 'session' | 'session with id' | 'healthcheck' | 'healthcheck with id';

/** Enqueues through the store, checks the new item, and adds it to the model. */
async function enqueueChecked(m: ReferenceModel, r: StoreUnderTest, choice: DataChoice, metadata: Metadata, what: string): Promise<ModelItem> {
  const type: WorkData['type'] = choice.startsWith('healthcheck') ? 'healthcheck' : 'session';
  const givenId = choice === 'session with id' ? GIVEN_SESSION_ID : choice === 'healthcheck with id' ? GIVEN_HEALTHCHECK_ID : undefined;
  const input: EnqueueInput = {
    ...(choice === 'omitted' ? {} : { data: givenId === undefined ? { type } : { type, id: givenId } }),
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
  };
  const work = expectAnswer(await attempt(() => r.store.enqueue(r.environment.id, input)), what);
  if (!WORK_ID.test(work.id)) throw new ModelMismatch(`${what}: work id ${JSON.stringify(work.id)} is not work_ + 24 base62`);
  if (givenId === undefined) {
    const generated = type === 'session' ? SESSION_ID.test(work.data.id) : work.data.id.length > 0;
    if (!generated) throw new ModelMismatch(`${what}: generated ${type} id ${JSON.stringify(work.data.id)} is malformed`);
  }
  const item = m.enqueue(work.id, { type, id: givenId ?? work.data.id }, metadata);
  checkWork(m, r.environment.id, item, work, 'null', what);
  r.coverage.hit('enqueue');
  return item;
}

export class EnqueueCommand extends StoreCommand {
  constructor(
    readonly data: DataChoice,
    readonly metadata: Metadata,
  ) {
    super();
  }

  check(): boolean {
    return true;
  }

  protected async exec(m: ReferenceModel, r: StoreUnderTest): Promise<void> {
    const item = await enqueueChecked(m, r, this.data, this.metadata, this.toString());
    r.trace.push(`${this.toString()} → ${label(m, item)}`);
  }

  toString(): string {
    return `enqueue(${this.data}, metadata ${JSON.stringify(this.metadata)})`;
  }
}

export type ReclaimChoice = { readonly kind: 'fixed'; readonly ms: number } | { readonly kind: 'age'; readonly pick: number; readonly deltaMs: -1 | 0 | 1 };

export class PollCommand extends StoreCommand {
  constructor(
    readonly worker: number,
    readonly reclaim: ReclaimChoice,
  ) {
    super();
  }

  check(): boolean {
    return true;
  }

  /** A fixed window, or the age of a delivered item ± 1 ms, to hit the reclaim boundary exactly. */
  #reclaimMs(m: ReferenceModel): { ms: number; atBoundary: boolean } {
    if (this.reclaim.kind === 'fixed') return { ms: this.reclaim.ms, atBoundary: false };
    const delivered = m.items().filter((item) => item.state === 'queued' && item.delivery !== null);
    const item = delivered[this.reclaim.pick % Math.max(delivered.length, 1)];
    if (item === undefined || item.delivery === null) return { ms: POLL_LIMITS.defaultReclaimOlderThanMs, atBoundary: false };
    const age = m.nowMs - item.delivery.atMs;
    const ms = Math.max(1, age + this.reclaim.deltaMs);
    return { ms, atBoundary: ms === age };
  }

  protected async exec(m: ReferenceModel, r: StoreUnderTest): Promise<void> {
    const workerId = r.workerIds[this.worker % r.workerIds.length] ?? 'worker';
    const { ms: reclaimOlderThanMs, atBoundary } = this.#reclaimMs(m);
    const what = `poll by ${workerId}, reclaim_older_than_ms ${reclaimOlderThanMs}`;
    m.notePoll(workerId);
    const candidates = m.pollCandidates(reclaimOlderThanMs);
    const held = m.items().filter((item) => item.state === 'queued' && item.delivery !== null && !m.deliverable(item, reclaimOlderThanMs));
    const work = expectAnswer(await attempt(() => r.store.poll(r.environment.id, { workerId, reclaimOlderThanMs })), what);
    if (held.length > 0) r.coverage.hit('poll: skipped an item inside its reclaim window');
    if (atBoundary) r.coverage.hit('poll: reclaim window exactly at its boundary');
    if (work === null) {
      if (candidates.length > 0) {
        throw new ModelMismatch(`${what}: answered null, but ${candidates.map((item) => item.id).join(', ')} is deliverable`);
      }
      r.trace.push(`${what} → null`);
      r.coverage.hit('poll: nothing deliverable → null');
      return;
    }
    const item = m.item(work.id);
    if (item === undefined) throw new ModelMismatch(`${what}: answered ${work.id}, which is no item of this environment`);
    if (!candidates.includes(item)) {
      if (item.state !== 'queued') throw new ModelMismatch(`${what}: answered ${item.id}, which is ${item.state}`);
      if (item.delivery !== null && !m.deliverable(item, reclaimOlderThanMs)) {
        throw new ModelMismatch(
          `${what}: delivered ${item.id} to a second poller inside the reclaim window (delivered ${m.nowMs - item.delivery.atMs} ms ago)`,
        );
      }
      throw new ModelMismatch(`${what}: answered ${item.id}, but FIFO order gives ${candidates.map((c) => c.id).join(' or ') || 'nothing'}`);
    }
    const redelivery = item.delivery !== null;
    if (item.token !== null) r.coverage.hit('token revoked by redelivery');
    m.deliver(item, sessionsToken(work, what));
    checkWork(m, r.environment.id, item, work, 'present', what);
    r.coverage.hit(redelivery ? 'poll: redelivered after the reclaim window' : 'poll: delivered a fresh item');
    r.trace.push(`${what} → ${label(m, item)}${redelivery ? ' (redelivered)' : ''}`);
  }

  toString(): string {
    const reclaim =
      this.reclaim.kind === 'fixed'
        ? `${this.reclaim.ms}`
        : `age of a delivered item (pick ${this.reclaim.pick}) ${this.reclaim.deltaMs >= 0 ? '+' : ''}${this.reclaim.deltaMs} ms`;
    return `poll(worker ${this.worker}, reclaim ${reclaim})`;
  }
}

export class AckCommand extends StoreCommand {
  constructor(
    readonly pick: number,
    readonly focus: Focus,
  ) {
    super();
  }

  check = needsItem;

  protected async exec(m: ReferenceModel, r: StoreUnderTest): Promise<void> {
    const item = target(m, this.pick, this.focus);
    const before = tableState(item);
    const what = `ack ${label(m, item)} (${before})`;
    const expected = m.ack(item.id);
    const outcome = await attempt(() => r.store.ack(r.environment.id, item.id));
    if (expected.status === 200) checkWork(m, r.environment.id, expected.item, expectAnswer(outcome, what), 'null', what);
    else expectRefusal(outcome, expected.status, what);
    r.coverage.hit(`ack: ${before} → ${expected.status}`);
    r.trace.push(`${what} → ${expected.status}`);
  }

  toString(): string {
    return `ack(pick ${this.pick} of ${this.focus})`;
  }
}

export type ExpectedChoice = 'current' | 'stale' | 'NO_HEARTBEAT' | 'omitted' | 'never issued';

export class HeartbeatCommand extends StoreCommand {
  constructor(
    readonly pick: number,
    readonly focus: Focus,
    readonly expected: ExpectedChoice,
    readonly desiredTtlSeconds: number | undefined,
  ) {
    super();
  }

  check = needsItem;

  /** The `expected_last_heartbeat` this worker sends: what it last saw, an older one, or none. */
  #expected(m: ReferenceModel, item: ModelItem): string | undefined {
    const neverIssued = formatTimestamp(m.nowUs - 1);
    switch (this.expected) {
      case 'current':
        return m.actualHeartbeat(item);
      case 'stale': {
        const current = m.actualHeartbeat(item);
        const older = item.beats.map(formatTimestamp).filter((beat) => beat !== current);
        return older[this.pick % Math.max(older.length, 1)] ?? neverIssued;
      }
      case 'NO_HEARTBEAT':
        return NO_HEARTBEAT;
      case 'omitted':
        return undefined;
      case 'never issued':
        return neverIssued;
    }
  }

  protected async exec(m: ReferenceModel, r: StoreUnderTest): Promise<void> {
    const item = target(m, this.pick, this.focus);
    const before = item.state;
    const expectedLastHeartbeat = this.#expected(m, item);
    const what = `heartbeat ${label(m, item)} (${before}) expecting ${expectedLastHeartbeat ?? '(omitted)'}, ttl ${this.desiredTtlSeconds ?? '(omitted)'}`;
    const input: HeartbeatInput = {
      ...(expectedLastHeartbeat === undefined ? {} : { expectedLastHeartbeat }),
      ...(this.desiredTtlSeconds === undefined ? {} : { desiredTtlSeconds: this.desiredTtlSeconds }),
    };
    const expected = m.heartbeat(item.id, expectedLastHeartbeat, this.desiredTtlSeconds);
    const outcome = await attempt(() => r.store.heartbeat(r.environment.id, item.id, input));
    switch (expected.status) {
      case 404:
      case 409:
        expectRefusal(outcome, expected.status, what);
        break;
      case 412: {
        const error = expectRefusal(outcome, 412, what);
        const details = error.details as { error_code?: unknown; current_state?: { state?: unknown; last_heartbeat?: unknown } } | undefined;
        if (details?.error_code !== 'heartbeat_precondition_failed') throw new ModelMismatch(`${what}: 412 without error_code heartbeat_precondition_failed`);
        const current = details.current_state;
        if (current?.state !== expected.state || current.last_heartbeat !== expected.lastHeartbeat) {
          throw new ModelMismatch(
            `${what}: 412 current_state ${JSON.stringify(current)}, expected state ${expected.state}, last_heartbeat ${expected.lastHeartbeat}`,
          );
        }
        if (this.expected === 'stale' && expectedLastHeartbeat !== undefined && item.beats.map(formatTimestamp).includes(expectedLastHeartbeat)) {
          r.coverage.hit('heartbeat: stale last_heartbeat refused');
        }
        break;
      }
      case 200: {
        const answer = expectAnswer(outcome, what);
        const parsed = HeartbeatResponseSchema.safeParse(answer);
        if (!parsed.success) throw new ModelMismatch(`${what}: not a valid heartbeat response`);
        if (!expected.extended) {
          if (answer.lease_extended || answer.state !== 'stopped' || answer.ttl_seconds !== 0) {
            throw new ModelMismatch(`${what}: on a stopped item answered ${JSON.stringify(answer)}, expected lease_extended false, state stopped, ttl_seconds 0`);
          }
          if (expected.lastHeartbeat !== null && answer.last_heartbeat !== expected.lastHeartbeat) {
            throw new ModelMismatch(`${what}: on a stopped item last_heartbeat ${answer.last_heartbeat}, expected ${expected.lastHeartbeat}`);
          }
          break;
        }
        if (!answer.lease_extended || answer.state !== expected.state || answer.ttl_seconds !== expected.ttlSeconds) {
          throw new ModelMismatch(
            `${what}: answered lease_extended ${answer.lease_extended}, state ${answer.state}, ttl_seconds ${answer.ttl_seconds}; expected true, ${expected.state}, ${expected.ttlSeconds}`,
          );
        }
        const beat = parseTimestamp(answer.last_heartbeat);
        const previous = item.beats.at(-1);
        if (beat !== null && previous !== undefined && beat <= previous) {
          throw new ModelMismatch(`${what}: last_heartbeat ${answer.last_heartbeat} does not increase on ${formatTimestamp(previous)}`);
        }
        m.settleBeat(expected.item, answer.last_heartbeat);
        const desired = this.desiredTtlSeconds;
        if (desired === undefined) r.coverage.hit('heartbeat: TTL omitted → default');
        else if (desired < m.lease.minTtlSeconds) r.coverage.hit('heartbeat: TTL clamped to the minimum');
        else if (desired > m.lease.maxTtlSeconds) r.coverage.hit('heartbeat: TTL clamped to the maximum');
        break;
      }
    }
    r.coverage.hit(`heartbeat: ${before} → ${expected.status}`);
    r.trace.push(`${what} → ${expected.status}`);
  }

  toString(): string {
    return `heartbeat(pick ${this.pick} of ${this.focus}, expected ${this.expected}, ttl ${this.desiredTtlSeconds ?? 'omitted'})`;
  }
}

export class StopCommand extends StoreCommand {
  constructor(
    readonly pick: number,
    readonly focus: Focus,
    readonly force: boolean,
  ) {
    super();
  }

  check = needsItem;

  protected async exec(m: ReferenceModel, r: StoreUnderTest): Promise<void> {
    const item = target(m, this.pick, this.focus);
    const before = tableState(item);
    const what = `stop{force:${this.force}} ${label(m, item)} (${before})`;
    const expected = m.stop(item.id, this.force);
    const outcome = await attempt(() => r.store.stop(r.environment.id, item.id, { force: this.force }));
    if (expected.status === 200) checkWork(m, r.environment.id, expected.item, expectAnswer(outcome, what), 'null', what);
    else expectRefusal(outcome, expected.status, what);
    const result = expected.status === 200 ? expected.item.state : expected.status;
    const row = before === 'starting' || before === 'active' ? `stop{force:${this.force}}: ${before}` : `stop: ${before}`;
    r.coverage.hit(`${row} → ${result}`);
    r.trace.push(`${what} → ${result}`);
  }

  toString(): string {
    return `stop(pick ${this.pick} of ${this.focus}, force ${this.force})`;
  }
}

export class UpdateCommand extends StoreCommand {
  constructor(
    readonly pick: number,
    readonly patch: MetadataPatch,
  ) {
    super();
  }

  check = needsItem;

  protected async exec(m: ReferenceModel, r: StoreUnderTest): Promise<void> {
    const item = target(m, this.pick, 'any');
    const what = `update ${label(m, item)} (${Object.keys(item.metadata).length} keys) with ${Object.keys(this.patch).length} changes`;
    const expected = m.update(item.id, this.patch);
    const outcome = await attempt(() => r.store.update(r.environment.id, item.id, this.patch));
    if (expected.status === 200) {
      checkWork(m, r.environment.id, expected.item, expectAnswer(outcome, what), 'null', what);
      r.coverage.hit('update → 200');
    } else {
      expectRefusal(outcome, expected.status, what);
      r.coverage.hit('update: over 16 keys → 400');
    }
    r.trace.push(`${what} → ${expected.status}`);
  }

  toString(): string {
    return `update(pick ${this.pick}, ${JSON.stringify(this.patch)})`;
  }
}

export class ListCommand extends StoreCommand {
  constructor(
    readonly limit: number,
    readonly enqueueWhilePaging: number,
  ) {
    super();
  }

  check(): boolean {
    return true;
  }

  /**
   * Reads every page; with `enqueueWhilePaging`, adds items after the first page. Every item that
   * existed before must come exactly once, newest first; `stats` must agree with what was listed.
   */
  protected async exec(m: ReferenceModel, r: StoreUnderTest): Promise<void> {
    const what = `list(limit ${this.limit})`;
    const before = new Set(m.items().map((item) => item.id));
    const listed: Work[] = [];
    let page: string | undefined;
    let pages = 0;
    for (;;) {
      const input = page === undefined ? { limit: this.limit } : { limit: this.limit, page };
      const answer = expectAnswer(await attempt(() => r.store.list(r.environment.id, input)), `${what} page ${pages + 1}`);
      pages++;
      if (!WorkListPageSchema.safeParse(answer).success) throw new ModelMismatch(`${what} page ${pages}: not a valid list page`);
      if (answer.data.length > this.limit) throw new ModelMismatch(`${what} page ${pages}: ${answer.data.length} items`);
      listed.push(...answer.data);
      if (pages === 1) {
        for (let n = 0; n < this.enqueueWhilePaging; n++) await enqueueChecked(m, r, 'omitted', {}, `${what}: enqueue while paging`);
      }
      if (answer.next_page === null) break;
      if (pages > before.size + this.enqueueWhilePaging + 1) throw new ModelMismatch(`${what}: more pages than items`);
      page = answer.next_page;
    }
    const seen = new Set<string>();
    let previous: { id: string; createdAt: number } | undefined;
    for (const work of listed) {
      if (seen.has(work.id)) throw new ModelMismatch(`${what}: ${work.id} listed twice`);
      seen.add(work.id);
      const item = m.item(work.id);
      if (item === undefined) throw new ModelMismatch(`${what}: listed ${work.id}, which is no item of this environment`);
      checkWork(m, r.environment.id, item, work, 'null', `${what}: ${work.id}`);
      const createdAt = parseTimestamp(work.created_at) ?? 0;
      if (previous !== undefined && createdAt > previous.createdAt) {
        throw new ModelMismatch(`${what}: ${work.id} (created ${work.created_at}) listed after the older ${previous.id}`);
      }
      previous = { id: work.id, createdAt };
    }
    const skipped = [...before].filter((id) => !seen.has(id));
    if (skipped.length > 0) throw new ModelMismatch(`${what}: skipped ${skipped.join(', ')}`);
    if (this.enqueueWhilePaging === 0) {
      const stats = expectAnswer(await attempt(() => r.store.stats(r.environment.id)), `${what}: stats`);
      const queued = listed.filter((work) => work.state === 'queued');
      if (stats.depth + stats.pending !== queued.length) {
        throw new ModelMismatch(`${what}: stats depth + pending = ${stats.depth + stats.pending}, but ${queued.length} queued items listed`);
      }
      checkOldestQueued(m, stats.oldest_queued_at, m.stats().queued, `${what}: stats`);
    } else {
      r.coverage.hit('list: items added while paging');
    }
    if (pages > 1) r.coverage.hit('list: several pages');
    r.trace.push(`${what}${this.enqueueWhilePaging > 0 ? `, enqueueing ${this.enqueueWhilePaging} after page 1` : ''} → ${listed.length} items in ${pages} pages`);
  }

  toString(): string {
    return `list(limit ${this.limit}${this.enqueueWhilePaging > 0 ? `, enqueue ${this.enqueueWhilePaging} while paging` : ''})`;
  }
}

export type ForeignOp = 'get' | 'ack' | 'heartbeat' | 'stop' | 'update';
export type ForeignTarget = "another environment's item" | 'a never-created id' | 'an unknown environment';

/** Calls naming an item that is not in the environment: all 404, and nothing changes. */
export class ForeignCommand extends StoreCommand {
  constructor(
    readonly op: ForeignOp,
    readonly target: ForeignTarget,
  ) {
    super();
  }

  check(): boolean {
    return true;
  }

  protected async exec(m: ReferenceModel, r: StoreUnderTest): Promise<void> {
    const environmentId = this.target === 'an unknown environment' ? UNKNOWN_ENVIRONMENT_ID : r.environment.id;
    const workId =
      this.target === 'a never-created id' ? NEVER_CREATED_WORK_ID : this.target === 'an unknown environment' ? (m.items()[0]?.id ?? r.foreign.workId) : r.foreign.workId;
    const what = `${this.op} of ${this.target}`;
    const call = (): Promise<unknown> => {
      switch (this.op) {
        case 'get':
          return r.store.get(environmentId, workId);
        case 'ack':
          return r.store.ack(environmentId, workId);
        case 'heartbeat':
          return r.store.heartbeat(environmentId, workId, { expectedLastHeartbeat: NO_HEARTBEAT });
        case 'stop':
          return r.store.stop(environmentId, workId, { force: true });
        case 'update':
          return r.store.update(environmentId, workId, { touched: 'yes' });
      }
    };
    expectRefusal(await attempt(call), 404, what);
    const foreign = expectAnswer(await attempt(() => r.store.get(r.foreign.environmentId, r.foreign.workId)), `${what}: get the other environment's item`);
    if (foreign.state !== 'queued' || Object.keys(foreign.metadata).length > 0) {
      throw new ModelMismatch(`${what}: the other environment's item changed (state ${foreign.state})`);
    }
    r.coverage.hit('unknown item or environment → 404');
    r.trace.push(`${what} → 404`);
  }

  toString(): string {
    return `${this.op}(${this.target})`;
  }
}
