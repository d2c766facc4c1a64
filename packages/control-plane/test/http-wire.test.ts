/**
 * The wire basics of contract §1 and the endpoints of §5–§6 over real HTTP: requests shaped
 * exactly as the official client sends them (empty POST bodies, `?beta=true`, charset
 * parameters), the `null` empty poll, sessions tokens, long polls that wake, that are abandoned by
 * their client, and that end with the server.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWorkSecret, NO_HEARTBEAT, VirtualClock, type HeartbeatResponse, type Work } from '@envworker/core';
import { startControlPlane, type ControlPlane } from '../src/index.js';
import { call, rawCall, waitForWaitingPolls } from './http-harness.js';

const START = Date.parse('2026-11-28T17:00:00Z');
let clock: VirtualClock;
let cp: ControlPlane;

beforeAll(async () => {
  clock = new VirtualClock(START);
  cp = await startControlPlane({ clock });
});

afterAll(async () => {
  await cp?.close();
});

/** A fresh environment, so that each test sees only its own items. */
async function environment() {
  const record = await cp.store.createEnvironment({ name: 'wire' });
  const base = `${cp.url}/v1/environments/${record.id}`;
  const key = { authorization: `Bearer ${record.key}` };
  const admin = { 'x-api-key': cp.adminKey };
  /** Enqueue, poll over HTTP, and return the item with its sessions token. */
  const polled = async (): Promise<{ work: Work; token: string }> => {
    await cp.enqueue({}, record.id);
    const answer = await call(`${base}/work/poll?beta=true`, { headers: { ...key, 'anthropic-worker-id': 'wire-worker' } });
    const work = answer.body as Work;
    const token = decodeWorkSecret(work.secret).secret?.sessions_token;
    if (token === undefined) throw new Error('the poll carried no sessions token');
    return { work, token };
  };
  return { id: record.id, base, key, admin, polled };
}

