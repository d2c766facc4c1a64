/**
 * The heartbeat stream against the scripted fake server (`faultServer`), for what a real control
 * plane cannot do on demand: a 529 or 429 with a chosen `retry-after`, a 503, a beat that hangs,
 * an answer that arrives while virtual time moves on. The stream against the real control plane
 * (claim, echo, stop requests, force stop, 412, 401, 409, an unreachable server) is in
 * packages/control-plane/test/heartbeat-stream.test.ts.
 *
 * The client and the stream share one virtual clock, so beat ticks, cut-offs and the staleness
 * deadline all move only when a test advances it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkClient } from '../src/api/client.js';
import { ABORTED, TIMEOUT_ERROR, WorkApiError } from '../src/api/errors.js';
import { NO_HEARTBEAT } from '../src/api/wire.js';
import { heartbeat$ } from '../src/lease/heartbeat-stream.js';
import type { Clock } from '../src/time/clock.js';
import { VirtualClock } from '../src/time/virtual-clock.js';
import { apiError, FaultServer, hang, json } from './support/fault-server.js';
import { ENV_ID, ENV_KEY, heartbeatJson, SESSIONS_TOKEN, WORK_ID } from './support/fixtures.js';
import { CLOCK_START_MS } from './support/recording-clock.js';
import { observeBeats, watch, type ObservedClient } from './support/lease-watch.js';

const T0 = CLOCK_START_MS;
const beatAnswer = (lastHeartbeat: string, ttlSeconds: number) =>
  json(200, heartbeatJson({ last_heartbeat: lastHeartbeat, ttl_seconds: ttlSeconds, state: 'active', lease_extended: true }));
const HB1 = '2026-11-28T17:00:00.000001Z';
const HB2 = '2026-11-28T17:00:10.000002Z';
const HB3 = '2026-11-28T17:00:20.000003Z';

let faultServer: FaultServer;
let clock: VirtualClock;
let client: WorkClient;
let beats: ObservedClient;

beforeEach(async () => {
  faultServer = await FaultServer.start();
  clock = new VirtualClock(T0);
  // The client's own retry budget is large on purpose: the stream must override it with 0.
  client = new WorkClient({ baseUrl: faultServer.url, environmentId: ENV_ID, environmentKey: ENV_KEY, clock, retry: { maxRetries: 5 } });
  beats = observeBeats(client, clock);
});

afterEach(async () => {
  await client.close();
  await faultServer.close();
});

/** The stream of the fixture item, acked at T0, beating with its sessions token. */
const stream = (options: { desiredTtlSeconds?: number; leaseStartedAt?: number } = {}) =>
  heartbeat$(beats.client, WORK_ID, { clock, leaseStartedAt: T0, credential: SESSIONS_TOKEN, ...options });

