/**
 * The comparisons between a store's answers and the reference model: one call's outcome, one
 * work item, and the whole environment after a step (every item, the stats, every sessions token).
 */
import { WorkSchema, decodeWorkSecret, formatTimestamp, parseTimestamp, type Work } from '@envworker/core';
import { StoreError } from '../../src/store/store-error.js';
import type { EnvironmentRecord, WorkStore } from '../../src/store/work-store.js';
import { ModelMismatch } from './model-mismatch.js';
import { TIME_NAMES, type ModelItem, type ReferenceModel } from './reference-model.js';
import { STAMP_SLACK_US, pinTime, pinnedMicros } from './time-field.js';

/** What a store call did: answered, or refused with a `StoreError`. Anything else thrown propagates. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: StoreError };

export async function attempt<T>(call: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    if (error instanceof StoreError) return { ok: false, error };
    throw error;
  }
}

/** The `error.type` each refusal of the contract (§2) carries. */
const ERROR_TYPE_OF: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  404: 'not_found_error',
  409: 'conflict_error',
  412: 'invalid_request_error',
};

function describeOutcome(outcome: Outcome<unknown>): string {
  return outcome.ok ? '200' : `${outcome.error.status} ${outcome.error.type} (${outcome.error.message})`;
}

/** Asserts that the call answered (200) and returns the answer. */
export function expectAnswer<T>(outcome: Outcome<T>, what: string): T {
  if (!outcome.ok) throw new ModelMismatch(`${what}: expected 200, got ${describeOutcome(outcome)}`);
  return outcome.value;
}

/** Asserts that the call was refused with `status` and the `error.type` (and headers) §2 gives it. */
export function expectRefusal(outcome: Outcome<unknown>, status: number, what: string): StoreError {
  if (outcome.ok || outcome.error.status !== status) throw new ModelMismatch(`${what}: expected ${status}, got ${describeOutcome(outcome)}`);
  const { error } = outcome;
  if (error.type !== ERROR_TYPE_OF[status]) throw new ModelMismatch(`${what}: ${status} with error.type ${error.type}, expected ${ERROR_TYPE_OF[status]}`);
  if (status === 409 && error.headers['x-should-retry'] !== 'false') throw new ModelMismatch(`${what}: 409 without x-should-retry: false`);
  return error;
}

export type SecretRule = 'null' | 'present';

/**
 * Compares a work item the store returned with the model's item, and pins the model's stamps to
 * the values shown. `secret` must be non-null in a poll answer and null everywhere else.
 */
export function checkWork(model: ReferenceModel, environmentId: string, item: ModelItem, work: Work, secret: SecretRule, what: string): void {
  const parsed = WorkSchema.safeParse(work);
  if (!parsed.success) throw new ModelMismatch(`${what}: not a valid Work object: ${parsed.error.issues.map((issue) => issue.path.join('.')).join(', ')}`);
  if (work.id !== item.id) throw new ModelMismatch(`${what}: id ${work.id}, expected ${item.id}`);
  if (work.environment_id !== environmentId) throw new ModelMismatch(`${what}: environment_id ${work.environment_id}, expected ${environmentId}`);
  if (work.data.type !== item.data.type || work.data.id !== item.data.id) {
    throw new ModelMismatch(`${what}: data ${JSON.stringify(work.data)}, expected ${JSON.stringify(item.data)}`);
  }
  if (work.state !== item.state) throw new ModelMismatch(`${what}: state ${work.state}, expected ${item.state}`);
  for (const name of TIME_NAMES) {
    item.times[name] = pinTime(item.times[name], work[name], model.nowUs, `${what}: ${name}`);
  }
  const actualMetadata = JSON.stringify(sortedEntries(work.metadata));
  const expectedMetadata = JSON.stringify(sortedEntries(item.metadata));
  if (actualMetadata !== expectedMetadata) throw new ModelMismatch(`${what}: metadata ${actualMetadata}, expected ${expectedMetadata}`);
  if (secret === 'null' && work.secret !== null) throw new ModelMismatch(`${what}: secret is non-null outside a poll answer`);
  if (secret === 'present' && work.secret === null) throw new ModelMismatch(`${what}: a poll answer without a secret`);
}

