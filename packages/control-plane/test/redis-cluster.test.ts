/**
 * The Redis store on a real Redis Cluster (three masters on 127.0.0.1): the whole WorkStore
 * contract suite, environments spread over every node, wake-ups across nodes, and the control
 * plane started on it. A cluster refuses a script any key outside its declared keys' slot, so
 * the suite passing here shows that each environment's keys share one slot; the audit in
 * redis-store.test.ts shows that every key a script touches is declared.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock, type Work } from '@envworker/core';
import { startControlPlane, type ControlPlane } from '../src/index.js';
import { RedisWorkStore } from '../src/store/redis/redis-store.js';
import type { LeasePolicy } from '../src/store/work-store.js';
import { call } from './http-harness.js';
import { redisClusterUnavailable, startRedisCluster, type RedisCluster } from './redis/redis-cluster.js';
import { freePort, REDIS_REQUIRED } from './redis/redis-server.js';
import { describeWorkStore } from './store-suite.js';

const unavailable = redisClusterUnavailable();
if (unavailable !== null && !REDIS_REQUIRED) console.log(`Redis Cluster tests not run: ${unavailable}`);

describe('RedisWorkStore cluster options', () => {
  const refusal = async (cluster: unknown): Promise<string> => {
    const connecting = RedisWorkStore.connect({ cluster } as Parameters<typeof RedisWorkStore.connect>[0]);
    const error = await connecting.then(
      () => new Error('connected'),
      (reason: unknown) => reason as Error,
    );
    expect(error).toBeInstanceOf(TypeError);
    return error.message;
  };

  it('refuses a malformed cluster option with an error naming the field, and never repeats a password', async () => {
    expect(await refusal('redis://127.0.0.1:7000')).toMatch(/^redis\.cluster: must be an object/);
    expect(await refusal({ nodes: [] })).toMatch(/^redis\.cluster\.nodes: must be a non-empty array/);
    expect(await refusal({ nodes: ['redis://127.0.0.1:7000', 'http://127.0.0.1:7001'] })).toMatch(/^redis\.cluster\.nodes\[1\]: must be a redis:\/\//);
    expect(await refusal({ nodes: ['redis://127.0.0.1:7000/2'] })).toMatch(/^redis\.cluster\.nodes\[0\]: a Redis Cluster has database 0 only/);
    const mixed = await refusal({ nodes: ['redis://:hunter2secret@127.0.0.1:7000', 'redis://127.0.0.1:7001'] });
    expect(mixed).toMatch(/^redis\.cluster\.nodes\[1\]: every node must use the same scheme, user and password/);
    expect(mixed).not.toContain('hunter2secret');
    await expect(RedisWorkStore.connect({ url: 'redis://127.0.0.1:7000', cluster: { nodes: ['redis://127.0.0.1:7000'] } })).rejects.toThrow(
      /^redis\.cluster: give redis\.url \(one server\) or redis\.cluster, not both/,
    );
    await expect(RedisWorkStore.connect({})).rejects.toThrow(/^redis\.url: must be a redis:\/\/ or rediss:\/\/ URL/);
  });

  it('refuses to connect when no seed node answers, with a 503 naming the nodes', async () => {
    const port = await freePort();
    await expect(RedisWorkStore.connect({ cluster: { nodes: [`redis://127.0.0.1:${port}`] }, connectTimeoutMs: 500 })).rejects.toMatchObject({
      status: 503,
      message: expect.stringContaining(`redis store: cannot connect to the Redis Cluster at 127.0.0.1:${port}`),
    });
  });
});

describe.runIf(unavailable === null || REDIS_REQUIRED)('RedisWorkStore on a Redis Cluster', () => {
  let cluster: RedisCluster | undefined;
  const opened: Array<{ close(): Promise<void> }> = [];
  beforeAll(async () => {
    if (unavailable !== null) throw new Error(`ENVWORKER_REQUIRE_REDIS=1 but ${unavailable}`);
    cluster = await startRedisCluster();
  }, 30_000);
  afterAll(async () => {
    await Promise.all(opened.map((store) => store.close()));
    await cluster?.stop();
  });

  const connect = (clock: VirtualClock, lease?: Partial<LeasePolicy>, keyPrefix = `t${randomUUID()}:`) => {
    if (cluster === undefined) throw new Error('the Redis Cluster did not start');
    return RedisWorkStore.connect({ cluster: { nodes: cluster.urls }, keyPrefix, clock, ...(lease === undefined ? {} : { lease }) });
  };

  describeWorkStore('redis cluster', async (clock, lease) => connect(clock, lease));

  it('spreads environments over every node, and wakes a long poll on one replica by an enqueue on another, whichever node holds the environment', async () => {
    const nodes = cluster!.nodes.map((node) => new Redis(node.url));
    try {
      const clock = new VirtualClock(Date.parse('2026-11-28T12:00:00Z'));
      const keyPrefix = `t${randomUUID()}:`;
      const a = await connect(clock, undefined, keyPrefix);
      const b = await connect(clock, undefined, keyPrefix);
      opened.push(a, b);
      // One environment on each node: a node answers EXISTS for its own slots and redirects the others (MOVED).
      const byNode = new Map<number, string>();
      for (let attempt = 0; byNode.size < nodes.length && attempt < 200; attempt += 1) {
        const env = (await a.createEnvironment({ name: `spread-${attempt}` })).id;
        const owners = await Promise.allSettled(nodes.map((node) => node.exists(`${keyPrefix}{${env}}:env`)));
        const owner = owners.findIndex((answer) => answer.status === 'fulfilled' && answer.value === 1);
        expect(owner).toBeGreaterThanOrEqual(0);
        if (!byNode.has(owner)) byNode.set(owner, env);
      }
      expect(byNode.size).toBe(nodes.length);
      for (const env of byNode.values()) {
        // The virtual clock never ends this poll: only the pub/sub message of a's enqueue can answer it.
        const waiting = b.poll(env, { blockMs: 999, workerId: 'w' });
        const work = await a.enqueue(env, {});
        expect(((await waiting) as Work | null)?.id).toBe(work.id);
        expect(await a.stats(env)).toMatchObject({ depth: 0, pending: 1, workers_polling: 1 });
      }
    } finally {
      for (const node of nodes) node.disconnect();
    }
  }, 20_000);

  it('serves the Work API from startControlPlane with redis.cluster, ready while every slot is served', async () => {
    const plane: ControlPlane = await startControlPlane({ store: 'redis', redis: { cluster: { nodes: cluster!.urls }, keyPrefix: `t${randomUUID()}:` } });
    opened.push(plane);
    expect((await call(`${plane.url}/readyz`)).status).toBe(200);
    const environment = plane.environments[0]!;
    const enqueued = await plane.enqueue({ metadata: { via: 'cluster' } });
    const polled = await call(`${plane.url}/v1/environments/${environment.id}/work/poll`, { headers: { authorization: `Bearer ${environment.key}` } });
    expect(polled.status).toBe(200);
    expect(polled.body).toMatchObject({ id: enqueued.id, metadata: { via: 'cluster' } });
  });
});
