/**
 * envworker's own client against the local control plane over real HTTP on 127.0.0.1: every
 * endpoint, every row of the lifecycle table (contract §4), every error status of §2, and
 * pagination while items are being added. The server runs on a virtual clock so leases expire
 * and reclaim windows pass without sleeping.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeWorkSecret,
  NO_HEARTBEAT,
  VirtualClock,
  WorkApiError,
  WorkClient,
  type Work,
} from '@envworker/core';
import { MemoryWorkStore, startControlPlane, type ControlPlane, type WorkStore } from '../src/index.js';

const START = Date.parse('2026-11-28T17:00:00Z');
const clock = new VirtualClock(START);
let cp: ControlPlane;
let admin: WorkClient;
const clients: WorkClient[] = [];

beforeAll(async () => {
  cp = await startControlPlane({ clock, lease: { minTtlSeconds: 10, maxTtlSeconds: 600, defaultTtlSeconds: 120 } });
  admin = track(new WorkClient({ baseUrl: cp.url, apiKey: cp.adminKey, retry: { maxRetries: 0 } }));
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await cp?.close();
});

function track(client: WorkClient): WorkClient {
  clients.push(client);
  return client;
}

/** A fresh environment per test, so no test sees another's items. */
async function environment(): Promise<{ id: string; key: string; worker: WorkClient; operator: WorkClient }> {
  const created = await admin.createEnvironment({ name: 'client-contract' });
  const worker = track(new WorkClient({ baseUrl: cp.url, environmentId: created.id, environmentKey: created.environment_key, retry: { maxRetries: 0 } }));
  const operator = track(new WorkClient({ baseUrl: cp.url, environmentId: created.id, apiKey: cp.adminKey, retry: { maxRetries: 0 } }));
  return { id: created.id, key: created.environment_key, worker, operator };
}

