/**
 * Two control-plane replicas over real HTTP on one real redis-server, on the system clock: a long
 * poll waiting on one replica is woken by an enqueue on the other, and the item's holder carries
 * on (ack, heartbeat with its sessions token) on the other replica.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWorkSecret, NO_HEARTBEAT, type HeartbeatResponse, type Work } from '@envworker/core';
import { startControlPlane, type ControlPlane } from '../src/index.js';
import { call, waitForWaitingPolls } from './http-harness.js';
import { REDIS_REQUIRED, redisServerUnavailable, startRedisServer, type RedisServer } from './redis/redis-server.js';

const unavailable = redisServerUnavailable();
if (unavailable !== null && !REDIS_REQUIRED) console.log(`Redis replica tests not run: ${unavailable}`);

describe.runIf(unavailable === null || REDIS_REQUIRED)('control-plane replicas on one Redis', () => {
  let server: RedisServer | undefined;
  const planes: ControlPlane[] = [];
  beforeAll(async () => {
    if (unavailable !== null) throw new Error(`ENVWORKER_REQUIRE_REDIS=1 but ${unavailable}`);
    server = await startRedisServer();
  }, 15_000);
  afterAll(async () => {
    await Promise.all(planes.map((plane) => plane.close()));
    await server?.stop();
  });

  it('wakes a long poll on one replica by an enqueue on the other, and serves the holder on either', async () => {
    const redis = { url: server!.url, keyPrefix: `t${randomUUID()}:` };
    const environment = { id: 'env_ReplicaTest0000000000000', key: `ek_${randomUUID()}`, name: 'replicas' };
    const first = await startControlPlane({ store: 'redis', redis, environments: [environment] });
    planes.push(first);
    const second = await startControlPlane({ store: 'redis', redis, environments: [environment] });
    planes.push(second);
    const work = (url: string) => `${url}/v1/environments/${environment.id}/work`;
    const key = { authorization: `Bearer ${environment.key}` };

    const waiting = call(`${work(second.url)}/poll?block_ms=999`, { headers: { ...key, 'anthropic-worker-id': 'w1' } });
    await waitForWaitingPolls(second, 1);
    const enqueued = await first.enqueue({ metadata: { via: 'first' } });
    const polled = await waiting;
    expect(polled.status).toBe(200);
    expect(polled.body).toMatchObject({ id: enqueued.id, state: 'queued', metadata: { via: 'first' } });
    const { secret } = decodeWorkSecret((polled.body as Work).secret);
    expect(secret).not.toBeNull();

    const acked = await call(`${work(first.url)}/${enqueued.id}/ack`, { method: 'POST', headers: key });
    expect(acked.body).toMatchObject({ state: 'starting' });
    const beat = await call(`${work(first.url)}/${enqueued.id}/heartbeat?expected_last_heartbeat=${NO_HEARTBEAT}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret!.sessions_token}` },
    });
    expect(beat.status).toBe(200);
    expect(beat.body).toMatchObject({ state: 'active', lease_extended: true });
    const stats = await call(`${work(second.url)}/stats`, { headers: key });
    expect(stats.body).toMatchObject({ depth: 0, pending: 0, workers_polling: 1 });
    const again = await call(`${work(second.url)}/${enqueued.id}/heartbeat?expected_last_heartbeat=${NO_HEARTBEAT}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret!.sessions_token}` },
    });
    expect(again.status).toBe(412);
    expect((beat.body as HeartbeatResponse).last_heartbeat).not.toBe(NO_HEARTBEAT);
  }, 15_000);

  it('starts replicas at the same moment on one environment: each uses the one the first created, and a wrong key is refused', async () => {
    const redis = { url: server!.url, keyPrefix: `t${randomUUID()}:` };
    const environment = { id: 'env_ReplicaRace0000000000000', key: `ek_${randomUUID()}`, name: 'race' };
    const started = await Promise.all([1, 2, 3].map(() => startControlPlane({ store: 'redis', redis, environments: [environment] })));
    planes.push(...started);
    expect(started.map((plane) => plane.environments[0]?.key)).toEqual([environment.key, environment.key, environment.key]);
    const intruder = startControlPlane({ store: 'redis', redis, environments: [{ ...environment, key: `ek_${randomUUID()}` }] });
    await expect(intruder).rejects.toThrow(`environments[0].key differs from the key of the existing environment ${environment.id}`);
  }, 15_000);
});
