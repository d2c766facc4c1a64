/**
 * The WorkStore contract suite and the model-based property on the Redis store, against a real
 * redis-server on 127.0.0.1 (each store under its own key prefix, so tests cannot see each other),
 * and the key discipline that lets it run on a Redis Cluster, watched on that server.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWorkSecret, NO_HEARTBEAT, VirtualClock, type Work } from '@envworker/core';
import { StoreError } from '../src/store/store-error.js';
import { EnvironmentKeys, GlobalKeys } from '../src/store/redis/keys.js';
import { RedisWorkStore } from '../src/store/redis/redis-store.js';
import { SCRIPTS } from '../src/store/redis/scripts.js';
import type { LeasePolicy } from '../src/store/work-store.js';
import { checkStoreAgainstModel } from './model/check-store.js';
import { REQUIRED_ROWS } from './model/coverage.js';
import { startKeyAudit } from './redis/key-audit.js';
import { REDIS_REQUIRED, redisServerUnavailable, startRedisServer, type RedisServer } from './redis/redis-server.js';
import { describeWorkStore } from './store-suite.js';

const unavailable = redisServerUnavailable();
if (unavailable !== null && !REDIS_REQUIRED) console.log(`Redis store tests not run: ${unavailable}`);
const run = unavailable === null || REDIS_REQUIRED;

describe.runIf(run)('RedisWorkStore', () => {
  let server: RedisServer | undefined;
  /** Stores made here (not by the suites, which close their own). */
  const opened: RedisWorkStore[] = [];
  beforeAll(async () => {
    if (unavailable !== null) throw new Error(`ENVWORKER_REQUIRE_REDIS=1 but ${unavailable}`);
    server = await startRedisServer();
  }, 15_000);
  afterAll(async () => {
    await Promise.all(opened.map((store) => store.close()));
    await server?.stop();
  });

  const connect = (clock: VirtualClock, lease?: Partial<LeasePolicy>, more: { keyPrefix?: string; maxWaitingPolls?: number } = {}) => {
    if (server === undefined) throw new Error('redis-server did not start');
    return RedisWorkStore.connect({ url: server.url, keyPrefix: `t${randomUUID()}:`, clock, ...(lease === undefined ? {} : { lease }), ...more });
  };

  /** Two replicas on one Redis and prefix, sharing one clock. */
  const replicas = async () => {
    const clock = new VirtualClock(Date.parse('2026-11-28T12:00:00Z'));
    const keyPrefix = `t${randomUUID()}:`;
    const a = await connect(clock, undefined, { keyPrefix });
    const b = await connect(clock, undefined, { keyPrefix });
    opened.push(a, b);
    const env = (await a.createEnvironment({ name: 'replicas' })).id;
    return { clock, a, b, env };
  };

  describeWorkStore('redis', async (clock, lease) => connect(clock, lease));

  describe('replicas and bounds', () => {
    it('wakes a long poll waiting on one replica when another replica enqueues', async () => {
      const { a, b, env } = await replicas();
      const poll = b.poll(env, { blockMs: 999, workerId: 'w' });
      const work = await a.enqueue(env, {});
      expect((await poll)?.id).toBe(work.id);
      expect(await a.stats(env)).toMatchObject({ depth: 0, pending: 1, workers_polling: 1 });
    });

    it('expires a lease once when every replica sweeps at the same time', async () => {
      const { clock, a, b, env } = await replicas();
      const work = await a.enqueue(env, {});
      await b.poll(env, {});
      await a.ack(env, work.id);
      await b.heartbeat(env, work.id, { expectedLastHeartbeat: NO_HEARTBEAT, desiredTtlSeconds: 10 });
      // The beat's stamp is a few µs past the clock (stamps never repeat), so its lease ends just after 10 s.
      clock.advance(10_001);
      await Promise.all([a.sweepExpiredLeases(), b.sweepExpiredLeases(), a.sweepExpiredLeases(), b.sweepExpiredLeases()]);
      expect(await a.stats(env)).toMatchObject({ depth: 1, pending: 0 });
      expect((await b.get(env, work.id)).state).toBe('queued');
      expect((await a.poll(env, {}))?.id).toBe(work.id);
      expect(await b.poll(env, {})).toBeNull();
    });

    it('delivers each item once when replicas poll one queue at the same time', async () => {
      const { a, b, env } = await replicas();
      const enqueued: string[] = [];
      for (let index = 0; index < 20; index += 1) enqueued.push((await a.enqueue(env, {})).id);
      const polls = await Promise.all(Array.from({ length: 50 }, (_, index) => (index % 2 === 0 ? a : b).poll(env, {})));
      const delivered = polls.flatMap((work) => (work === null ? [] : [work.id]));
      expect(delivered.sort()).toEqual(enqueued.sort());
      expect(await a.stats(env)).toMatchObject({ depth: 0, pending: 20 });
    });

    it('gives a reclaimable item to one of the replicas reclaiming it at the same time, and revokes the earlier token', async () => {
      const { clock, a, b, env } = await replicas();
      const work = await a.enqueue(env, {});
      const first = await a.poll(env, {});
      clock.advance(1001);
      const again = await Promise.all([a.poll(env, { reclaimOlderThanMs: 1000 }), b.poll(env, { reclaimOlderThanMs: 1000 })]);
      const winners = again.filter((polled) => polled !== null);
      expect(winners.map((polled) => polled.id)).toEqual([work.id]);
      const tokenOf = (polled: Work | null | undefined): string => decodeWorkSecret(polled?.secret).secret?.sessions_token ?? 'none';
      expect(await b.resolveBearer(tokenOf(first))).toBeNull();
      expect(await b.resolveBearer(tokenOf(winners[0]))).toEqual({ kind: 'session', environmentId: env, workId: work.id });
    });

    it('refuses a long poll beyond maxWaitingPolls with 529, and lets a non-waiting poll through', async () => {
      const store = await connect(new VirtualClock(0), undefined, { maxWaitingPolls: 1 });
      opened.push(store);
      const env = (await store.createEnvironment({ name: 'bounded' })).id;
      const waiting = store.poll(env, { blockMs: 999 });
      const refused = await store.poll(env, { blockMs: 999 }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(StoreError);
      expect(refused).toMatchObject({ status: 529, type: 'overloaded_error' });
      expect(await store.poll(env, {})).toBeNull();
      const work = await store.enqueue(env, {});
      expect((await waiting)?.id).toBe(work.id);
    });
  });

  describe('creating an environment another replica is creating', () => {
    // The other replica is played by hand on the raw keys: it has claimed the environment key for
    // this id and writes the record a moment later, the window a real race falls into.
    const setUp = async () => {
      const keyPrefix = `t${randomUUID()}:`;
      const store = await connect(new VirtualClock(Date.parse('2026-11-28T12:00:00Z')), undefined, { keyPrefix });
      const raw = new Redis(server!.url);
      const environment = { id: 'env_RaceInProgress0000000000', key: `ek_${randomUUID()}`, name: 'race' };
      await raw.set(new GlobalKeys(keyPrefix).environmentKey(environment.key), environment.id);
      return { store, raw, environment, record: new EnvironmentKeys(keyPrefix, environment.id).record };
    };

    it('answers "already exists" once the other replica has written the record', async () => {
      const { store, raw, environment, record } = await setUp();
      try {
        const creating = store.createEnvironment(environment);
        setTimeout(() => void raw.hset(record, 'id', environment.id, 'key', environment.key), 100);
        await expect(creating).rejects.toThrow(`environment ${environment.id} already exists`);
      } finally {
        raw.disconnect();
        await store.close();
      }
    });

    it('answers "key: already in use" when no record ever comes', async () => {
      const { store, raw, environment } = await setUp();
      try {
        await expect(store.createEnvironment(environment)).rejects.toThrow('key: already in use');
      } finally {
        raw.disconnect();
        await store.close();
      }
    });
  });

  describe('keys', () => {
    const lease: LeasePolicy = { minTtlSeconds: 10, maxTtlSeconds: 90, defaultTtlSeconds: 30 };

    it("declares every key each script touches, all under the environment's hash tag", async () => {
      const audit = await startKeyAudit(server!.url, new Map(Object.entries(SCRIPTS).map(([name, script]) => [name, script.lua])));
      let report: Awaited<ReturnType<typeof audit.stop>>;
      try {
        // Random interleavings reach every script; which rows of the lifecycle table they cover is the model test's concern.
        await checkStoreAgainstModel(async (clock) => connect(clock, lease), { lease, numRuns: 10, requireCoverage: false });
        // What the model does not do: the expiry sweep, here with a lease to expire.
        const { clock, a, env } = await replicas();
        const work = await a.enqueue(env, {});
        await a.poll(env, {});
        await a.ack(env, work.id);
        clock.advance(121_000);
        await a.sweepExpiredLeases();
        expect(await a.stats(env)).toMatchObject({ depth: 1, pending: 0 });
        // And every operation once more on purpose, so no script depends on the random runs to be audited.
        const polled = await a.poll(env, {});
        const token = decodeWorkSecret(polled!.secret).secret!.sessions_token;
        await a.ack(env, work.id);
        await a.heartbeat(env, work.id, { expectedLastHeartbeat: NO_HEARTBEAT });
        expect(await a.resolveBearer(token)).not.toBeNull();
        await a.update(env, work.id, { audited: 'yes' });
        await a.get(env, work.id);
        await a.list(env, { limit: 10 });
        await a.stop(env, work.id, { force: true });
      } finally {
        report = await audit.stop();
      }
      expect(report.violations).toEqual([]);
      expect([...report.calls.keys()].sort()).toEqual(Object.keys(SCRIPTS).sort());
    }, 60_000);

    it('notices, in that audit, a key touched without being declared and declared keys under two hash tags, in EVALSHA and EVAL calls', async () => {
      const probe = "#!lua\nredis.call('GET', KEYS[1])\nreturn redis.call('GET', ARGV[1])";
      const digest = createHash('sha1').update(probe).digest('hex');
      const audit = await startKeyAudit(server!.url, new Map([['probe', probe]]));
      const client = new Redis(server!.url);
      try {
        await client.evalsha(digest, 1, '{p}:a', '{p}:a');
        await client.evalsha(digest, 1, '{p}:a', '{p}:b');
        await client.evalsha(digest, 2, '{p}:a', '{q}:a', '{p}:a');
        // The script's source itself, as ioredis sends a script the first time on a connection.
        await client.eval(probe, 1, '{p}:a', '{p}:c');
      } finally {
        client.disconnect();
      }
      const report = await audit.stop();
      expect(report.calls.get('probe')).toBe(4);
      expect(report.violations).toEqual([
        'probe: GET touched undeclared key {p}:b',
        'probe: declared keys under 2 hash tags: {p}:a {q}:a',
        'probe: GET touched undeclared key {p}:c',
      ]);
    });
  });

  describe('against the reference model', () => {
    const lease: LeasePolicy = { minTtlSeconds: 10, maxTtlSeconds: 90, defaultTtlSeconds: 30 };
    it('answers interleavings of operations and clock moves as contract §4 says', async () => {
      const coverage = await checkStoreAgainstModel(async (clock) => connect(clock, lease), { lease, numRuns: 180 });
      for (const row of REQUIRED_ROWS) expect(coverage.get(row), row).toBeGreaterThan(0);
    }, 60_000);
  });
});