describe('heartbeat$ beating', () => {
  it('is cold: no beat until subscribed', async () => {
    faultServer.reply(beatAnswer(HB1, 30));
    const events$ = stream();
    // A subscription beats synchronously, so no call here means none was made.
    expect(beats.calls).toHaveLength(0);
    const watched = watch(events$);
    expect(beats.calls).toHaveLength(1);
    await watched.nth(1);
    watched.subscription.unsubscribe();
  });

  it('beats at once with NO_HEARTBEAT and the sessions token, then echoes last_heartbeat one interval after each send', async () => {
    faultServer.reply(beatAnswer(HB1, 30), beatAnswer(HB2, 30), beatAnswer(HB3, 30));
    const watched = watch(stream({ desiredTtlSeconds: 45 }));
    expect(beats.calls).toHaveLength(1);
    expect(await watched.nth(1)).toMatchObject({ type: 'renewed', at: T0, latencyMs: 0, response: { last_heartbeat: HB1 } });
    const first = faultServer.requests[0];
    expect(first?.query.get('expected_last_heartbeat')).toBe(NO_HEARTBEAT);
    expect(first?.query.get('desired_ttl_seconds')).toBe('45');
    expect(first?.headers.authorization).toBe(`Bearer ${SESSIONS_TOKEN}`);

    // TTL 30 s: a beat every 10 s, measured from the previous send.
    clock.advance(9_999);
    expect(beats.calls).toHaveLength(1);
    clock.advance(1);
    expect(beats.calls).toHaveLength(2);
    expect(beats.calls[1]?.params).toEqual({ expectedLastHeartbeat: HB1, desiredTtlSeconds: 45 });
    expect(beats.calls[1]?.options).toMatchObject({ maxRetries: 0, timeoutMs: 10_000, credential: SESSIONS_TOKEN });
    // The answer to the second beat arrives 4 s (virtual) after it was sent.
    clock.advance(4_000);
    expect(await watched.nth(2)).toMatchObject({ type: 'renewed', at: T0 + 14_000, latencyMs: 4_000, response: { last_heartbeat: HB2 } });
    expect(faultServer.requests[1]?.query.get('expected_last_heartbeat')).toBe(HB1);

    // The third beat is due 10 s after the second was SENT (T0 + 20 s), not after its answer came.
    clock.advance(5_999);
    expect(beats.calls).toHaveLength(2);
    clock.advance(1);
    expect(beats.calls).toHaveLength(3);
    expect(await watched.nth(3)).toMatchObject({ type: 'renewed', response: { last_heartbeat: HB3 } });
    expect(faultServer.requests[2]?.query.get('expected_last_heartbeat')).toBe(HB2);
    expect(watched.completed).toBe(false);
    watched.subscription.unsubscribe();
  });

  it('cuts a hanging beat off after one interval and sends the next at once, with the same expected value', async () => {
    faultServer.reply(beatAnswer(HB1, 30), hang(), beatAnswer(HB2, 30));
    const watched = watch(stream());
    await watched.nth(1);
    clock.advance(10_000);
    expect(beats.calls).toHaveLength(2);
    await faultServer.waitForRequests(2);
    clock.advance(10_000);
    const cutOff = await beats.settled(1);
    expect(cutOff).toBeInstanceOf(WorkApiError);
    expect((cutOff as WorkApiError).type).toBe(TIMEOUT_ERROR);
    expect(beats.calls).toHaveLength(3);
    expect(beats.calls[2]?.sentAt).toBe(T0 + 20_000);
    expect(beats.calls[2]?.params.expectedLastHeartbeat).toBe(HB1);
    expect(await watched.nth(2)).toMatchObject({ type: 'renewed', response: { last_heartbeat: HB2 } });
    expect(watched.events.map((event) => event.type)).toEqual(['renewed', 'renewed']);
    watched.subscription.unsubscribe();
  });

  it('retries a 503 at the next tick, in one request per beat (no retry inside the client)', async () => {
    faultServer.reply(beatAnswer(HB1, 30), apiError(503, 'api_error', 'down'), beatAnswer(HB2, 30));
    const watched = watch(stream());
    await watched.nth(1);
    clock.advance(10_000);
    await beats.settled(1);
    expect(faultServer.requests).toHaveLength(2);
    expect(watched.events).toHaveLength(1);
    clock.advance(9_999);
    expect(beats.calls).toHaveLength(2);
    clock.advance(1);
    expect(await watched.nth(2)).toMatchObject({ type: 'renewed', response: { last_heartbeat: HB2 } });
    expect(faultServer.requests).toHaveLength(3);
    expect(faultServer.requests[2]?.query.get('expected_last_heartbeat')).toBe(HB1);
    watched.subscription.unsubscribe();
  });
});

/**
 * A clock whose timers fire `lagMs` after they are due, as on an event loop too busy to run them
 * on time: what a late beat needs, and what neither the system clock nor a virtual one does on
 * demand. Time itself is the test's virtual clock.
 */
function lateTimers(clock: VirtualClock): Clock & { lagMs: number } {
  return {
    lagMs: 0,
    now: () => clock.now(),
    setTimeout(fn, ms) {
      return clock.setTimeout(fn, ms + this.lagMs);
    },
    clearTimeout: (handle) => clock.clearTimeout(handle),
  };
}