/** Waits, with a deadline, until the server reports `count` long polls parked (its own gauge). */
async function parkedPolls(plane: ControlPlane, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const metrics = await (await fetch(`${plane.url}/metrics`)).text();
    const match = /^envworker_control_plane_waiting_polls(?:\{[^}]*\})? (\d+)/m.exec(metrics);
    if (match !== null && Number(match[1]) === count) return;
    if (Date.now() > deadline) throw new Error(`no ${count} parked polls within 5 s:\n${metrics}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function failure(promise: Promise<unknown>): Promise<WorkApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkApiError);
  return error as WorkApiError;
}

function tokenOf(work: Work | null): string {
  const token = decodeWorkSecret(work?.secret).secret?.sessions_token;
  expect(token).toEqual(expect.any(String));
  return token!;
}

describe('lifecycle table, row by row', () => {
  it('queued, not delivered + poll: delivered with a fresh secret, still queued; pending +1, depth -1', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue({ metadata: { row: '1' } });
    expect(item).toMatchObject({ state: 'queued', secret: null, acknowledged_at: null, metadata: { row: '1' } });
    expect(await worker.stats()).toMatchObject({ depth: 1, pending: 0, oldest_queued_at: item.created_at });

    const polled = await worker.poll({ workerId: 'w1' });
    expect(polled).toMatchObject({ id: item.id, state: 'queued' });
    tokenOf(polled);
    expect(await worker.stats()).toMatchObject({ depth: 0, pending: 1, workers_polling: 1, oldest_queued_at: item.created_at });
    expect((await worker.get(item.id)).secret).toBeNull();
  });

  it('queued, delivered longer ago than reclaim_older_than_ms + poll: redelivered to any worker, the earlier secret revoked', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue();
    const first = await worker.poll({ workerId: 'w1', reclaimOlderThanMs: 2000 });
    expect(await worker.poll({ workerId: 'w2', reclaimOlderThanMs: 2000 })).toBeNull();

    // Redelivery needs an age strictly greater than the window (contract §4).
    clock.advance(2000);
    expect(await worker.poll({ workerId: 'w2', reclaimOlderThanMs: 2000 })).toBeNull();
    clock.advance(1);
    const second = await worker.poll({ workerId: 'w2', reclaimOlderThanMs: 2000 });
    expect(second?.id).toBe(item.id);
    expect(tokenOf(second)).not.toBe(tokenOf(first));
    const revoked = await failure(worker.heartbeat(item.id, { expectedLastHeartbeat: NO_HEARTBEAT }, { credential: tokenOf(first) }));
    expect(revoked).toMatchObject({ status: 401, type: 'authentication_error' });
    expect(await worker.stats()).toMatchObject({ depth: 0, pending: 1, workers_polling: 2 });
  });

  it('queued, delivered + ack: starting, acknowledged, out of the queue', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue();
    await worker.poll({ workerId: 'w1' });
    const acked = await worker.ack(item.id);
    expect(acked).toMatchObject({ state: 'starting', secret: null, started_at: null });
    expect(acked.acknowledged_at).not.toBeNull();
    expect(await worker.stats()).toMatchObject({ depth: 0, pending: 0, oldest_queued_at: null });
  });

  it('queued, not delivered + ack: 409, not to be retried', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue();
    const error = await failure(worker.ack(item.id));
    expect(error).toMatchObject({ status: 409, type: 'conflict_error', shouldRetryHeader: false });
    expect(error.isTransient()).toBe(false);
    expect(error.requestId).toMatch(/^req_/);
  });

  it('starting or active + ack: 200 and unchanged (an idempotent retry)', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue();
    await worker.poll({ workerId: 'w1' });
    const acked = await worker.ack(item.id);
    expect(await worker.ack(item.id)).toEqual(acked);
    await worker.heartbeat(item.id, { expectedLastHeartbeat: NO_HEARTBEAT });
    const active = await worker.get(item.id);
    expect(await worker.ack(item.id)).toEqual(active);
  });

  it('stopping or stopped + ack: 409', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue();
    await worker.poll({ workerId: 'w1' });
    await worker.ack(item.id);
    await operator.stop(item.id, { force: false });
    expect(await failure(worker.ack(item.id))).toMatchObject({ status: 409 });
    await worker.stop(item.id, { force: true });
    expect(await failure(worker.ack(item.id))).toMatchObject({ status: 409 });
  });

  it('starting + first heartbeat: active, started, lease claimed with the default TTL', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue();
    await worker.poll({ workerId: 'w1' });
    await worker.ack(item.id);
    const beat = await worker.heartbeat(item.id, { expectedLastHeartbeat: NO_HEARTBEAT });
    expect(beat).toMatchObject({ type: 'work_heartbeat', state: 'active', lease_extended: true, ttl_seconds: 120 });
    const active = await worker.get(item.id);
    expect(active).toMatchObject({ state: 'active', latest_heartbeat_at: beat.last_heartbeat });
    expect(active.started_at).not.toBeNull();
  });

  it('heartbeats extend the lease in starting, active and stopping, fenced by a strictly increasing last_heartbeat', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue();
    await worker.poll({ workerId: 'w1' });
    await worker.ack(item.id);
    // The virtual clock stands still: every beat lands in the same microsecond.
    const beats = [await worker.heartbeat(item.id, { expectedLastHeartbeat: NO_HEARTBEAT, desiredTtlSeconds: 30 })];
    for (let i = 0; i < 5; i += 1) {
      beats.push(await worker.heartbeat(item.id, { expectedLastHeartbeat: beats.at(-1)!.last_heartbeat, desiredTtlSeconds: 30 }));
    }
    for (let i = 1; i < beats.length; i += 1) expect(beats[i]!.last_heartbeat > beats[i - 1]!.last_heartbeat).toBe(true);

    await operator.stop(item.id, { force: false });
    const whileStopping = await worker.heartbeat(item.id, { expectedLastHeartbeat: beats.at(-1)!.last_heartbeat, desiredTtlSeconds: 30 });
    expect(whileStopping).toMatchObject({ state: 'stopping', lease_extended: true, ttl_seconds: 30 });
  });

  it('clamps desired_ttl_seconds to [min, max]', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue();
    await worker.poll({ workerId: 'w1' });
    await worker.ack(item.id);
    const low = await worker.heartbeat(item.id, { expectedLastHeartbeat: NO_HEARTBEAT, desiredTtlSeconds: 1 });
    expect(low.ttl_seconds).toBe(10);
    const high = await worker.heartbeat(item.id, { expectedLastHeartbeat: low.last_heartbeat, desiredTtlSeconds: 86_400 });
    expect(high.ttl_seconds).toBe(600);
  });

  it('a failed precondition: 412 with the lease as the server holds it', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue();
    await worker.poll({ workerId: 'w1' });
    await worker.ack(item.id);
    const beat = await worker.heartbeat(item.id, { expectedLastHeartbeat: NO_HEARTBEAT, desiredTtlSeconds: 40 });
    const stale = await failure(worker.heartbeat(item.id, { expectedLastHeartbeat: NO_HEARTBEAT }));
    expect(stale).toMatchObject({ status: 412, type: 'invalid_request_error' });
    expect(stale.isPreconditionFailed()).toBe(true);
    expect(stale.currentState).toEqual({ state: 'active', last_heartbeat: beat.last_heartbeat, lease_extended: false, ttl_seconds: 40 });
    expect(stale.isTransient()).toBe(false);
  });

  it('queued + heartbeat with NO_HEARTBEAT: 409 (not acknowledged)', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue();
    const polled = await worker.poll({ workerId: 'w1' });
    const error = await failure(worker.heartbeat(item.id, { expectedLastHeartbeat: NO_HEARTBEAT }, { credential: tokenOf(polled) }));
    expect(error).toMatchObject({ status: 409, type: 'conflict_error' });
  });

  it('stopped + heartbeat: 200, lease not extended, ttl 0, also with the sessions token', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue();
    const token = tokenOf(await worker.poll({ workerId: 'w1' }));
    await worker.ack(item.id);
    const beat = await worker.heartbeat(item.id, { expectedLastHeartbeat: NO_HEARTBEAT }, { credential: token });
    await operator.stop(item.id, { force: true });
    const after = await worker.heartbeat(item.id, { expectedLastHeartbeat: beat.last_heartbeat }, { credential: token });
    expect(after).toMatchObject({ state: 'stopped', lease_extended: false, ttl_seconds: 0 });
  });

  it('starting or active, lease expired: re-queued at the tail, lease fields cleared, token revoked', async () => {
    const { worker, operator } = await environment();
    const first = await operator.enqueue();
    const token = tokenOf(await worker.poll({ workerId: 'w1' }));
    await worker.ack(first.id);
    const beat = await worker.heartbeat(first.id, { expectedLastHeartbeat: NO_HEARTBEAT, desiredTtlSeconds: 10 }, { credential: token });
    const second = await operator.enqueue();

    // The lease ends one TTL after the stamp of the last beat, which the server may have moved a
    // few microseconds past its clock reading to keep stamps unique; a millisecond covers that.
    clock.advance(9_999);
    expect((await worker.get(first.id)).state).toBe('active');
    clock.advance(2);
    const requeued = await worker.get(first.id);
    expect(requeued).toMatchObject({ state: 'queued', acknowledged_at: null, started_at: null, latest_heartbeat_at: null });
    expect(await worker.stats()).toMatchObject({ depth: 2, pending: 0 });
    expect((await worker.poll({ workerId: 'w2' }))?.id).toBe(second.id);
    expect((await worker.poll({ workerId: 'w2' }))?.id).toBe(first.id);
    const revoked = await failure(worker.heartbeat(first.id, { expectedLastHeartbeat: beat.last_heartbeat }, { credential: token }));
    expect(revoked.status).toBe(401);
  });

  it('acked but never heartbeated: the lease is the default TTL from the ack', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue();
    await worker.poll({ workerId: 'w1' });
    await worker.ack(item.id);
    clock.advance(119_999);
    expect((await worker.get(item.id)).state).toBe('starting');
    clock.advance(2);
    expect((await worker.get(item.id)).state).toBe('queued');
  });

  it('stopping, lease expired: stopped', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue();
    await worker.poll({ workerId: 'w1' });
    await worker.ack(item.id);
    await worker.heartbeat(item.id, { expectedLastHeartbeat: NO_HEARTBEAT, desiredTtlSeconds: 10 });
    await operator.stop(item.id);
    clock.advance(9_999);
    expect((await worker.get(item.id)).state).toBe('stopping');
    clock.advance(2);
    const stopped = await worker.get(item.id);
    expect(stopped.state).toBe('stopped');
    expect(stopped.stopped_at).not.toBeNull();
  });

  it('queued, delivered or not + stop: stopped at once, out of the queue', async () => {
    const { worker, operator } = await environment();
    const undelivered = await operator.enqueue();
    const delivered = await operator.enqueue();
    await worker.poll({ workerId: 'w1' });
    expect(await worker.stats()).toMatchObject({ depth: 1, pending: 1 });
    expect((await operator.stop(undelivered.id, { force: false })).state).toBe('stopped');
    expect((await operator.stop(delivered.id)).state).toBe('stopped');
    expect(await worker.stats()).toMatchObject({ depth: 0, pending: 0, oldest_queued_at: null });
    expect(await worker.poll({ workerId: 'w1', reclaimOlderThanMs: 1 })).toBeNull();
  });

  it('starting or active + stop{force:false}: stopping; then stop from the holder: stopped', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue();
    const token = tokenOf(await worker.poll({ workerId: 'w1' }));
    await worker.ack(item.id);
    const stopping = await operator.stop(item.id, { force: false });
    expect(stopping.state).toBe('stopping');
    expect(stopping.stop_requested_at).not.toBeNull();
    expect(stopping.stopped_at).toBeNull();
    const stopped = await worker.stop(item.id, { force: true }, { credential: token });
    expect(stopped.state).toBe('stopped');
    expect(stopped.stopped_at).not.toBeNull();
  });

  it('stopping + stop without force also confirms', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue();
    await worker.poll({ workerId: 'w1' });
    await worker.ack(item.id);
    await operator.stop(item.id);
    expect((await worker.stop(item.id)).state).toBe('stopped');
  });

  it('starting or active + stop{force:true}: stopped, with stop_requested_at and stopped_at', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue();
    await worker.poll({ workerId: 'w1' });
    await worker.ack(item.id);
    await worker.heartbeat(item.id, { expectedLastHeartbeat: NO_HEARTBEAT });
    const stopped = await worker.stop(item.id, { force: true });
    expect(stopped.state).toBe('stopped');
    expect(stopped.stop_requested_at).not.toBeNull();
    expect(stopped.stopped_at).not.toBeNull();
  });

  it('stopped + stop: 409 with x-should-retry false', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue();
    await operator.stop(item.id, { force: true });
    const error = await failure(worker.stop(item.id, { force: true }));
    expect(error).toMatchObject({ status: 409, type: 'conflict_error', shouldRetryHeader: false });
  });

  it('get in any state: the item without its secret; update in any state: metadata merged, state unchanged', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue({ metadata: { a: '1', b: '2' } });
    await worker.poll({ workerId: 'w1' });
    expect(await worker.get(item.id)).toMatchObject({ state: 'queued', secret: null });
    const updated = await operator.update(item.id, { a: null, c: '3' });
    expect(updated).toMatchObject({ state: 'queued', metadata: { b: '2', c: '3' } });
    expect(Object.keys(updated.metadata).sort()).toEqual(['b', 'c']);
    await operator.stop(item.id);
    const afterStop = await worker.update(item.id, { b: 'two' });
    expect(afterStop).toMatchObject({ state: 'stopped', secret: null, metadata: { b: 'two', c: '3' } });
  });
});

describe('credentials', () => {
  it('a sessions token works for its own item only, and not for polling', async () => {
    const { worker, operator, id } = await environment();
    const mine = await operator.enqueue();
    const other = await operator.enqueue();
    const token = tokenOf(await worker.poll({ workerId: 'w1' }));
    await worker.ack(mine.id);
    expect((await worker.heartbeat(mine.id, { expectedLastHeartbeat: NO_HEARTBEAT }, { credential: token })).state).toBe('active');
    expect(await failure(worker.heartbeat(other.id, {}, { credential: token }))).toMatchObject({ status: 403, type: 'permission_error' });
    const asToken = track(new WorkClient({ baseUrl: cp.url, environmentId: id, environmentKey: token, retry: { maxRetries: 0 } }));
    expect(await failure(asToken.poll({ workerId: 'w1' }))).toMatchObject({ status: 403, type: 'permission_error' });
  });

  it('an unknown key is 401, another environment’s key 403, an unknown environment or item 404', async () => {
    const mine = await environment();
    const theirs = await environment();
    const stranger = track(new WorkClient({ baseUrl: cp.url, environmentId: mine.id, environmentKey: 'ek_not_a_real_key_at_all_0000', retry: { maxRetries: 0 } }));
    expect(await failure(stranger.stats())).toMatchObject({ status: 401, type: 'authentication_error' });
    const crossed = track(new WorkClient({ baseUrl: cp.url, environmentId: mine.id, environmentKey: theirs.key, retry: { maxRetries: 0 } }));
    expect(await failure(crossed.poll({ workerId: 'w1' }))).toMatchObject({ status: 403, type: 'permission_error' });
    expect(await failure(mine.worker.get('work_000000000000000000000000'))).toMatchObject({ status: 404, type: 'not_found_error' });
    const theirItem = await theirs.operator.enqueue();
    expect(await failure(mine.operator.get(theirItem.id))).toMatchObject({ status: 404 });
    const nowhere = track(new WorkClient({ baseUrl: cp.url, environmentId: 'env_000000000000000000000000', apiKey: cp.adminKey, retry: { maxRetries: 0 } }));
    expect(await failure(nowhere.stats())).toMatchObject({ status: 404, type: 'not_found_error' });
  });
});

describe('list', () => {
  it('pages newest first, never skipping or repeating an item while others are added', async () => {
    const { worker, operator } = await environment();
    const original = new Set<string>();
    for (let i = 0; i < 23; i += 1) original.add((await operator.enqueue()).id);
    const seen: Work[] = [];
    for await (const item of worker.listAll({ limit: 4 })) {
      seen.push(item);
      if (seen.length % 4 === 0) {
        await operator.enqueue();
        await operator.enqueue();
        clock.advance(1);
      }
    }
    const ids = seen.map((item) => item.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => original.has(id))).toHaveLength(original.size);
    for (let i = 1; i < seen.length; i += 1) expect(seen[i - 1]!.created_at >= seen[i]!.created_at).toBe(true);
  });

  it('refuses a cursor it did not make: 400 naming page', async () => {
    const { worker } = await environment();
    const error = await failure(worker.list({ page: 'not-a-cursor' }));
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error' });
    expect(error.message).toContain('page');
  });
});

describe('error statuses', () => {
  const extra: ControlPlane[] = [];
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((plane) => plane.close()));
  });

  it('400 names the field: a merge that would exceed 16 keys', async () => {
    const { worker, operator } = await environment();
    const item = await operator.enqueue({ metadata: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, 'v'])) });
    const error = await failure(worker.update(item.id, { k16: 'one too many' }));
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error' });
    expect(error.message).toContain('metadata');
  });

  it('413 for a body over 1 MiB', async () => {
    const { id, key, operator } = await environment();
    const item = await operator.enqueue();
    const response = await fetch(`${cp.url}/v1/environments/${id}/work/${item.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { big: 'x'.repeat(1024 * 1024) } }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
  });

  it('429 with retry-after when a rate limit is configured', async () => {
    const limited = await startControlPlane({ clock: new VirtualClock(START), rateLimit: { requestsPerSecond: 2 } });
    extra.push(limited);
    const environmentRecord = limited.environments[0]!;
    const client = track(new WorkClient({ baseUrl: limited.url, environmentId: environmentRecord.id, environmentKey: environmentRecord.key, retry: { maxRetries: 0 } }));
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => client.stats()));
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as WorkApiError);
    expect(refused.length).toBeGreaterThan(0);
    for (const error of refused) {
      expect(error).toMatchObject({ status: 429, type: 'rate_limit_error' });
      expect(error.retryAfterMs).toBeGreaterThan(0);
      expect(error.isTransient()).toBe(true);
    }
  });

  it('529 when the server sheds waiting polls', async () => {
    const planeClock = new VirtualClock(START);
    const shedding = await startControlPlane({ clock: planeClock, maxWaitingPolls: 1 });
    extra.push(shedding);
    const environmentRecord = shedding.environments[0]!;
    const client = track(new WorkClient({ baseUrl: shedding.url, environmentId: environmentRecord.id, environmentKey: environmentRecord.key, retry: { maxRetries: 0 } }));
    const waiting = client.poll({ workerId: 'w1', blockMs: 999 });
    // The first poll waits on the virtual clock; once it is parked the second one is refused.
    await parkedPolls(shedding, 1);
    const error = await failure(client.poll({ workerId: 'w2', blockMs: 999 }));
    expect(error).toMatchObject({ status: 529, type: 'overloaded_error' });
    expect(error?.isTransient()).toBe(true);
    planeClock.advance(999);
    expect(await waiting).toBeNull();
  });

  it('500 without a stack when the store fails unexpectedly', async () => {
    // A fake: a store that breaks on `stats`, a fault the real store cannot produce on demand.
    const real = new MemoryWorkStore({ clock: new VirtualClock(START) });
    const brokenStore = new Proxy(real, {
      get(target, property) {
        if (property === 'stats') return () => Promise.reject(new Error('disk on fire at /srv/secret/path.ts:12'));
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    }) as WorkStore;
    const broken = await startControlPlane({ store: brokenStore });
    extra.push(broken);
    const environmentRecord = broken.environments[0]!;
    const client = track(new WorkClient({ baseUrl: broken.url, environmentId: environmentRecord.id, environmentKey: environmentRecord.key, retry: { maxRetries: 0 } }));
    const error = await failure(client.stats());
    expect(error).toMatchObject({ status: 500, type: 'api_error' });
    expect(error.message).not.toContain('disk on fire');
    expect(error.message).not.toContain('.ts');
    expect(error.isTransient()).toBe(true);
  });
});

describe('long poll', () => {
  it('wakes as soon as an item is enqueued, with no time passing on the server clock', async () => {
    const { worker, operator } = await environment();
    const waiting = worker.poll({ workerId: 'w1', blockMs: 999 });
    // The virtual clock never moves in this test: only a wake-up can answer the parked poll.
    await parkedPolls(cp, 1);
    const item = await operator.enqueue();
    expect((await waiting)?.id).toBe(item.id);
  });

  it('answers null when block_ms passes on the server clock', async () => {
    const { worker } = await environment();
    const waiting = worker.poll({ workerId: 'w1', blockMs: 500 });
    await parkedPolls(cp, 1);
    clock.advance(500);
    expect(await waiting).toBeNull();
  });
});
