/**
 * core's heartbeat stream against the real control plane, over real HTTP on 127.0.0.1: the claim,
 * the echo, a stop request, a force stop, a 412 after another worker took the item, a revoked
 * sessions token, an item never acked, an unknown item, an unreachable server, an unsubscribe.
 *
 * The server, the clients and the stream share one virtual clock, so leases expire and beats tick
 * only when a test advances it. The HTTP I/O is real, so after each advance a test awaits what the
 * stream does (an event, or the settling of a beat) with a real-time deadline.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  decodeWorkSecret,
  heartbeat$,
  NO_HEARTBEAT,
  VirtualClock,
  WorkApiError,
  WorkClient,
  type Clock,
  type HeartbeatClient,
  type HeartbeatParams,
  type HeartbeatStreamOptions,
  type LeaseEvent,
  type Work,
} from '@envworker/core';
import { startControlPlane, type ControlPlane } from '../src/index.js';

const T0 = Date.parse('2026-11-28T17:00:00Z');
const DEADLINE_MS = 5000;
/** The stream asks for 30 s, so it beats every 10 s. */
const TTL_SECONDS = 30;

let clock: VirtualClock;
let cp: ControlPlane;
let worker: WorkClient;
let operator: WorkClient;
const clients: WorkClient[] = [];

beforeEach(async () => {
  clock = new VirtualClock(T0);
  cp = await startControlPlane({ clock, lease: { minTtlSeconds: 10, maxTtlSeconds: 600, defaultTtlSeconds: 120 } });
  worker = workerClient(clock);
  operator = track(new WorkClient({ baseUrl: cp.url, environmentId: env().id, apiKey: cp.adminKey, clock, retry: { maxRetries: 0 } }));
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await cp.close();
});

function env(): { id: string; key: string } {
  const environment = cp.environments[0];
  if (environment === undefined) throw new Error('the control plane has no environment');
  return environment;
}

function track(client: WorkClient): WorkClient {
  clients.push(client);
  return client;
}

function workerClient(workerClock: Clock): WorkClient {
  return track(new WorkClient({ baseUrl: cp.url, environmentId: env().id, environmentKey: env().key, clock: workerClock, retry: { maxRetries: 0 } }));
}

/** Enqueues an item and has `client` poll and ack it; the lease starts when the ack is sent. */
async function claim(client: WorkClient, workerClock: Clock, workerId: string): Promise<{ work: Work; token: string; leaseStartedAt: number }> {
  await cp.enqueue();
  return claimQueued(client, workerClock, workerId);
}

async function claimQueued(client: WorkClient, workerClock: Clock, workerId: string): Promise<{ work: Work; token: string; leaseStartedAt: number }> {
  const work = await client.poll({ workerId });
  if (work === null) throw new Error('nothing to poll');
  const token = decodeWorkSecret(work.secret).secret?.sessions_token;
  if (token === undefined) throw new Error('the polled item has no sessions token');
  const leaseStartedAt = workerClock.now();
  await client.ack(work.id);
  return { work, token, leaseStartedAt };
}

/** The events of a subscription, awaited with a real-time deadline. */
function watch(events$: ReturnType<typeof heartbeat$>) {
  const events: LeaseEvent[] = [];
  let completed = false;
  const checks = new Set<() => void>();
  const wake = (): void => checks.forEach((check) => check());
  const until = (condition: () => boolean, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      if (condition()) return resolve();
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        checks.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        checks.delete(check);
        reject(new Error(`no ${what} within ${DEADLINE_MS} ms; events so far: ${events.map((event) => event.type).join(', ')}`));
      }, DEADLINE_MS);
      checks.add(check);
    });
  const subscription = events$.subscribe({
    next: (event) => {
      events.push(event);
      wake();
    },
    complete: () => {
      completed = true;
      wake();
    },
  });
  return {
    events,
    subscription,
    get completed() {
      return completed;
    },
    nth: async (n: number): Promise<LeaseEvent> => {
      await until(() => events.length >= n, `event #${n}`);
      return events[n - 1] as LeaseEvent;
    },
    done: () => until(() => completed, 'completion'),
  };
}

/** The real client, with each heartbeat call recorded on its way through, to await its settling. */
function observeBeats(client: WorkClient, workerClock: Clock) {
  const calls: Array<{ sentAt: number; params: HeartbeatParams; outcome: Promise<unknown> }> = [];
  const observed: HeartbeatClient = {
    heartbeat: (workId, params = {}, options = {}) => {
      const call = client.heartbeat(workId, params, options);
      calls.push({ sentAt: workerClock.now(), params, outcome: call.then(() => null, (err: unknown) => err) });
      return call;
    },
  };
  const settled = async (index: number): Promise<unknown> => {
    const call = calls[index];
    if (call === undefined) throw new Error(`beat #${index + 1} was never sent`);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`beat #${index + 1} did not settle within ${DEADLINE_MS} ms`)), DEADLINE_MS);
    });
    const outcome = await Promise.race([call.outcome, deadline]).finally(() => clearTimeout(timer));
    // The stream handled the outcome before us (its handler was attached first); one turn more for certain.
    await new Promise((resolve) => setImmediate(resolve));
    return outcome;
  };
  return { client: observed, calls, settled };
}