describe('heartbeat$ lateness', () => {
  it('reports 0 for beats sent on time, the first (due at subscription) included', async () => {
    faultServer.reply(beatAnswer(HB1, 30), beatAnswer(HB2, 30));
    const watched = watch(stream());
    expect(await watched.nth(1)).toMatchObject({ type: 'renewed', lateMs: 0 });
    clock.advance(10_000);
    expect(beats.calls[1]?.sentAt).toBe(T0 + 10_000);
    expect(await watched.nth(2)).toMatchObject({ type: 'renewed', lateMs: 0, response: { last_heartbeat: HB2 } });
    watched.subscription.unsubscribe();
  });

  it('reports how long after its due time a beat went out when its timer fired late, and 0 again once on time', async () => {
    faultServer.reply(beatAnswer(HB1, 30), beatAnswer(HB2, 30), beatAnswer(HB3, 30));
    const slow = lateTimers(clock);
    slow.lagMs = 250;
    const watched = watch(heartbeat$(beats.client, WORK_ID, { clock: slow, leaseStartedAt: T0, credential: SESSIONS_TOKEN }));
    expect(await watched.nth(1)).toMatchObject({ type: 'renewed', lateMs: 0 });
    // Due at T0 + 10 s; the busy loop runs the timer 250 ms later.
    clock.advance(10_000);
    expect(beats.calls).toHaveLength(1);
    clock.advance(250);
    expect(beats.calls[1]?.sentAt).toBe(T0 + 10_250);
    slow.lagMs = 0;
    expect(await watched.nth(2)).toMatchObject({ type: 'renewed', lateMs: 250, response: { last_heartbeat: HB2 } });
    // The next is due one interval after the late send, and goes out on time.
    clock.advance(10_000);
    expect(beats.calls[2]?.sentAt).toBe(T0 + 20_250);
    expect(await watched.nth(3)).toMatchObject({ type: 'renewed', lateMs: 0, response: { last_heartbeat: HB3 } });
    watched.subscription.unsubscribe();
  });
});

