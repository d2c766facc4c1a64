/**
 * `startControlPlane`: its defaults, the options it honours, the options it refuses (by name), and
 * what `close()` releases.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { NO_HEARTBEAT, VirtualClock } from '@envworker/core';
import { MemoryWorkStore, startControlPlane, type ControlPlaneOptions } from '../src/index.js';
import { call } from './http-harness.js';

describe('startControlPlane', () => {
  it('listens on 127.0.0.1 on a free port with one generated environment and admin key', async () => {
    const cp = await startControlPlane();
    try {
      expect(cp.url).toBe(`http://127.0.0.1:${cp.port}`);
      expect(cp.port).toBeGreaterThan(0);
      expect(cp.environments).toHaveLength(1);
      expect(cp.environments[0]!.id).toMatch(/^env_[0-9A-Za-z]{24}$/);
      expect(cp.environments[0]!.key.length).toBeGreaterThanOrEqual(32);
      expect(cp.adminKey.length).toBeGreaterThanOrEqual(32);
      expect(cp.adminKey).not.toBe(cp.environments[0]!.key);
      expect((await call(`${cp.url}/healthz`)).status).toBe(200);
    } finally {
      await cp.close();
    }
  });

  it('creates the environments and admin key it is given', async () => {
    const id = 'env_0123456789abcdefghijABCD';
    const cp = await startControlPlane({
      adminKey: 'admin-key-given-0123',
      environments: [{ id, key: 'environment-key-given-0123', name: 'first' }, { name: 'second' }],
    });
    try {
      expect(cp.adminKey).toBe('admin-key-given-0123');
      expect(cp.environments.map((environment) => environment.name)).toEqual(['first', 'second']);
      expect(cp.environments[0]).toMatchObject({ id, key: 'environment-key-given-0123' });
      const stats = await call(`${cp.url}/v1/environments/${id}/work/stats`, { headers: { authorization: 'Bearer environment-key-given-0123' } });
      expect(stats.status).toBe(200);
      const other = await cp.enqueue({}, cp.environments[1]!.id);
      expect(other.environment_id).toBe(cp.environments[1]!.id);
    } finally {
      await cp.close();
    }
  });

  it('applies a lease policy to its memory store', async () => {
    const cp = await startControlPlane({ lease: { minTtlSeconds: 2, maxTtlSeconds: 20, defaultTtlSeconds: 5 } });
    try {
      const environmentId = cp.environments[0]!.id;
      const work = await cp.enqueue();
      await cp.store.poll(environmentId, {});
      await cp.store.ack(environmentId, work.id);
      const beat = await call(`${cp.url}/v1/environments/${environmentId}/work/${work.id}/heartbeat?expected_last_heartbeat=${NO_HEARTBEAT}&desired_ttl_seconds=600`, {
        method: 'POST',
        headers: { authorization: `Bearer ${cp.environments[0]!.key}` },
      });
      expect(beat.body).toMatchObject({ ttl_seconds: 20 });
    } finally {
      await cp.close();
    }
  });

  it.each<[string, ControlPlaneOptions, RegExp]>([
    ['port', { port: 70000 }, /port/],
    ['port', { port: 1.5 }, /port/],
    ['host', { host: '' }, /host/],
    ['store', { store: 'redis' as 'memory' }, /store/],
    ['adminKey', { adminKey: 'short' }, /adminKey/],
    ['environments', { environments: [] }, /environments/],
    ['environments[0].key', { adminKey: 'same-key-0123456789', environments: [{ key: 'same-key-0123456789' }] }, /environments\[0\]\.key/],
    ['lease', { lease: { minTtlSeconds: 0 } }, /lease\.minTtlSeconds/],
    ['lease', { lease: { minTtlSeconds: 30, defaultTtlSeconds: 20 } }, /lease\.defaultTtlSeconds/],
    ['lease with a given store', { store: new MemoryWorkStore(), lease: { minTtlSeconds: 5 } }, /lease/],
    ['maxWaitingPolls', { maxWaitingPolls: 0 }, /maxWaitingPolls/],
    ['rateLimit', { rateLimit: { requestsPerSecond: 0 } }, /rateLimit\.requestsPerSecond/],
    ['rateLimit.burst', { rateLimit: { requestsPerSecond: 1, burst: 0.5 } }, /rateLimit\.burst/],
  ])('refuses a bad %s option, naming it', async (_name, options, named) => {
    await expect(startControlPlane(options)).rejects.toThrow(named);
  });

  it('refuses a bad environment id or key through the store, naming the field', async () => {
    await expect(startControlPlane({ environments: [{ id: 'env_bad' }] })).rejects.toThrow(/^id: /);
    await expect(startControlPlane({ environments: [{ key: 'has a space in it 0123' }] })).rejects.toThrow(/^key: /);
  });

  it('reports a port in use as an error', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startControlPlane({ port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('closes its own memory store, idempotently, and stops answering', async () => {
    const cp = await startControlPlane({ clock: new VirtualClock(Date.parse('2026-11-28T17:00:00Z')) });
    await Promise.all([cp.close(), cp.close()]);
    await cp.close();
    await expect(cp.store.ping()).rejects.toThrow(/closed/);
    await expect(fetch(`${cp.url}/healthz`)).rejects.toThrow();
  });

  it('uses an environment the given store already holds, refusing a different key for it', async () => {
    const store = new MemoryWorkStore();
    const existing = await store.createEnvironment({ name: 'kept', key: 'existing-key-0123456789' });
    try {
      const cp = await startControlPlane({ store, environments: [{ id: existing.id }] });
      expect(cp.environments).toEqual([existing]);
      await cp.close();
      const again = await startControlPlane({ store, environments: [{ id: existing.id, key: 'existing-key-0123456789' }] });
      expect(again.environments).toEqual([existing]);
      await again.close();
      await expect(startControlPlane({ store, environments: [{ id: existing.id, key: 'another-key-0123456789' }] })).rejects.toThrow(/environments\[0\]\.key/);
    } finally {
      await store.close();
    }
  });

  it('leaves a store it was given open', async () => {
    const store = new MemoryWorkStore();
    const cp = await startControlPlane({ store });
    await cp.close();
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
  });
});
