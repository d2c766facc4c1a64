/**
 * Who may call what, over real HTTP: every endpoint against every kind of credential (contract §1
 * and §6), plus the 401/400 answers for missing, unknown, malformed and doubled credentials.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWorkSecret, VirtualClock } from '@envworker/core';
import { startControlPlane, type ControlPlane } from '../src/index.js';
import { call, errorOf } from './http-harness.js';

type Credential = 'environment key' | "another environment's key" | 'sessions token' | "another item's token" | 'admin key';
const CREDENTIALS: readonly Credential[] = ['environment key', "another environment's key", 'sessions token', "another item's token", 'admin key'];

interface Endpoint {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  /** The path, given the environment and the work item of the cell. */
  readonly path: (environmentId: string, workId: string) => string;
  readonly body?: string;
  readonly allowed: readonly Credential[];
  readonly okStatus: number;
}

const item = (environmentId: string, workId: string) => `/v1/environments/${environmentId}/work/${workId}`;
const ENDPOINTS: readonly Endpoint[] = [
  { name: 'poll', method: 'GET', path: (e) => `/v1/environments/${e}/work/poll`, allowed: ['environment key'], okStatus: 200 },
  { name: 'ack', method: 'POST', path: (e, w) => `${item(e, w)}/ack`, allowed: ['environment key'], okStatus: 200 },
  { name: 'heartbeat', method: 'POST', path: (e, w) => `${item(e, w)}/heartbeat`, allowed: ['environment key', 'sessions token'], okStatus: 200 },
  { name: 'stop', method: 'POST', path: (e, w) => `${item(e, w)}/stop`, allowed: ['environment key', 'sessions token', 'admin key'], okStatus: 200 },
  { name: 'get', method: 'GET', path: item, allowed: ['environment key', 'sessions token', 'admin key'], okStatus: 200 },
  { name: 'list', method: 'GET', path: (e) => `/v1/environments/${e}/work`, allowed: ['environment key', 'admin key'], okStatus: 200 },
  { name: 'update', method: 'POST', path: item, body: '{"metadata":{"k":"v"}}', allowed: ['environment key', 'admin key'], okStatus: 200 },
  { name: 'stats', method: 'GET', path: (e) => `/v1/environments/${e}/work/stats`, allowed: ['environment key', 'admin key'], okStatus: 200 },
  { name: 'enqueue', method: 'POST', path: (e) => `/v1/environments/${e}/work`, body: '{}', allowed: ['admin key'], okStatus: 201 },
  { name: 'create environment', method: 'POST', path: () => '/v1/environments', body: '{"name":"made"}', allowed: ['admin key'], okStatus: 201 },
];

let cp: ControlPlane;

beforeAll(async () => {
  cp = await startControlPlane({ environments: [{ name: 'own' }, { name: 'other' }] });
});

afterAll(async () => {
  await cp?.close();
});

/** A fresh acked item (`starting`) of the first environment and its sessions token. */
async function acked(): Promise<{ workId: string; token: string }> {
  const environmentId = cp.environments[0]!.id;
  const queued = await cp.enqueue();
  const polled = await cp.store.poll(environmentId, {});
  expect(polled?.id).toBe(queued.id);
  await cp.store.ack(environmentId, queued.id);
  const token = decodeWorkSecret(polled?.secret).secret?.sessions_token;
  if (token === undefined) throw new Error('the poll carried no sessions token');
  return { workId: queued.id, token };
}

async function headersFor(credential: Credential, token: string): Promise<Record<string, string>> {
  switch (credential) {
    case 'environment key':
      return { authorization: `Bearer ${cp.environments[0]!.key}` };
    case "another environment's key":
      return { authorization: `Bearer ${cp.environments[1]!.key}` };
    case 'sessions token':
      return { authorization: `Bearer ${token}` };
    case "another item's token":
      return { authorization: `Bearer ${(await acked()).token}` };
    case 'admin key':
      return { 'x-api-key': cp.adminKey };
  }
}