function sortedEntries(record: Readonly<Record<string, string>>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The sessions token inside a poll answer's `secret`. */
export function sessionsToken(work: Work, what: string): string {
  const decoded = decodeWorkSecret(work.secret);
  if (decoded.secret === null) throw new ModelMismatch(`${what}: secret does not decode: ${decoded.reason}`);
  return decoded.secret.sessions_token;
}

/**
 * After a step: `stats` matches the model, every item matches `get`, and every sessions token ever
 * issued resolves to its item exactly while it is the item's current token.
 */
export async function checkEnvironment(model: ReferenceModel, store: WorkStore, environment: EnvironmentRecord, what: string): Promise<void> {
  const stats = expectAnswer(await attempt(() => store.stats(environment.id)), `${what}: stats`);
  const expected = model.stats();
  if (stats.type !== 'work_queue_stats') throw new ModelMismatch(`${what}: stats type ${String(stats.type)}`);
  if (stats.depth !== expected.depth || stats.pending !== expected.pending) {
    throw new ModelMismatch(`${what}: stats depth/pending ${stats.depth}/${stats.pending}, expected ${expected.depth}/${expected.pending}`);
  }
  checkOldestQueued(model, stats.oldest_queued_at, expected.queued, `${what}: stats`);
  const polling = stats.workers_polling;
  if (polling === null || polling < expected.workersPolling.min || polling > expected.workersPolling.max) {
    throw new ModelMismatch(`${what}: stats workers_polling ${polling}, expected ${expected.workersPolling.min}–${expected.workersPolling.max}`);
  }
  for (const item of model.items()) {
    const work = expectAnswer(await attempt(() => store.get(environment.id, item.id)), `${what}: get ${item.id}`);
    checkWork(model, environment.id, item, work, 'null', `${what}: get ${item.id}`);
  }
  for (const [token, workId] of model.tokens()) {
    const principal = await store.resolveBearer(token);
    const live = model.tokenLive(token);
    if (live && (principal?.kind !== 'session' || principal.workId !== workId || principal.environmentId !== environment.id)) {
      throw new ModelMismatch(`${what}: the current sessions token of ${workId} resolves to ${JSON.stringify(principal)}`);
    }
    if (!live && principal !== null) {
      throw new ModelMismatch(`${what}: a sessions token of ${workId} still resolves after its item was delivered again or re-queued`);
    }
  }
}

/**
 * `oldest_queued_at` is null iff nothing is queued. The contract does not say whether a re-queued
 * item counts from its creation or from its re-queueing, so either reading is accepted: the oldest
 * `created_at` of the queued items, or the earliest (re-)queueing time among them.
 */
export function checkOldestQueued(model: ReferenceModel, oldest: string | null, queued: readonly ModelItem[], what: string): void {
  if (queued.length === 0) {
    if (oldest !== null) throw new ModelMismatch(`${what}: oldest_queued_at ${oldest} with nothing queued`);
    return;
  }
  if (oldest === null) throw new ModelMismatch(`${what}: oldest_queued_at null with ${queued.length} item(s) queued`);
  const us = parseTimestamp(oldest);
  if (us === null) throw new ModelMismatch(`${what}: oldest_queued_at ${oldest} is not a timestamp`);
  const byCreation = Math.min(...queued.map((item) => pinnedMicros(item.times.created_at, `created_at of ${item.id}`)));
  const queueing = queued.map((item) => queueingBounds(model, item));
  const byQueueing = queueing.some(({ lo, hi }) => lo <= us && us <= hi) && queueing.every(({ hi }) => hi >= us);
  if (us !== byCreation && !byQueueing) {
    throw new ModelMismatch(`${what}: oldest_queued_at ${oldest}, expected the oldest queued created_at ${formatTimestamp(byCreation)} or the earliest (re-)queueing time`);
  }
}

/** When a queued item was last put in the queue, as bounds in microseconds. */
function queueingBounds(model: ReferenceModel, item: ModelItem): { lo: number; hi: number } {
  const field = item.requeuedAt ?? item.times.created_at;
  switch (field.kind) {
    case 'exact':
      return { lo: field.us, hi: field.us };
    case 'range':
      return { lo: field.lo, hi: field.hi ?? model.nowUs + STAMP_SLACK_US };
    case 'null':
      throw new Error(`reference model: queued item ${item.id} has no queueing time`);
  }
}