function stream(client: HeartbeatClient, workId: string, options: Omit<HeartbeatStreamOptions, 'clock'> & { clock?: Clock }) {
  return heartbeat$(client, workId, { clock, desiredTtlSeconds: TTL_SECONDS, ...options });
}

function renewedHeartbeat(event: LeaseEvent): string {
  if (event.type !== 'renewed' && event.type !== 'stop_requested') throw new Error(`expected a renewal, got ${event.type}`);
  return event.response.last_heartbeat;
}

describe('heartbeat$ holding a lease on the control plane', () => {
  it('claims the lease with NO_HEARTBEAT (starting → active), then echoes each last_heartbeat and keeps the item well past one TTL', async () => {
    const { work, token, leaseStartedAt } = await claim(worker, clock, 'w1');
    expect((await operator.get(work.id)).state).toBe('starting');
    const beats = observeBeats(worker, clock);
    const watched = watch(stream(beats.client, work.id, { leaseStartedAt, credential: token }));

    const first = await watched.nth(1);
    expect(first).toMatchObject({ type: 'renewed', response: { state: 'active', lease_extended: true, ttl_seconds: TTL_SECONDS } });
    expect(beats.calls[0]?.params.expectedLastHeartbeat).toBe(NO_HEARTBEAT);
    const active = await operator.get(work.id);
    expect(active).toMatchObject({ state: 'active', latest_heartbeat_at: renewedHeartbeat(first) });
    expect(active.started_at).not.toBeNull();

    let previous = renewedHeartbeat(first);
    // Six more beats, 60 s: twice the TTL, and the item is still held.
    for (let beat = 2; beat <= 7; beat++) {
      clock.advance(10_000);
      const event = await watched.nth(beat);
      expect(event.type).toBe('renewed');
      expect(beats.calls[beat - 1]?.params.expectedLastHeartbeat).toBe(previous);
      expect(renewedHeartbeat(event) > previous).toBe(true);
      previous = renewedHeartbeat(event);
    }
    expect(await operator.get(work.id)).toMatchObject({ state: 'active', latest_heartbeat_at: previous });
    watched.subscription.unsubscribe();
  });

  it('reports an operator stop {force:false} once as stop_requested, keeps the lease while stopping, and ends on the confirmed stop', async () => {
    const { work, token, leaseStartedAt } = await claim(worker, clock, 'w1');
    const watched = watch(stream(observeBeats(worker, clock).client, work.id, { leaseStartedAt, credential: token }));
    await watched.nth(1);
    await operator.stop(work.id, { force: false });

    clock.advance(10_000);
    expect(await watched.nth(2)).toMatchObject({ type: 'stop_requested', response: { state: 'stopping', lease_extended: true } });
    // The sandbox winds down for longer than a TTL; the lease is kept all along.
    for (let beat = 3; beat <= 6; beat++) {
      clock.advance(10_000);
      expect(await watched.nth(beat)).toMatchObject({ type: 'renewed', response: { state: 'stopping', lease_extended: true } });
    }
    expect((await operator.get(work.id)).state).toBe('stopping');

    // The holder confirms (contract §7.3); the next beat finds the item stopped.
    await worker.stop(work.id, { force: true }, { credential: token });
    clock.advance(10_000);
    expect(await watched.nth(7)).toMatchObject({ type: 'stopped', response: { state: 'stopped', lease_extended: false, ttl_seconds: 0 } });
    await watched.done();
    expect(watched.events.filter((event) => event.type === 'stop_requested')).toHaveLength(1);
  });

  it('ends with stopped after an operator force stop, and beats no more', async () => {
    const { work, token, leaseStartedAt } = await claim(worker, clock, 'w1');
    const beats = observeBeats(worker, clock);
    const watched = watch(stream(beats.client, work.id, { leaseStartedAt, credential: token }));
    await watched.nth(1);
    await operator.stop(work.id, { force: true });
    clock.advance(10_000);
    expect(await watched.nth(2)).toMatchObject({ type: 'stopped', response: { state: 'stopped' } });
    await watched.done();
    clock.advance(600_000);
    expect(beats.calls).toHaveLength(2);
  });
});