describe('the access matrix', () => {
  const cells = ENDPOINTS.flatMap((endpoint) => CREDENTIALS.map((credential) => ({ endpoint, credential })));
  it.each(cells)('$endpoint.name with the $credential', async ({ endpoint, credential }) => {
    const { workId, token } = await acked();
    const headers = await headersFor(credential, token);
    if (endpoint.body !== undefined) headers['content-type'] = 'application/json';
    const answer = await call(`${cp.url}${endpoint.path(cp.environments[0]!.id, workId)}`, {
      method: endpoint.method,
      headers,
      ...(endpoint.body === undefined ? {} : { body: endpoint.body }),
    });
    if (endpoint.allowed.includes(credential)) {
      expect(answer.status, answer.text).toBe(endpoint.okStatus);
      // Take an enqueued item out of the queue, so that the next cell's poll finds its own item.
      if (endpoint.name === 'enqueue') await cp.store.stop(cp.environments[0]!.id, (answer.body as { id: string }).id, { force: true });
    } else {
      expect(answer.status, answer.text).toBe(403);
      expect(errorOf(answer).type).toBe('permission_error');
    }
  });
});

describe('credentials that do not authenticate', () => {
  const stats = () => `${cp.url}/v1/environments/${cp.environments[0]!.id}/work/stats`;

  it('answers 401 without any credential', async () => {
    const answer = await call(stats());
    expect(answer.status).toBe(401);
    expect(errorOf(answer).type).toBe('authentication_error');
  });

  it('answers 401 for an unknown bearer credential, without repeating it', async () => {
    const answer = await call(stats(), { headers: { authorization: 'Bearer ek_not-a-key-we-issued-0123456789' } });
    expect(answer.status).toBe(401);
    const error = errorOf(answer);
    expect(error.type).toBe('authentication_error');
    expect(error.message).not.toContain('ek_not-a-key');
  });

  it('answers 401 for an Authorization header that is not a bearer credential', async () => {
    const answer = await call(stats(), { headers: { authorization: `Basic ${cp.environments[0]!.key}` } });
    expect(answer.status).toBe(401);
    expect(errorOf(answer).message).toMatch(/^authorization: /);
  });

  it('answers 401 for a wrong admin key, without repeating it', async () => {
    const answer = await call(stats(), { headers: { 'x-api-key': 'adm_wrong-wrong-wrong-wrong' } });
    expect(answer.status).toBe(401);
    const error = errorOf(answer);
    expect(error.message).toMatch(/^x-api-key: /);
    expect(error.message).not.toContain('wrong-wrong');
  });

  it('answers 400 naming both headers when a request sends Authorization and x-api-key', async () => {
    const answer = await call(stats(), { headers: { authorization: `Bearer ${cp.environments[0]!.key}`, 'x-api-key': cp.adminKey } });
    expect(answer.status).toBe(400);
    const error = errorOf(answer);
    expect(error.type).toBe('invalid_request_error');
    expect(error.message).toContain('authorization');
    expect(error.message).toContain('x-api-key');
  });

  it('stops accepting a sessions token once its item was redelivered (revoked)', async () => {
    const clock = new VirtualClock(Date.parse('2026-11-28T17:00:00Z'));
    const own = await startControlPlane({ clock });
    try {
      const environmentId = own.environments[0]!.id;
      const queued = await own.enqueue();
      const first = await own.store.poll(environmentId, {});
      const oldToken = decodeWorkSecret(first?.secret).secret!.sessions_token;
      const url = `${own.url}${item(environmentId, queued.id)}`;
      expect((await call(url, { headers: { authorization: `Bearer ${oldToken}` } })).status).toBe(200);
      clock.advance(1001);
      const second = await own.store.poll(environmentId, { reclaimOlderThanMs: 1000 });
      expect(second?.id).toBe(queued.id);
      const answer = await call(url, { headers: { authorization: `Bearer ${oldToken}` } });
      expect(answer.status).toBe(401);
      expect(errorOf(answer).type).toBe('authentication_error');
    } finally {
      await own.close();
    }
  });
});