describe('heartbeat$ under load shedding', () => {
  it('waits out a 529 retry-after instead of the interval', async () => {
    // TTL 60 s: the interval is 20 s; the server asks for 3 s.
    faultServer.reply(beatAnswer(HB1, 60), apiError(529, 'overloaded_error', 'busy', { 'retry-after': '3' }), beatAnswer(HB2, 60));
    const watched = watch(stream());
    await watched.nth(1);
    clock.advance(20_000);
    await beats.settled(1);
    clock.advance(2_999);
    expect(beats.calls).toHaveLength(2);
    clock.advance(1);
    expect(beats.calls).toHaveLength(3);
    expect(beats.calls[2]?.sentAt).toBe(T0 + 23_000);
    expect(await watched.nth(2)).toMatchObject({ type: 'renewed', response: { last_heartbeat: HB2 } });
    // One request per beat: the client did not retry the 529 itself.
    expect(faultServer.requests).toHaveLength(3);
    watched.subscription.unsubscribe();
  });

  it('honours a 429 retry-after longer than the lease has left by going stale at the deadline, not beating late', async () => {
    faultServer.reply(beatAnswer(HB1, 30), apiError(429, 'rate_limit_error', 'slow down', { 'retry-after': '60' }));
    const watched = watch(stream());
    await watched.nth(1);
    clock.advance(10_000);
    await beats.settled(1);
    clock.advance(19_999);
    expect(watched.events).toHaveLength(1);
    clock.advance(1);
    expect(await watched.nth(2)).toEqual({ type: 'lost', at: T0 + 30_000, reason: 'stale' });
    await watched.done();
    clock.advance(120_000);
    expect(beats.calls).toHaveLength(2);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('heartbeat$ staleness and teardown', () => {
  it('declares the lease stale exactly a TTL after the last good send while a beat hangs, and aborts that beat', async () => {
    // TTL 30 s. 0 s: good. 10 s: 529, retry in 5 s. 15 s: hangs, cut off at 25 s. 25 s: hangs past 30 s.
    faultServer.reply(beatAnswer(HB1, 30), apiError(529, 'overloaded_error', 'busy', { 'retry-after': '5' }), hang(), hang());
    const watched = watch(stream());
    await watched.nth(1);
    clock.advance(10_000);
    await beats.settled(1);
    clock.advance(5_000);
    await faultServer.waitForRequests(3);
    clock.advance(10_000);
    await beats.settled(2);
    expect(beats.calls[3]?.sentAt).toBe(T0 + 25_000);
    await faultServer.waitForRequests(4);
    clock.advance(4_999);
    expect(watched.events).toHaveLength(1);
    clock.advance(1);
    expect(watched.events[1]).toEqual({ type: 'lost', at: T0 + 30_000, reason: 'stale' });
    expect(watched.completed).toBe(true);
    const aborted = await beats.settled(3);
    expect((aborted as WorkApiError).type).toBe(ABORTED);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('moves the staleness deadline to the TTL the server answered, even when it is shorter than the assumed one', async () => {
    // Assumed 120 s until the first answer, which grants 10 s: a beat every 3.333 s, stale at 10 s.
    faultServer.reply(beatAnswer(HB1, 10), apiError(503, 'api_error', 'down'), apiError(503, 'api_error', 'down'));
    const watched = watch(heartbeat$(beats.client, WORK_ID, { clock, leaseStartedAt: T0, initialTtlSeconds: 120 }));
    await watched.nth(1);
    for (const beat of [1, 2]) {
      clock.advance(3_333);
      await beats.settled(beat);
    }
    faultServer.reply(hang());
    clock.advance(3_333);
    await faultServer.waitForRequests(4);
    clock.advance(1);
    expect(watched.events[1]).toEqual({ type: 'lost', at: T0 + 10_000, reason: 'stale' });
    expect(watched.completed).toBe(true);
  });

  it('goes stale before the first answer after the initial TTL (10 s by default) from the ack', async () => {
    faultServer.reply(hang(), hang());
    const watched = watch(stream({ leaseStartedAt: T0 - 4_000 }));
    await faultServer.waitForRequests(1);
    // The first beat is cut off after a third of 10 s; the next goes out at once and hangs too.
    clock.advance(3_333);
    await beats.settled(0);
    expect(beats.calls[1]?.sentAt).toBe(T0 + 3_333);
    clock.advance(2_666);
    expect(watched.events).toHaveLength(0);
    clock.advance(1);
    expect(watched.events).toEqual([{ type: 'lost', at: T0 + 6_000, reason: 'stale' }]);
    expect(watched.completed).toBe(true);
  });

  it('emits stale at once, without a beat, when subscribed a whole TTL after the ack', () => {
    const watched = watch(stream({ leaseStartedAt: T0 - 10_000 }));
    expect(watched.events).toEqual([{ type: 'lost', at: T0, reason: 'stale' }]);
    expect(watched.completed).toBe(true);
    expect(beats.calls).toHaveLength(0);
  });

  it('aborts the beat in flight and clears every timer on unsubscribe, emitting nothing', async () => {
    faultServer.reply(hang());
    const watched = watch(stream());
    await faultServer.waitForRequests(1);
    expect(clock.pendingTimers()).toBeGreaterThan(0);
    watched.subscription.unsubscribe();
    const outcome = await beats.settled(0);
    expect((outcome as WorkApiError).type).toBe(ABORTED);
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(3_600_000);
    expect(beats.calls).toHaveLength(1);
    expect(watched.events).toHaveLength(0);
    expect(watched.completed).toBe(false);
  });

  it('stops at once when the subscriber unsubscribes while handling an event', async () => {
    faultServer.reply(beatAnswer(HB1, 30));
    const events$ = stream();
    const seen: string[] = [];
    const subscription = events$.subscribe((event) => {
      seen.push(event.type);
      subscription.unsubscribe();
    });
    await beats.settled(0);
    expect(seen).toEqual(['renewed']);
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(3_600_000);
    expect(beats.calls).toHaveLength(1);
  });
});

describe('heartbeat$ inputs', () => {
  it('errors (not lost) when the client cannot be used, a programming error', async () => {
    await client.close();
    const watched = watch(stream());
    const error = await watched.failed();
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).toMatch(/closed/);
    expect(watched.events).toHaveLength(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('checks its options at call time, naming the bad one and never echoing a credential', () => {
    const good = { clock, leaseStartedAt: T0 };
    expect(() => heartbeat$(beats.client, '', good)).toThrow(/workId/);
    expect(() => heartbeat$(beats.client, WORK_ID, { ...good, clock: {} as VirtualClock })).toThrow(/clock\.now/);
    expect(() => heartbeat$(beats.client, WORK_ID, { ...good, leaseStartedAt: Number.NaN })).toThrow(/leaseStartedAt/);
    expect(() => heartbeat$(beats.client, WORK_ID, { ...good, desiredTtlSeconds: 0 })).toThrow(/desiredTtlSeconds/);
    expect(() => heartbeat$(beats.client, WORK_ID, { ...good, initialTtlSeconds: -1 })).toThrow(/initialTtlSeconds/);
    expect(() => heartbeat$({} as typeof beats.client, WORK_ID, good)).toThrow(/client\.heartbeat/);
    const badToken = 'secret token-with a space';
    expect(() => heartbeat$(beats.client, WORK_ID, { ...good, credential: badToken })).toThrow(/credential/);
    try {
      heartbeat$(beats.client, WORK_ID, { ...good, credential: badToken });
    } catch (err) {
      expect(String((err as Error).message)).not.toContain(badToken);
    }
    expect(beats.calls).toHaveLength(0);
  });
});