describe('heartbeat$ losing a lease on the control plane', () => {
  /**
   * Worker A froze (a suspended process) after its first beat: its clock stood still while the
   * server's ran on. That is the one way A can beat after the server dropped its lease, because a
   * running A declares the lease stale no later than the server expires it. So A gets a clock of
   * its own here; the server and worker B share the other.
   */
  async function frozenWorkerReplaced(credentialOfA: 'sessions token' | 'environment key') {
    const clockA = new VirtualClock(T0);
    const clientA = workerClient(clockA);
    const { work, token, leaseStartedAt } = await claim(clientA, clockA, 'worker-a');
    const beatsA = observeBeats(clientA, clockA);
    const watchedA = watch(
      stream(beatsA.client, work.id, {
        clock: clockA,
        leaseStartedAt,
        ...(credentialOfA === 'sessions token' ? { credential: token } : {}),
      }),
    );
    await watchedA.nth(1);

    clock.advance(TTL_SECONDS * 1000 + 1);
    expect((await operator.get(work.id)).state).toBe('queued');
    const b = await claimQueued(worker, clock, 'worker-b');
    expect(b.work.id).toBe(work.id);
    const bBeat = await worker.heartbeat(work.id, { expectedLastHeartbeat: NO_HEARTBEAT, desiredTtlSeconds: TTL_SECONDS }, { credential: b.token });

    // A wakes up one interval later by its own clock and beats with the value it holds.
    clockA.advance(10_000);
    const lost = await watchedA.nth(2);
    await watchedA.done();
    return { lost, bBeat, watchedA };
  }

  it('is lost with precondition and the new holder\'s current_state when another worker claimed the item after it expired', async () => {
    const { lost, bBeat, watchedA } = await frozenWorkerReplaced('environment key');
    expect(lost).toMatchObject({
      type: 'lost',
      reason: 'precondition',
      currentState: { state: 'active', last_heartbeat: bBeat.last_heartbeat },
    });
    expect(lost.type === 'lost' && lost.error?.status).toBe(412);
    expect(watchedA.events.map((event) => event.type)).toEqual(['renewed', 'lost']);
  });

  it('is lost as fatal when its sessions token was revoked by the re-queue (401)', async () => {
    const { lost } = await frozenWorkerReplaced('sessions token');
    expect(lost).toMatchObject({ type: 'lost', reason: 'fatal' });
    expect(lost.type === 'lost' && lost.error?.status).toBe(401);
  });

  it('is lost as fatal on an item polled but never acked (409), without claiming it', async () => {
    await cp.enqueue();
    const work = await worker.poll({ workerId: 'w1' });
    if (work === null) throw new Error('nothing to poll');
    const watched = watch(stream(worker, work.id, { leaseStartedAt: clock.now() }));
    const lost = await watched.nth(1);
    expect(lost).toMatchObject({ type: 'lost', reason: 'fatal' });
    expect(lost.type === 'lost' && lost.error?.status).toBe(409);
    await watched.done();
    expect((await operator.get(work.id)).state).toBe('queued');
  });

  it('is lost as fatal on an unknown item (404)', async () => {
    const watched = watch(stream(worker, 'work_000000000000000000000000', { leaseStartedAt: clock.now() }));
    const lost = await watched.nth(1);
    expect(lost).toMatchObject({ type: 'lost', reason: 'fatal' });
    expect(lost.type === 'lost' && lost.error?.status).toBe(404);
    await watched.done();
  });

  it('is lost as stale exactly one TTL after the last good send when the control plane is unreachable', async () => {
    const { work, token, leaseStartedAt } = await claim(worker, clock, 'w1');
    const beats = observeBeats(worker, clock);
    const watched = watch(stream(beats.client, work.id, { leaseStartedAt, credential: token }));
    await watched.nth(1);
    const lastGoodSentAt = beats.calls[0]?.sentAt ?? Number.NaN;
    await cp.close();

    for (const beat of [1, 2]) {
      clock.advance(10_000);
      const failure = await beats.settled(beat);
      expect(failure).toBeInstanceOf(WorkApiError);
      expect((failure as WorkApiError).isTransient()).toBe(true);
    }
    clock.advance(9_999);
    expect(watched.events).toHaveLength(1);
    clock.advance(1);
    expect(watched.events[1]).toEqual({ type: 'lost', at: lastGoodSentAt + TTL_SECONDS * 1000, reason: 'stale' });
    expect(watched.completed).toBe(true);
  });

  it('beats no more once unsubscribed, so the server re-queues the item after its TTL', async () => {
    const { work, token, leaseStartedAt } = await claim(worker, clock, 'w1');
    const beats = observeBeats(worker, clock);
    const watched = watch(stream(beats.client, work.id, { leaseStartedAt, credential: token }));
    await watched.nth(1);
    watched.subscription.unsubscribe();
    clock.advance(TTL_SECONDS * 1000 + 1);
    expect(beats.calls).toHaveLength(1);
    expect(watched.events).toHaveLength(1);
    expect(watched.completed).toBe(false);
    expect(await operator.get(work.id)).toMatchObject({ state: 'queued', latest_heartbeat_at: null });
  });
});