describe('poll', () => {
  it('answers an empty poll with 200, a JSON content type and the body null', async () => {
    const { base, key } = await environment();
    for (const query of ['', '?reclaim_older_than_ms=10']) {
      const answer = await call(`${base}/work/poll${query}`, { headers: key });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(answer.text).toBe('null');
    }
  });

  it('answers a long poll that found nothing with null once block_ms passed on the clock', async () => {
    const { base, key } = await environment();
    const waiting = call(`${base}/work/poll?block_ms=250`, { headers: key });
    await waitForWaitingPolls(cp, 1);
    clock.advance(250);
    const answer = await waiting;
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('null');
  });

  it('wakes a waiting long poll when an item is enqueued over HTTP', async () => {
    const { base, key, admin } = await environment();
    const waiting = call(`${base}/work/poll?block_ms=999`, { headers: key });
    await waitForWaitingPolls(cp, 1);
    const enqueued = await call(`${base}/work`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: '{"metadata":{"via":"http"}}' });
    expect(enqueued.status).toBe(201);
    const answer = await waiting;
    expect(answer.body).toMatchObject({ id: (enqueued.body as Work).id, state: 'queued', metadata: { via: 'http' } });
    expect(decodeWorkSecret((answer.body as Work).secret).secret).not.toBeNull();
  });

  it('aborts a waiting long poll whose client hangs up, so that no item is delivered to nobody', async () => {
    const { id, base, key } = await environment();
    const request = httpRequest(`${base}/work/poll?block_ms=999`, { headers: key });
    const hungUp = new Promise<void>((resolve) => request.on('error', () => resolve()));
    request.end();
    await waitForWaitingPolls(cp, 1);
    request.destroy();
    await hungUp;
    await waitForWaitingPolls(cp, 0);
    await cp.enqueue({}, id);
    expect(await cp.store.stats(id)).toMatchObject({ depth: 1, pending: 0 });
  });

  it('accepts ?beta=true on every endpoint', async () => {
    const { base, key, admin, polled } = await environment();
    const { work, token } = await polled();
    const item = `${base}/work/${work.id}`;
    const json = { 'content-type': 'application/json' };
    expect((await call(`${item}/ack?beta=true`, { method: 'POST', headers: key })).status).toBe(200);
    expect((await call(`${item}/heartbeat?beta=true&expected_last_heartbeat=${NO_HEARTBEAT}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await call(`${item}?beta=true`, { headers: key })).status).toBe(200);
    expect((await call(`${item}?beta=true`, { method: 'POST', headers: { ...key, ...json }, body: '{"metadata":{"a":"b"}}' })).status).toBe(200);
    expect((await call(`${base}/work?beta=true&limit=5`, { headers: key })).status).toBe(200);
    expect((await call(`${base}/work/stats?beta=true`, { headers: key })).status).toBe(200);
    expect((await call(`${item}/stop?beta=true`, { method: 'POST', headers: { ...key, ...json }, body: '{}' })).status).toBe(200);
    expect((await call(`${base}/work?beta=true`, { method: 'POST', headers: { ...admin, ...json }, body: '{}' })).status).toBe(201);
    expect((await call(`${cp.url}/v1/environments?beta=true`, { method: 'POST', headers: { ...admin, ...json }, body: '{"name":"b"}' })).status).toBe(201);
  });
});

describe('ack and heartbeat take no body', () => {
  it('accepts them as the official client sends them: POST, content-length 0, no content type', async () => {
    const { base, key, polled } = await environment();
    const { work } = await polled();
    const ack = await call(`${base}/work/${work.id}/ack`, { method: 'POST', headers: key });
    expect(ack.status).toBe(200);
    expect((ack.body as Work).state).toBe('starting');
    const beat = await call(`${base}/work/${work.id}/heartbeat?expected_last_heartbeat=${NO_HEARTBEAT}&desired_ttl_seconds=30`, { method: 'POST', headers: key });
    expect(beat.body).toMatchObject({ type: 'work_heartbeat', state: 'active', lease_extended: true, ttl_seconds: 30 });
  });

  it('accepts them with no content-length at all, and with an empty JSON body', async () => {
    const { base, key, polled } = await environment();
    const { work } = await polled();
    expect((await rawCall(`${base}/work/${work.id}/ack`, { method: 'POST', headers: key })).status).toBe(200);
    const beat = await rawCall(`${base}/work/${work.id}/heartbeat`, { method: 'POST', headers: { ...key, 'content-type': 'application/json', 'content-length': '0' } });
    expect(beat.status).toBe(200);
    const chunked = await rawCall(`${base}/work/${work.id}/heartbeat`, { method: 'POST', headers: { ...key, 'content-type': 'application/json; charset=utf-8' }, chunked: true });
    expect(chunked.status).toBe(200);
  });
});

describe('stop bodies', () => {
  async function active() {
    const env = await environment();
    const { work, token } = await env.polled();
    await call(`${env.base}/work/${work.id}/ack`, { method: 'POST', headers: env.key });
    await call(`${env.base}/work/${work.id}/heartbeat?expected_last_heartbeat=${NO_HEARTBEAT}`, { method: 'POST', headers: env.key });
    return { ...env, url: `${env.base}/work/${work.id}/stop`, token };
  }

  it('treats an absent body, an empty JSON body and {} as force: false', async () => {
    for (const init of [{}, { headers: { 'content-type': 'application/json' }, body: '' }, { headers: { 'content-type': 'application/json' }, body: '{}' }]) {
      const { url, key } = await active();
      const answer = await call(url, { method: 'POST', ...init, headers: { ...key, ...(init.headers ?? {}) } });
      expect(answer.status, answer.text).toBe(200);
      expect((answer.body as Work).state).toBe('stopping');
    }
  });

  it('accepts {"force": true} with a charset parameter on the content type', async () => {
    const { url, key } = await active();
    const answer = await call(url, { method: 'POST', headers: { ...key, 'content-type': 'application/json; charset=UTF-8' }, body: '{"force":true}' });
    expect(answer.status).toBe(200);
    expect((answer.body as Work).state).toBe('stopped');
  });
});

describe('a work item driven end to end with its sessions token', () => {
  it('polls and acks with the environment key, beats, reads and stops with the sessions token', async () => {
    const { base, key, polled } = await environment();
    const { work, token } = await polled();
    const holder = { authorization: `Bearer ${token}` };
    const item = `${base}/work/${work.id}`;
    expect((await call(`${item}/ack`, { method: 'POST', headers: key })).status).toBe(200);
    const first = (await call(`${item}/heartbeat?expected_last_heartbeat=${NO_HEARTBEAT}`, { method: 'POST', headers: holder })).body as HeartbeatResponse;
    expect(first).toMatchObject({ state: 'active', lease_extended: true, ttl_seconds: 120 });
    const second = await call(`${item}/heartbeat?expected_last_heartbeat=${encodeURIComponent(first.last_heartbeat)}&desired_ttl_seconds=1`, { method: 'POST', headers: holder });
    expect(second.body).toMatchObject({ state: 'active', ttl_seconds: 10 });
    expect(((await call(item, { headers: holder })).body as Work)).toMatchObject({ id: work.id, state: 'active', secret: null });
    const stopped = await call(`${item}/stop`, { method: 'POST', headers: { ...holder, 'content-type': 'application/json' }, body: '{"force":true}' });
    expect((stopped.body as Work).state).toBe('stopped');
    // The token still answers for its stopped item, so its holder learns the end.
    const after = await call(`${item}/heartbeat`, { method: 'POST', headers: holder });
    expect(after.body).toMatchObject({ state: 'stopped', lease_extended: false, ttl_seconds: 0 });
  });

  it('keeps a metadata key such as __proto__ as a plain key', async () => {
    const { base, key, polled } = await environment();
    const { work } = await polled();
    const answer = await call(`${base}/work/${work.id}`, { method: 'POST', headers: { ...key, 'content-type': 'application/json' }, body: '{"metadata":{"__proto__":"x","constructor":"y"}}' });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('"metadata":{"__proto__":"x","constructor":"y"}');
  });
});

describe('list, stats and the local extensions', () => {
  it('pages through list newest first with next_page', async () => {
    const { id, base, key } = await environment();
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) ids.push((await cp.enqueue({}, id)).id);
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const answer = await call(`${base}/work?limit=2${next === null ? '' : `&page=${encodeURIComponent(next)}`}`, { headers: key });
      const page = answer.body as { data: Work[]; next_page: string | null };
      seen.push(...page.data.map((work) => work.id));
      next = page.next_page;
    } while (next !== null);
    expect(seen).toEqual(ids.reverse());
  });

  it('reports stats with the workers that polled', async () => {
    const { base, key, polled } = await environment();
    await polled();
    const answer = await call(`${base}/work/stats`, { headers: key });
    expect(answer.body).toEqual({ type: 'work_queue_stats', depth: 0, pending: 1, oldest_queued_at: expect.any(String), workers_polling: 1 });
  });

  it('creates an environment whose key is shown once and works at once', async () => {
    const answer = await call(`${cp.url}/v1/environments`, {
      method: 'POST',
      headers: { 'x-api-key': cp.adminKey, 'content-type': 'application/json' },
      body: '{"name":"made over http","config":{"type":"self_hosted"}}',
    });
    expect(answer.status).toBe(201);
    const created = answer.body as { id: string; environment_key: string };
    expect(answer.body).toEqual({
      type: 'environment',
      id: expect.stringMatching(/^env_[0-9A-Za-z]{24}$/),
      name: 'made over http',
      config: { type: 'self_hosted' },
      environment_key: expect.any(String),
      created_at: expect.any(String),
    });
    const stats = await call(`${cp.url}/v1/environments/${created.id}/work/stats`, { headers: { authorization: `Bearer ${created.environment_key}` } });
    expect(stats.status).toBe(200);
  });

  it('enqueues a health check with a given id over HTTP', async () => {
    const { base, admin } = await environment();
    const answer = await call(`${base}/work`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: '{"data":{"type":"healthcheck","id":"hc_probe"}}',
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ type: 'work', state: 'queued', data: { type: 'healthcheck', id: 'hc_probe' }, secret: null });
  });
});

describe('shutdown', () => {
  it('answers waiting polls with null when the control plane closes', async () => {
    const own = await startControlPlane({ clock: new VirtualClock(START) });
    const waiting = call(`${own.url}/v1/environments/${own.environments[0]!.id}/work/poll?block_ms=999`, {
      headers: { authorization: `Bearer ${own.environments[0]!.key}` },
    });
    await waitForWaitingPolls(own, 1);
    await own.close();
    const answer = await waiting;
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('null');
  });
});
