/**
 * The control plane on the Redis store when Redis goes away mid-run, with a real redis-server:
 * requests fail with 503 and a clear message, `/readyz` says not ready, `/healthz` stays up, and
 * both recover once Redis is back.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../src/index.js';
import { call, errorOf, waitFor } from './http-harness.js';
import { freePort, REDIS_REQUIRED, redisServerUnavailable, startRedisServer, type RedisServer } from './redis/redis-server.js';

const unavailable = redisServerUnavailable();
if (unavailable !== null && !REDIS_REQUIRED) console.log(`Redis outage tests not run: ${unavailable}`);

describe.runIf(unavailable === null || REDIS_REQUIRED)('the control plane on Redis during an outage', () => {
  let server: RedisServer | undefined;
  let cp: ControlPlane | undefined;
  beforeAll(async () => {
    if (unavailable !== null) throw new Error(`ENVWORKER_REQUIRE_REDIS=1 but ${unavailable}`);
    server = await startRedisServer();
    cp = await startControlPlane({ store: 'redis', redis: { url: server.url, keyPrefix: `t${randomUUID()}:`, commandTimeoutMs: 300 } });
  }, 15_000);
  afterAll(async () => {
    await cp?.close();
    server?.resume();
    await server?.stop();
  });

  const statsOf = async (plane: ControlPlane) => {
    const environment = plane.environments[0]!;
    return call(`${plane.url}/v1/environments/${environment.id}/work/stats`, { headers: { authorization: `Bearer ${environment.key}` } });
  };

  it('answers 503 while Redis hangs, reports not ready, and serves the same queue once it answers again', async () => {
    const plane = cp!;
    await plane.enqueue();
    expect((await statsOf(plane)).status).toBe(200);

    server!.pause();
    try {
      const ready = await call(`${plane.url}/readyz`);
      expect(ready.status).toBe(503);
      expect((await call(`${plane.url}/healthz`)).status).toBe(200);
      // Resolving the key needs Redis too: the request fails as a whole with 503, not 401.
      const stats = await statsOf(plane);
      expect(stats.status).toBe(503);
      expect(errorOf(stats).message).toMatch(/Redis work store is unreachable/);
    } finally {
      server!.resume();
    }
    await waitFor(async () => (await call(`${plane.url}/readyz`)).status === 200, '/readyz ready again', 10_000);
    const stats = await statsOf(plane);
    expect(stats.status).toBe(200);
    expect(stats.body).toMatchObject({ depth: 1 });
  }, 20_000);

  it('refuses to start on an unreachable Redis, naming the address, and refuses store redis without redis.url', async () => {
    const closedPort = await freePort();
    await expect(startControlPlane({ store: 'redis', redis: { url: `redis://127.0.0.1:${closedPort}`, connectTimeoutMs: 500 } })).rejects.toThrow(
      `redis store: cannot connect to redis://127.0.0.1:${closedPort}`,
    );
    await expect(startControlPlane({ store: 'redis' })).rejects.toThrow(/redis\.url is required/);
  });

  it('answers 503 while Redis is down and recovers when a Redis comes back on the same address', async () => {
    const plane = cp!;
    const port = server!.port;
    await server!.stop();
    expect((await call(`${plane.url}/readyz`)).status).toBe(503);
    const down = await statsOf(plane);
    expect(down.status).toBe(503);
    server = await startRedisServer(port);
    await waitFor(async () => (await call(`${plane.url}/readyz`)).status === 200, '/readyz ready again', 10_000);
    // The new server started empty (no persistence): the store serves it, and the old environment is gone.
    const environment = await plane.store.createEnvironment({ name: 'after-outage' });
    expect((await plane.store.enqueue(environment.id, {})).state).toBe('queued');
    expect((await statsOf(plane)).status).toBe(401);
  }, 20_000);
});
