/**
 * The contract suite every WorkStore runs (the memory store now, the Redis store later): each row
 * of the lifecycle table of contract §4, fencing, TTL clamping, lease expiry, reclaim, FIFO order,
 * long polls, sessions tokens, metadata limits, list pagination and stats. It uses only the
 * WorkStore interface and drives time with a VirtualClock, so nothing here sleeps.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeWorkSecret,
  formatTimestamp,
  millisToMicros,
  NO_HEARTBEAT,
  parseTimestamp,
  VirtualClock,
  type Work,
} from '@envworker/core';
import { StoreError } from '../src/store/store-error.js';
import type { LeasePolicy, WorkStore } from '../src/store/work-store.js';

/** Builds a fresh, empty store on the given clock (and lease policy, when given). */
export type MakeStore = (clock: VirtualClock, lease?: Partial<LeasePolicy>) => Promise<WorkStore>;

const START = Date.parse('2026-11-28T12:00:00Z');
const SECOND = 1000;
const DEFAULT_TTL_MS = 120 * SECOND;
const ID = /^[0-9A-Za-z]{24}$/;

/** Awaits a call that must be refused, and returns the StoreError it was refused with. */
async function refusal(call: Promise<unknown>): Promise<StoreError> {
  const outcome = await call.then(
    (value) => ({ refused: false as const, value }),
    (error: unknown) => ({ refused: true as const, error }),
  );
  if (!outcome.refused) throw new Error(`expected a StoreError, the call resolved ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(StoreError);
  return outcome.error as StoreError;
}

function tokenOf(work: Work | null): string {
  const { secret, reason } = decodeWorkSecret(work?.secret);
  if (secret === null) throw new Error(`no usable secret: ${reason}`);
  return secret.sessions_token;
}

/** Whether a promise has settled once pending callbacks have run. */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

function micros(timestamp: string | null): number {
  const value = timestamp === null ? null : parseTimestamp(timestamp);
  if (value === null) throw new Error(`not a timestamp: ${String(timestamp)}`);
  return value;
}

export function describeWorkStore(name: string, makeStore: MakeStore): void {
  describe(`WorkStore contract: ${name}`, () => {
    let opened: WorkStore[] = [];
    afterEach(async () => {
      await Promise.all(opened.map((store) => store.close()));
      opened = [];
    });

    async function setup(lease?: Partial<LeasePolicy>) {
      const clock = new VirtualClock(START);
      const store = await makeStore(clock, lease);
      opened.push(store);
      const env = (await store.createEnvironment({ name: 'suite' })).id;
      /**
       * Enqueue, poll (delivering that item, the queue being otherwise empty) and ack. The clock
       * moves 1 ms before the ack so that its timestamp is the clock's reading (timestamps taken
       * in the same microsecond are pushed apart), which keeps lease ends on whole milliseconds.
       */
      const claim = async (workerId = 'worker-a') => {
        const queued = await store.enqueue(env, {});
        const polled = await store.poll(env, { workerId });
        expect(polled?.id).toBe(queued.id);
        clock.advance(1);
        const acked = await store.ack(env, queued.id);
        return { id: queued.id, token: tokenOf(polled), acked };
      };
      /** Claim and beat once, so the item is `active`. */
      const activate = async (desiredTtlSeconds?: number) => {
        const claimed = await claim();
        clock.advance(1);
        const beat = await store.heartbeat(env, claimed.id, {
          expectedLastHeartbeat: NO_HEARTBEAT,
          ...(desiredTtlSeconds === undefined ? {} : { desiredTtlSeconds }),
        });
        return { ...claimed, beat };
      };
      return { clock, store, env, claim, activate };
    }

    describe('environments and credentials', () => {
      it('creates an environment with a generated id and key, and finds it again', async () => {
        const { store } = await setup();
        const record = await store.createEnvironment({ name: 'second' });
        expect(record.id).toMatch(/^env_[0-9A-Za-z]{24}$/);
        expect(record.key.length).toBeGreaterThanOrEqual(32);
        expect(record.name).toBe('second');
        expect(parseTimestamp(record.created_at)).not.toBeNull();
        expect(await store.getEnvironment(record.id)).toEqual(record);
        expect(await store.getEnvironment('env_000000000000000000000000')).toBeNull();
      });

      it('keeps a given id and key, and refuses a second environment with the same id', async () => {
        const { store } = await setup();
        const id = 'env_AAAAAAAAAAAAAAAAAAAAAAAA';
        const record = await store.createEnvironment({ id, key: 'given-key-0123456789', name: 'given' });
        expect(record).toMatchObject({ id, key: 'given-key-0123456789' });
        expect((await refusal(store.createEnvironment({ id, name: 'again' }))).status).toBe(409);
      });

      it('refuses a malformed environment id with a 400 naming it', async () => {
        const { store } = await setup();
        const error = await refusal(store.createEnvironment({ id: 'env_short', name: 'x' }));
        expect(error.status).toBe(400);
        expect(error.message).toMatch(/^id: /);
      });

      it('resolves an environment key to its environment, and an unknown credential to null', async () => {
        const { store, env } = await setup();
        const record = await store.getEnvironment(env);
        expect(await store.resolveBearer(record!.key)).toEqual({ kind: 'environment', environmentId: env });
        expect(await store.resolveBearer('not-a-credential-anyone-issued')).toBeNull();
      });

      it('answers 404 for every call on an unknown environment', async () => {
        const { store } = await setup();
        const missing = 'env_ZZZZZZZZZZZZZZZZZZZZZZZZ';
        const calls: Array<Promise<unknown>> = [
          store.enqueue(missing, {}),
          store.poll(missing, {}),
          store.get(missing, 'work_x'),
          store.ack(missing, 'work_x'),
          store.heartbeat(missing, 'work_x', {}),
          store.stop(missing, 'work_x', { force: false }),
          store.list(missing, { limit: 10 }),
          store.update(missing, 'work_x', {}),
          store.stats(missing),
        ];
        for (const call of calls) {
          const error = await refusal(call);
          expect(error.status).toBe(404);
          expect(error.type).toBe('not_found_error');
        }
      });

      it('answers 404 for a work id of another environment', async () => {
        const { store, env } = await setup();
        const other = (await store.createEnvironment({ name: 'other' })).id;
        const work = await store.enqueue(env, {});
        for (const call of [store.get(other, work.id), store.ack(other, work.id), store.stop(other, work.id, { force: true })]) {
          expect((await refusal(call)).status).toBe(404);
        }
        expect((await store.get(env, work.id)).state).toBe('queued');
      });
    });

    describe('enqueue', () => {
      it('creates a queued session item with generated ids, no times but created_at, and no secret', async () => {
        const { store, env } = await setup();
        const work = await store.enqueue(env, { metadata: { origin: 'suite' } });
        expect(work).toMatchObject({
          type: 'work',
          environment_id: env,
          state: 'queued',
          acknowledged_at: null,
          started_at: null,
          latest_heartbeat_at: null,
          stop_requested_at: null,
          stopped_at: null,
          metadata: { origin: 'suite' },
          secret: null,
        });
        expect(work.id.slice(0, 5)).toBe('work_');
        expect(work.id.slice(5)).toMatch(ID);
        expect(work.data.type).toBe('session');
        expect(work.data.id.slice(0, 5)).toBe('sesn_');
        expect(work.data.id.slice(5)).toMatch(ID);
        const created = micros(work.created_at);
        expect(created).toBeGreaterThanOrEqual(millisToMicros(START));
        expect(created).toBeLessThan(millisToMicros(START + 1));
      });

      it('keeps a given data id and type, and generates an id for a health check without one', async () => {
        const { store, env } = await setup();
        expect((await store.enqueue(env, { data: { type: 'session', id: 'sesn_given' } })).data).toEqual({ type: 'session', id: 'sesn_given' });
        const healthcheck = await store.enqueue(env, { data: { type: 'healthcheck' } });
        expect(healthcheck.data.type).toBe('healthcheck');
        expect(healthcheck.data.id.length).toBeGreaterThan(0);
      });

      it('gives every item a distinct, increasing created_at even while the clock stands still', async () => {
        const { store, env } = await setup();
        const created: number[] = [];
        for (let i = 0; i < 50; i += 1) created.push(micros((await store.enqueue(env, {})).created_at));
        for (let i = 1; i < created.length; i += 1) expect(created[i]).toBeGreaterThan(created[i - 1]!);
      });

      it('refuses metadata beyond the limits with a 400 naming the key', async () => {
        const { store, env } = await setup();
        const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
        expect((await refusal(store.enqueue(env, { metadata: tooMany }))).message).toMatch(/^metadata: .*16/);
        const longKey = 'k'.repeat(65);
        const keyError = await refusal(store.enqueue(env, { metadata: { [longKey]: 'v' } }));
        expect(keyError.status).toBe(400);
        expect(keyError.message).toContain('k'.repeat(64));
        const valueError = await refusal(store.enqueue(env, { metadata: { color: 'x'.repeat(513) } }));
        expect(valueError.message).toMatch(/^metadata\."color": .*512/);
        expect((await refusal(store.enqueue(env, { metadata: { '': 'v' } }))).status).toBe(400);
        // Exactly at the limits is fine.
        const atLimits = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`${i}`.padEnd(64, 'k'), 'v'.repeat(512)]));
        expect(Object.keys((await store.enqueue(env, { metadata: atLimits })).metadata)).toHaveLength(16);
        expect((await store.stats(env)).depth).toBe(1);
      });
    });

    describe('poll', () => {
      it('answers null at once when nothing is queued and no block_ms is given', async () => {
        const { store, env } = await setup();
        expect(await store.poll(env, { workerId: 'w' })).toBeNull();
      });

      it('delivers the oldest queued item, still queued, with a secret carrying a sessions token', async () => {
        const { store, env } = await setup();
        const first = await store.enqueue(env, {});
        await store.enqueue(env, {});
        const polled = await store.poll(env, { workerId: 'w' });
        expect(polled).toMatchObject({ id: first.id, state: 'queued' });
        expect(tokenOf(polled).length).toBeGreaterThanOrEqual(32);
        expect(await store.stats(env)).toMatchObject({ depth: 1, pending: 1 });
      });

      it('never shows the secret outside the poll answer', async () => {
        const { store, env } = await setup();
        const work = await store.enqueue(env, {});
        await store.poll(env, {});
        expect((await store.get(env, work.id)).secret).toBeNull();
        expect((await store.list(env, { limit: 10 })).data.map((item) => item.secret)).toEqual([null]);
        expect((await store.update(env, work.id, { a: 'b' })).secret).toBeNull();
        expect((await store.ack(env, work.id)).secret).toBeNull();
        expect((await store.stop(env, work.id, { force: true })).secret).toBeNull();
      });

      it('delivers in FIFO order of enqueueing', async () => {
        const { store, env } = await setup();
        const ids: string[] = [];
        for (let i = 0; i < 5; i += 1) ids.push((await store.enqueue(env, {})).id);
        const delivered: string[] = [];
        for (let i = 0; i < 5; i += 1) delivered.push((await store.poll(env, {}))!.id);
        expect(delivered).toEqual(ids);
        expect(await store.poll(env, {})).toBeNull();
      });

      it('redelivers an unacked item (to any worker) only once it is older than reclaim_older_than_ms', async () => {
        const { store, env, clock } = await setup();
        const work = await store.enqueue(env, {});
        const first = await store.poll(env, { workerId: 'a', reclaimOlderThanMs: 1000 });
        clock.advance(1000);
        expect(await store.poll(env, { workerId: 'b', reclaimOlderThanMs: 1000 })).toBeNull();
        clock.advance(1);
        const second = await store.poll(env, { workerId: 'b', reclaimOlderThanMs: 1000 });
        expect(second?.id).toBe(work.id);
        expect(tokenOf(second)).not.toBe(tokenOf(first));
        expect(await store.stats(env)).toMatchObject({ depth: 0, pending: 1 });
      });

      it('reclaims after the default of 5000 ms when reclaim_older_than_ms is omitted', async () => {
        const { store, env, clock } = await setup();
        const work = await store.enqueue(env, {});
        await store.poll(env, {});
        clock.advance(5000);
        expect(await store.poll(env, {})).toBeNull();
        clock.advance(1);
        expect((await store.poll(env, {}))?.id).toBe(work.id);
      });

      it('prefers a reclaimable item queued earlier over a newer undelivered one', async () => {
        const { store, env, clock } = await setup();
        const older = await store.enqueue(env, {});
        const newer = await store.enqueue(env, {});
        await store.poll(env, {});
        clock.advance(100);
        expect((await store.poll(env, { reclaimOlderThanMs: 50 }))?.id).toBe(older.id);
        expect((await store.poll(env, { reclaimOlderThanMs: 50 }))?.id).toBe(newer.id);
      });

      it('re-queues an expired lease at the tail, behind items queued before the expiry', async () => {
        const { store, env, clock, claim } = await setup();
        const expiring = await claim();
        const waiting = await store.enqueue(env, {});
        clock.advance(DEFAULT_TTL_MS);
        const later = await store.enqueue(env, {});
        const order: string[] = [];
        for (let i = 0; i < 3; i += 1) order.push((await store.poll(env, {}))!.id);
        expect(order).toEqual([waiting.id, expiring.id, later.id]);
      });

      it('refuses out-of-range block_ms and reclaim_older_than_ms with a 400 naming them', async () => {
        const { store, env } = await setup();
        expect((await refusal(store.poll(env, { blockMs: 0 }))).message).toMatch(/^block_ms: /);
        expect((await refusal(store.poll(env, { blockMs: 1000 }))).message).toMatch(/^block_ms: /);
        expect((await refusal(store.poll(env, { reclaimOlderThanMs: 0 }))).message).toMatch(/^reclaim_older_than_ms: /);
      });

      it('delivers in FIFO order whatever the interleaving of enqueues and polls', async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }), async (steps) => {
            const { store, env } = await setup();
            const expected: string[] = [];
            const delivered: string[] = [];
            for (const isEnqueue of steps) {
              if (isEnqueue) expected.push((await store.enqueue(env, {})).id);
              else {
                const work = await store.poll(env, {});
                if (work !== null) delivered.push(work.id);
              }
            }
            expect(delivered).toEqual(expected.slice(0, delivered.length));
            await store.close();
          }),
          { numRuns: 30 },
        );
      });
    });

    describe('long poll', () => {
      it('waits up to block_ms on the clock and then answers null', async () => {
        const { store, env, clock } = await setup();
        const poll = store.poll(env, { blockMs: 500 });
        clock.advance(499);
        expect(await hasSettled(poll)).toBe(false);
        clock.advance(1);
        expect(await poll).toBeNull();
      });

      it('wakes as soon as an item is enqueued, without the clock moving', async () => {
        const { store, env } = await setup();
        const poll = store.poll(env, { blockMs: 999, workerId: 'w' });
        expect(await hasSettled(poll)).toBe(false);
        const work = await store.enqueue(env, {});
        const polled = await poll;
        expect(polled?.id).toBe(work.id);
        expect(tokenOf(polled).length).toBeGreaterThan(0);
        expect(await store.stats(env)).toMatchObject({ depth: 0, pending: 1 });
      });

      it('gives each item to one waiting poll only, first come first served', async () => {
        const { store, env, clock } = await setup();
        const first = store.poll(env, { blockMs: 999 });
        const second = store.poll(env, { blockMs: 999 });
        const a = await store.enqueue(env, {});
        expect((await first)?.id).toBe(a.id);
        expect(await hasSettled(second)).toBe(false);
        const b = await store.enqueue(env, {});
        expect((await second)?.id).toBe(b.id);
        clock.advance(1000);
        expect(await store.stats(env)).toMatchObject({ depth: 0, pending: 2 });
      });

      it('wakes a waiting poll when a lease expires and its item is re-queued', async () => {
        const { store, env, clock, activate } = await setup();
        const { id } = await activate(10);
        clock.advance(9_500);
        const poll = store.poll(env, { blockMs: 999 });
        clock.advance(499);
        expect(await hasSettled(poll)).toBe(false);
        clock.advance(1);
        const polled = await poll;
        expect(polled).toMatchObject({ id, state: 'queued' });
      });

      it('wakes a waiting poll when a delivered item becomes reclaimable for it', async () => {
        const { store, env, clock } = await setup();
        const work = await store.enqueue(env, {});
        await store.poll(env, { workerId: 'a' });
        clock.advance(10);
        const poll = store.poll(env, { workerId: 'b', blockMs: 999, reclaimOlderThanMs: 100 });
        clock.advance(90);
        expect(await hasSettled(poll)).toBe(false);
        clock.advance(1);
        expect((await poll)?.id).toBe(work.id);
      });

      it('serves the waiter that can reclaim even when an earlier waiter reclaims later', async () => {
        const { store, env, clock } = await setup();
        const work = await store.enqueue(env, {});
        await store.poll(env, {});
        const patient = store.poll(env, { blockMs: 999, reclaimOlderThanMs: 5000 });
        const eager = store.poll(env, { blockMs: 999, reclaimOlderThanMs: 200 });
        clock.advance(201);
        expect((await eager)?.id).toBe(work.id);
        clock.advance(798);
        expect(await patient).toBeNull();
      });

      it('leaves the queue untouched when a waiting poll is aborted', async () => {
        const { store, env } = await setup();
        const controller = new AbortController();
        const poll = store.poll(env, { blockMs: 999, signal: controller.signal });
        controller.abort();
        expect(await poll).toBeNull();
        const work = await store.enqueue(env, {});
        expect(await store.stats(env)).toMatchObject({ depth: 1, pending: 0 });
        expect((await store.poll(env, {}))?.id).toBe(work.id);
      });

      it('answers null at once for a poll whose signal is already aborted', async () => {
        const { store, env } = await setup();
        const controller = new AbortController();
        controller.abort();
        expect(await store.poll(env, { blockMs: 999, signal: controller.signal })).toBeNull();
        await store.enqueue(env, {});
        expect((await store.stats(env)).depth).toBe(1);
      });

      it('answers waiting polls with null when the store closes', async () => {
        const { store, env } = await setup();
        const poll = store.poll(env, { blockMs: 999 });
        await store.close();
        expect(await poll).toBeNull();
      });

      it('leaves no timer on the clock once closed', async () => {
        const { store, env, clock, activate } = await setup();
        await activate(30);
        await store.enqueue(env, {});
        await store.poll(env, {});
        const polls = [store.poll(env, { blockMs: 999 }), store.poll(env, { blockMs: 500, reclaimOlderThanMs: 100 })];
        expect(clock.pendingTimers()).toBeGreaterThan(0);
        await store.close();
        expect(await Promise.all(polls)).toEqual([null, null]);
        expect(clock.pendingTimers()).toBe(0);
      });
    });

    describe('ack', () => {
      it('moves a delivered item to starting, out of the queue, with acknowledged_at', async () => {
        const { store, env, clock } = await setup();
        const work = await store.enqueue(env, {});
        await store.poll(env, {});
        clock.advance(250);
        const acked = await store.ack(env, work.id);
        expect(acked.state).toBe('starting');
        expect(micros(acked.acknowledged_at)).toBeGreaterThanOrEqual(millisToMicros(START + 250));
        expect(acked.started_at).toBeNull();
        expect(await store.stats(env)).toMatchObject({ depth: 0, pending: 0, oldest_queued_at: null });
        expect(await store.poll(env, { reclaimOlderThanMs: 1 })).toBeNull();
      });

      it('refuses (409) to ack a queued item no poll delivered', async () => {
        const { store, env } = await setup();
        const work = await store.enqueue(env, {});
        const error = await refusal(store.ack(env, work.id));
        expect(error.status).toBe(409);
        expect(error.type).toBe('conflict_error');
        expect(error.headers['x-should-retry']).toBe('false');
        expect((await store.get(env, work.id)).state).toBe('queued');
      });

      it('answers a repeated ack of a starting or active item unchanged', async () => {
        const { store, env, claim } = await setup();
        const { id, acked } = await claim();
        expect(await store.ack(env, id)).toEqual(acked);
        await store.heartbeat(env, id, { expectedLastHeartbeat: NO_HEARTBEAT });
        const active = await store.get(env, id);
        expect(await store.ack(env, id)).toEqual(active);
      });

      it('refuses (409) to ack a stopping or stopped item', async () => {
        const { store, env, claim } = await setup();
        const { id } = await claim();
        await store.stop(env, id, { force: false });
        expect((await refusal(store.ack(env, id))).status).toBe(409);
        await store.stop(env, id, { force: false });
        expect((await refusal(store.ack(env, id))).status).toBe(409);
      });
    });

    describe('heartbeat', () => {
      it('claims a starting lease with NO_HEARTBEAT: active, started_at, the default TTL', async () => {
        const { store, env, clock, claim } = await setup();
        const { id } = await claim();
        clock.advance(SECOND);
        const beat = await store.heartbeat(env, id, { expectedLastHeartbeat: NO_HEARTBEAT });
        expect(beat).toMatchObject({ type: 'work_heartbeat', lease_extended: true, state: 'active', ttl_seconds: 120 });
        const work = await store.get(env, id);
        expect(work.state).toBe('active');
        expect(work.started_at).toBe(beat.last_heartbeat);
        expect(work.latest_heartbeat_at).toBe(beat.last_heartbeat);
        expect(micros(beat.last_heartbeat)).toBeGreaterThanOrEqual(millisToMicros(START + SECOND));
      });

      it('extends the lease when the echo matches, with a strictly greater last_heartbeat even at the same instant', async () => {
        const { store, env, activate } = await setup();
        const { id, beat } = await activate();
        let last = beat.last_heartbeat;
        for (let i = 0; i < 5; i += 1) {
          const next = await store.heartbeat(env, id, { expectedLastHeartbeat: last });
          expect(next).toMatchObject({ lease_extended: true, state: 'active' });
          expect(micros(next.last_heartbeat)).toBeGreaterThan(micros(last));
          last = next.last_heartbeat;
        }
        expect((await store.get(env, id)).latest_heartbeat_at).toBe(last);
      });

      it('refuses a stale echo with 412 and the current lease state', async () => {
        const { store, env, activate } = await setup();
        const { id, beat } = await activate(30);
        const error = await refusal(store.heartbeat(env, id, { expectedLastHeartbeat: NO_HEARTBEAT }));
        expect(error.status).toBe(412);
        expect(error.type).toBe('invalid_request_error');
        expect(error.details).toEqual({
          error_code: 'heartbeat_precondition_failed',
          current_state: { state: 'active', last_heartbeat: beat.last_heartbeat, lease_extended: false, ttl_seconds: 30 },
        });
      });

      it('reports a starting lease in a 412 with a null last_heartbeat and the ack TTL', async () => {
        const { store, env, claim } = await setup();
        const { id } = await claim();
        const error = await refusal(store.heartbeat(env, id, { expectedLastHeartbeat: formatTimestamp(millisToMicros(START)) }));
        expect(error.details).toEqual({
          error_code: 'heartbeat_precondition_failed',
          current_state: { state: 'starting', last_heartbeat: null, lease_extended: false, ttl_seconds: 120 },
        });
      });

      it('answers a beat on a queued item: 409 for NO_HEARTBEAT or none, 412 for any other echo', async () => {
        const { store, env } = await setup();
        const work = await store.enqueue(env, {});
        const conflict = await refusal(store.heartbeat(env, work.id, { expectedLastHeartbeat: NO_HEARTBEAT }));
        expect(conflict.status).toBe(409);
        expect(conflict.headers['x-should-retry']).toBe('false');
        expect((await refusal(store.heartbeat(env, work.id, {}))).status).toBe(409);
        const stale = await refusal(store.heartbeat(env, work.id, { expectedLastHeartbeat: formatTimestamp(millisToMicros(START)) }));
        expect(stale.status).toBe(412);
        expect(stale.details?.['current_state']).toEqual({ state: 'queued', last_heartbeat: null, lease_extended: false, ttl_seconds: 0 });
      });

      it('answers a beat on a stopped item with 200, lease_extended false, ttl 0, whatever the echo', async () => {
        const { store, env, activate } = await setup();
        const { id, beat } = await activate();
        await store.stop(env, id, { force: true });
        const answer = { type: 'work_heartbeat', last_heartbeat: beat.last_heartbeat, lease_extended: false, state: 'stopped', ttl_seconds: 0 };
        expect(await store.heartbeat(env, id, { expectedLastHeartbeat: beat.last_heartbeat })).toEqual(answer);
        expect(await store.heartbeat(env, id, { expectedLastHeartbeat: NO_HEARTBEAT })).toEqual(answer);
      });

      it('reports stopped_at as last_heartbeat for a stopped item that never had a beat', async () => {
        const { store, env } = await setup();
        const work = await store.enqueue(env, {});
        const stopped = await store.stop(env, work.id, { force: false });
        const beat = await store.heartbeat(env, work.id, { expectedLastHeartbeat: NO_HEARTBEAT });
        expect(beat).toMatchObject({ last_heartbeat: stopped.stopped_at, lease_extended: false, state: 'stopped', ttl_seconds: 0 });
      });

      it('extends the lease of a stopping item and leaves it stopping', async () => {
        const { store, env, clock, activate } = await setup();
        const { id, beat } = await activate(10);
        await store.stop(env, id, { force: false });
        clock.advance(9 * SECOND);
        const next = await store.heartbeat(env, id, { expectedLastHeartbeat: beat.last_heartbeat, desiredTtlSeconds: 10 });
        expect(next).toMatchObject({ lease_extended: true, state: 'stopping', ttl_seconds: 10 });
        clock.advance(9 * SECOND);
        expect((await store.get(env, id)).state).toBe('stopping');
      });

      it('clamps desired_ttl_seconds to [10, 600] by default', async () => {
        const { store, env, activate } = await setup();
        const { id, beat } = await activate(1);
        expect(beat.ttl_seconds).toBe(10);
        const long = await store.heartbeat(env, id, { expectedLastHeartbeat: beat.last_heartbeat, desiredTtlSeconds: 100_000 });
        expect(long.ttl_seconds).toBe(600);
        const within = await store.heartbeat(env, id, { expectedLastHeartbeat: long.last_heartbeat, desiredTtlSeconds: 45 });
        expect(within.ttl_seconds).toBe(45);
      });

      it('clamps to a configured policy and uses its default TTL', async () => {
        const { store, env, claim } = await setup({ minTtlSeconds: 5, maxTtlSeconds: 50, defaultTtlSeconds: 20 });
        const { id } = await claim();
        const beat = await store.heartbeat(env, id, { expectedLastHeartbeat: NO_HEARTBEAT });
        expect(beat.ttl_seconds).toBe(20);
        expect((await store.heartbeat(env, id, { expectedLastHeartbeat: beat.last_heartbeat, desiredTtlSeconds: 1 })).ttl_seconds).toBe(5);
        const last = (await store.get(env, id)).latest_heartbeat_at!;
        expect((await store.heartbeat(env, id, { expectedLastHeartbeat: last, desiredTtlSeconds: 51 })).ttl_seconds).toBe(50);
      });

      it('fences off a former holder once the item was re-queued and claimed again', async () => {
        const { store, env, clock, activate } = await setup();
        const first = await activate(10);
        clock.advance(10 * SECOND);
        const again = await store.poll(env, { workerId: 'worker-b' });
        expect(again?.id).toBe(first.id);
        await store.ack(env, first.id);
        const newBeat = await store.heartbeat(env, first.id, { expectedLastHeartbeat: NO_HEARTBEAT });
        const error = await refusal(store.heartbeat(env, first.id, { expectedLastHeartbeat: first.beat.last_heartbeat }));
        expect(error.status).toBe(412);
        expect(error.details?.['current_state']).toMatchObject({ last_heartbeat: newBeat.last_heartbeat });
      });

      it('accepts a beat without an echo (unconditional)', async () => {
        const { store, env, claim } = await setup();
        const { id } = await claim();
        expect(await store.heartbeat(env, id, {})).toMatchObject({ lease_extended: true, state: 'active' });
      });
    });

    describe('lease expiry', () => {
      it('gives an acked item the default TTL from its ack, then re-queues it with its lease fields cleared', async () => {
        const { store, env, clock, claim } = await setup();
        const { id, token, acked } = await claim();
        expect(micros(acked.acknowledged_at)).toBe(millisToMicros(clock.now()));
        clock.advance(DEFAULT_TTL_MS - 1);
        expect((await store.get(env, id)).state).toBe('starting');
        clock.advance(1);
        const work = await store.get(env, id);
        expect(work).toMatchObject({ state: 'queued', acknowledged_at: null, started_at: null, latest_heartbeat_at: null, stopped_at: null });
        expect(await store.resolveBearer(token)).toBeNull();
        const stats = await store.stats(env);
        expect(stats).toMatchObject({ depth: 1, pending: 0 });
        const leaseEnd = micros(acked.acknowledged_at) + millisToMicros(DEFAULT_TTL_MS);
        expect(micros(stats.oldest_queued_at)).toBeGreaterThanOrEqual(leaseEnd);
        expect(micros(stats.oldest_queued_at)).toBeLessThan(leaseEnd + 1000);
      });

      it('re-queues an active item whose TTL passed since its last beat', async () => {
        const { store, env, clock, activate } = await setup();
        const { id, beat } = await activate(30);
        clock.advance(20 * SECOND);
        const next = await store.heartbeat(env, id, { expectedLastHeartbeat: beat.last_heartbeat, desiredTtlSeconds: 30 });
        clock.advance(30 * SECOND - 1);
        expect((await store.get(env, id)).state).toBe('active');
        clock.advance(1);
        expect(await store.get(env, id)).toMatchObject({ state: 'queued', latest_heartbeat_at: null, started_at: null });
        const error = await refusal(store.heartbeat(env, id, { expectedLastHeartbeat: next.last_heartbeat }));
        expect(error.status).toBe(412);
        expect(error.details?.['current_state']).toMatchObject({ state: 'queued', last_heartbeat: null });
      });

      it('stops a stopping item whose lease expired', async () => {
        const { store, env, clock, activate } = await setup();
        const { id } = await activate(10);
        await store.stop(env, id, { force: false });
        clock.advance(10 * SECOND - 1);
        expect((await store.get(env, id)).state).toBe('stopping');
        clock.advance(1);
        const work = await store.get(env, id);
        expect(work.state).toBe('stopped');
        expect(micros(work.stopped_at)).toBeGreaterThanOrEqual(millisToMicros(START + 10 * SECOND));
        expect(await store.poll(env, { reclaimOlderThanMs: 1 })).toBeNull();
      });

      it('never expires a stopped item', async () => {
        const { store, env, clock, activate } = await setup();
        const { id } = await activate(10);
        const stopped = await store.stop(env, id, { force: true });
        clock.advance(DEFAULT_TTL_MS * 10);
        expect(await store.get(env, id)).toEqual(stopped);
      });
    });

    describe('stop', () => {
      it('stops a queued item nobody holds, whether delivered or not', async () => {
        const { store, env } = await setup();
        const delivered = await store.enqueue(env, {});
        const undelivered = await store.enqueue(env, {});
        const untouched = await store.enqueue(env, {});
        expect((await store.poll(env, {}))?.id).toBe(delivered.id);
        for (const id of [delivered.id, undelivered.id]) {
          const stopped = await store.stop(env, id, { force: false });
          expect(stopped.state).toBe('stopped');
          expect(stopped.stopped_at).not.toBeNull();
          expect(stopped.stop_requested_at).toBeNull();
        }
        expect(await store.stats(env)).toMatchObject({ depth: 1, pending: 0 });
        expect((await store.poll(env, { reclaimOlderThanMs: 1 }))?.id).toBe(untouched.id);
      });

      it('asks the holder of a starting or active item to stop (force false): stopping, lease kept', async () => {
        const { store, env, claim, activate } = await setup();
        const starting = await claim();
        const active = await activate();
        for (const id of [starting.id, active.id]) {
          const work = await store.stop(env, id, { force: false });
          expect(work.state).toBe('stopping');
          expect(work.stop_requested_at).not.toBeNull();
          expect(work.stopped_at).toBeNull();
        }
        const beat = await store.heartbeat(env, active.id, { expectedLastHeartbeat: active.beat.last_heartbeat });
        expect(beat).toMatchObject({ state: 'stopping', lease_extended: true });
      });

      it('stops a stopping item on any stop (the holder confirms)', async () => {
        const { store, env, activate } = await setup();
        for (const force of [false, true]) {
          const { id } = await activate();
          const requested = await store.stop(env, id, { force: false });
          const stopped = await store.stop(env, id, { force });
          expect(stopped.state).toBe('stopped');
          expect(stopped.stop_requested_at).toBe(requested.stop_requested_at);
          expect(stopped.stopped_at).not.toBeNull();
        }
      });

      it('stops a starting or active item at once with force, setting stop_requested_at and stopped_at', async () => {
        const { store, env, claim, activate } = await setup();
        for (const { id } of [await claim(), await activate()]) {
          const work = await store.stop(env, id, { force: true });
          expect(work.state).toBe('stopped');
          expect(work.stop_requested_at).not.toBeNull();
          expect(work.stopped_at).not.toBeNull();
        }
      });

      it('refuses (409, x-should-retry false) to stop a stopped item', async () => {
        const { store, env } = await setup();
        const work = await store.enqueue(env, {});
        await store.stop(env, work.id, { force: true });
        const error = await refusal(store.stop(env, work.id, { force: true }));
        expect(error.status).toBe(409);
        expect(error.headers['x-should-retry']).toBe('false');
      });

      it('never delivers a stopped item again', async () => {
        const { store, env, clock } = await setup();
        const work = await store.enqueue(env, {});
        await store.poll(env, {});
        await store.stop(env, work.id, { force: false });
        clock.advance(10 * SECOND);
        expect(await store.poll(env, { reclaimOlderThanMs: 1 })).toBeNull();
      });
    });

    describe('sessions tokens', () => {
      it('resolves a token to its own item', async () => {
        const { store, env, claim } = await setup();
        const { id, token } = await claim();
        expect(await store.resolveBearer(token)).toEqual({ kind: 'session', environmentId: env, workId: id });
      });

      it('keeps resolving a token after its item is stopped', async () => {
        const { store, env, activate } = await setup();
        const { id, token } = await activate();
        await store.stop(env, id, { force: true });
        expect(await store.resolveBearer(token)).toEqual({ kind: 'session', environmentId: env, workId: id });
      });

      it('revokes the earlier token when the item is redelivered', async () => {
        const { store, env, clock } = await setup();
        await store.enqueue(env, {});
        const first = await store.poll(env, {});
        clock.advance(5 * SECOND + 1);
        const second = await store.poll(env, {});
        expect(await store.resolveBearer(tokenOf(first))).toBeNull();
        expect(await store.resolveBearer(tokenOf(second))).toMatchObject({ kind: 'session', workId: second?.id });
      });

      it('revokes the token when the item is re-queued by an expired lease', async () => {
        const { store, clock, activate } = await setup();
        const { token } = await activate(10);
        clock.advance(10 * SECOND - 1);
        expect(await store.resolveBearer(token)).not.toBeNull();
        clock.advance(1);
        expect(await store.resolveBearer(token)).toBeNull();
      });

      it('issues distinct tokens to distinct items', async () => {
        const { store, env } = await setup();
        await store.enqueue(env, {});
        await store.enqueue(env, {});
        const a = tokenOf(await store.poll(env, {}));
        const b = tokenOf(await store.poll(env, {}));
        expect(a).not.toBe(b);
      });
    });

    describe('get and update', () => {
      it('gets an item in every state with a null secret', async () => {
        const { store, env, activate } = await setup();
        const { id } = await activate();
        expect(await store.get(env, id)).toMatchObject({ id, state: 'active', secret: null });
        expect((await refusal(store.get(env, 'work_AAAAAAAAAAAAAAAAAAAAAAAA'))).status).toBe(404);
      });

      it('merges metadata: a string upserts, null deletes, an omitted key stays; state unchanged', async () => {
        const { store, env, activate } = await setup();
        const { id } = await activate();
        await store.update(env, id, { keep: '1', change: 'old', drop: 'x' });
        const updated = await store.update(env, id, { change: 'new', drop: null, added: 'yes' });
        expect(updated.metadata).toEqual({ keep: '1', change: 'new', added: 'yes' });
        expect(updated.state).toBe('active');
      });

      it('updates a stopped item too', async () => {
        const { store, env } = await setup();
        const work = await store.enqueue(env, {});
        await store.stop(env, work.id, { force: true });
        expect((await store.update(env, work.id, { note: 'after' })).metadata).toEqual({ note: 'after' });
      });

      it('checks the limits on the result and leaves the metadata untouched when refused', async () => {
        const { store, env } = await setup();
        const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, 'v']));
        const work = await store.enqueue(env, { metadata: sixteen });
        const error = await refusal(store.update(env, work.id, { extra: 'v' }));
        expect(error.status).toBe(400);
        expect(error.message).toMatch(/^metadata: /);
        expect((await store.get(env, work.id)).metadata).toEqual(sixteen);
        // Deleting one makes room for one.
        const swapped = await store.update(env, work.id, { k0: null, extra: 'v' });
        expect(Object.keys(swapped.metadata)).toHaveLength(16);
        expect((await refusal(store.update(env, work.id, { ['x'.repeat(65)]: 'v' }))).message).toContain('x'.repeat(64));
        expect((await refusal(store.update(env, work.id, { k1: 'v'.repeat(513) }))).message).toMatch(/^metadata\."k1": /);
      });
    });

    describe('list', () => {
      it('lists newest first in pages, with next_page null on the last', async () => {
        const { store, env } = await setup();
        const ids: string[] = [];
        for (let i = 0; i < 7; i += 1) ids.push((await store.enqueue(env, {})).id);
        const pages: string[][] = [];
        let page: string | undefined;
        for (;;) {
          const answer = await store.list(env, { limit: 3, ...(page === undefined ? {} : { page }) });
          pages.push(answer.data.map((work) => work.id));
          if (answer.next_page === null) break;
          page = answer.next_page;
        }
        expect(pages).toEqual([ids.slice(4).reverse(), ids.slice(1, 4).reverse(), ids.slice(0, 1)]);
      });

      it('lists an empty environment as an empty last page', async () => {
        const { store, env } = await setup();
        expect(await store.list(env, { limit: 5 })).toEqual({ data: [], next_page: null });
      });

      it('refuses a malformed, altered, truncated or foreign cursor with a 400 naming page', async () => {
        const { store, env } = await setup();
        const other = (await store.createEnvironment({ name: 'other' })).id;
        for (let i = 0; i < 3; i += 1) {
          await store.enqueue(env, {});
          await store.enqueue(other, {});
        }
        const { next_page } = await store.list(env, { limit: 1 });
        const foreign = (await store.list(other, { limit: 1 })).next_page!;
        expect(next_page).not.toBeNull();
        const flip = (text: string, at: number) => `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;
        const altered = [0, 10, 20, 40, next_page!.length - 2, next_page!.length - 1].map((at) => flip(next_page!, at));
        for (const page of ['garbage!', 'bm90IGEgY3Vyc29y', next_page!.slice(0, -4), foreign, '', ...altered]) {
          const error = await refusal(store.list(env, { limit: 1, page }));
          expect(error.status).toBe(400);
          expect(error.message).toMatch(/^page: /);
        }
      });

      it('refuses a limit outside 1–100', async () => {
        const { store, env } = await setup();
        for (const limit of [0, 101, 1.5]) expect((await refusal(store.list(env, { limit }))).message).toMatch(/^limit: /);
      });

      it('never skips or repeats an item while others are added between pages', async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 0, max: 25 }),
            fc.array(fc.record({ limit: fc.integer({ min: 1, max: 6 }), added: fc.integer({ min: 0, max: 4 }) }), { minLength: 1, maxLength: 30 }),
            async (initial, steps) => {
              const { store, env } = await setup();
              const existing: string[] = [];
              for (let i = 0; i < initial; i += 1) existing.push((await store.enqueue(env, {})).id);
              const seen: string[] = [];
              let page: string | undefined;
              for (const [index, step] of steps.entries()) {
                const answer = await store.list(env, { limit: step.limit, ...(page === undefined ? {} : { page }) });
                seen.push(...answer.data.map((work) => work.id));
                for (let i = 0; i < step.added; i += 1) await store.enqueue(env, {});
                if (answer.next_page === null) break;
                page = answer.next_page;
                // Out of steps: page to the end with the largest page.
                if (index === steps.length - 1) {
                  for (;;) {
                    const rest = await store.list(env, { limit: 100, page });
                    seen.push(...rest.data.map((work) => work.id));
                    if (rest.next_page === null) break;
                    page = rest.next_page;
                  }
                }
              }
              expect(seen).toEqual([...existing].reverse());
              await store.close();
            },
          ),
          { numRuns: 40 },
        );
      });
    });

    describe('stats', () => {
      it('counts depth, pending and oldest_queued_at across enqueue, poll, ack and stop', async () => {
        const { store, env, clock } = await setup();
        expect(await store.stats(env)).toEqual({ type: 'work_queue_stats', depth: 0, pending: 0, oldest_queued_at: null, workers_polling: 0 });
        const a = await store.enqueue(env, {});
        clock.advance(SECOND);
        const b = await store.enqueue(env, {});
        expect(await store.stats(env)).toMatchObject({ depth: 2, pending: 0, oldest_queued_at: a.created_at });
        await store.poll(env, {});
        expect(await store.stats(env)).toMatchObject({ depth: 1, pending: 1, oldest_queued_at: a.created_at });
        await store.ack(env, a.id);
        expect(await store.stats(env)).toMatchObject({ depth: 1, pending: 0, oldest_queued_at: b.created_at });
        await store.stop(env, b.id, { force: false });
        expect(await store.stats(env)).toMatchObject({ depth: 0, pending: 0, oldest_queued_at: null });
      });

      it('counts distinct worker ids that polled in the last 30 seconds', async () => {
        const { store, env, clock } = await setup();
        await store.poll(env, { workerId: 'a' });
        await store.poll(env, { workerId: 'a' });
        await store.poll(env, {});
        clock.advance(20 * SECOND);
        await store.poll(env, { workerId: 'b' });
        expect((await store.stats(env)).workers_polling).toBe(2);
        clock.advance(10 * SECOND);
        expect((await store.stats(env)).workers_polling).toBe(2);
        clock.advance(1);
        expect((await store.stats(env)).workers_polling).toBe(1);
        clock.advance(20 * SECOND);
        expect((await store.stats(env)).workers_polling).toBe(0);
      });

      it('keeps each environment to itself', async () => {
        const { store, env } = await setup();
        const other = (await store.createEnvironment({ name: 'other' })).id;
        await store.enqueue(env, {});
        await store.poll(other, { workerId: 'x' });
        expect(await store.stats(other)).toMatchObject({ depth: 0, pending: 0, workers_polling: 1 });
        expect(await store.poll(other, {})).toBeNull();
        expect(await store.stats(env)).toMatchObject({ depth: 1, workers_polling: 0 });
      });
    });
  });
}
