/**
 * Every error status of contract §2 that the control plane can produce, over real HTTP: the
 * envelope, the `error.type`, messages that name the field at fault, and the extra headers
 * (`x-should-retry`, `retry-after`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_HEARTBEAT, VirtualClock } from '@envworker/core';
import { MemoryWorkStore, startControlPlane, type ControlPlane, type WorkStore } from '../src/index.js';
import { call, errorOf, rawCall, waitForWaitingPolls, type Answer } from './http-harness.js';

let cp: ControlPlane;
let base: string;
let environmentKey: string;

beforeAll(async () => {
  cp = await startControlPlane();
  base = `${cp.url}/v1/environments/${cp.environments[0]!.id}`;
  environmentKey = cp.environments[0]!.key;
});

afterAll(async () => {
  await cp?.close();
});

const bearer = () => ({ authorization: `Bearer ${environmentKey}` });
const admin = () => ({ 'x-api-key': cp.adminKey });
const json = { 'content-type': 'application/json' };

async function expectInvalid(answer: Promise<Answer>, field: string): Promise<string> {
  const settled = await answer;
  expect(settled.status, settled.text).toBe(400);
  const error = errorOf(settled);
  expect(error.type).toBe('invalid_request_error');
  expect(error.message.startsWith(`${field}: `), error.message).toBe(true);
  return error.message;
}

describe('400 invalid_request_error: queries', () => {
  it.each([
    ['block_ms=0', 'block_ms'],
    ['block_ms=1000', 'block_ms'],
    ['block_ms=-1', 'block_ms'],
    ['block_ms=1.5', 'block_ms'],
    ['block_ms=abc', 'block_ms'],
    ['block_ms=', 'block_ms'],
    ['block_ms=1&block_ms=2', 'block_ms'],
    ['reclaim_older_than_ms=0', 'reclaim_older_than_ms'],
    ['reclaim_older_than_ms=99999999999999999999', 'reclaim_older_than_ms'],
    ['unexpected=1', 'unexpected'],
  ])('poll ?%s names %s', async (query, field) => {
    await expectInvalid(call(`${base}/work/poll?${query}`, { headers: bearer() }), field);
  });

  it('says what block_ms must be', async () => {
    const message = await expectInvalid(call(`${base}/work/poll?block_ms=0`, { headers: bearer() }), 'block_ms');
    expect(message).toBe('block_ms: must be an integer between 1 and 999');
  });

  it.each([
    ['desired_ttl_seconds=0', 'desired_ttl_seconds'],
    ['desired_ttl_seconds=ten', 'desired_ttl_seconds'],
    ['expected_last_heartbeat=', 'expected_last_heartbeat'],
    [`expected_last_heartbeat=${'x'.repeat(65)}`, 'expected_last_heartbeat'],
    ['ttl=30', 'ttl'],
  ])('heartbeat ?%s names %s', async (query, field) => {
    const work = await cp.enqueue();
    await expectInvalid(call(`${base}/work/${work.id}/heartbeat?${query}`, { method: 'POST', headers: bearer() }), field);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['page=', 'page'],
    ['page=bm90LWEtY3Vyc29y', 'page'],
    ['order=asc', 'order'],
  ])('list ?%s names %s', async (query, field) => {
    await expectInvalid(call(`${base}/work?${query}`, { headers: bearer() }), field);
  });

  it('refuses query parameters on endpoints that take none', async () => {
    await expectInvalid(call(`${base}/work/stats?verbose=1`, { headers: bearer() }), 'verbose');
  });

  it('refuses an Anthropic-Worker-ID longer than 256 characters', async () => {
    await expectInvalid(call(`${base}/work/poll`, { headers: { ...bearer(), 'anthropic-worker-id': 'w'.repeat(257) } }), 'anthropic-worker-id');
  });
});

describe('400 invalid_request_error: bodies', () => {
  it('refuses an unknown field in an update body, naming it', async () => {
    const work = await cp.enqueue();
    const message = await expectInvalid(call(`${base}/work/${work.id}`, { method: 'POST', headers: { ...bearer(), ...json }, body: '{"metadata":{},"colour":"red"}' }), 'body');
    expect(message).toContain('"colour"');
  });

  it('refuses a metadata value that is neither a string nor null, naming the key', async () => {
    const work = await cp.enqueue();
    const message = await expectInvalid(call(`${base}/work/${work.id}`, { method: 'POST', headers: { ...bearer(), ...json }, body: '{"metadata":{"size":3}}' }), 'metadata."size"');
    expect(message).toContain('string or null');
  });

  it('refuses metadata over the limits, naming the key', async () => {
    const work = await cp.enqueue();
    await expectInvalid(call(`${base}/work/${work.id}`, { method: 'POST', headers: { ...bearer(), ...json }, body: JSON.stringify({ metadata: { note: 'n'.repeat(513) } }) }), 'metadata."note"');
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    await expectInvalid(call(`${base}/work/${work.id}`, { method: 'POST', headers: { ...bearer(), ...json }, body: JSON.stringify({ metadata: many }) }), 'metadata');
  });

  it('refuses a stop body whose force is not a boolean', async () => {
    const work = await cp.enqueue();
    await expectInvalid(call(`${base}/work/${work.id}/stop`, { method: 'POST', headers: { ...bearer(), ...json }, body: '{"force":"yes"}' }), 'force');
    expect((await cp.store.get(cp.environments[0]!.id, work.id)).state).toBe('queued');
  });

  it('refuses malformed JSON without echoing it', async () => {
    const work = await cp.enqueue();
    const message = await expectInvalid(call(`${base}/work/${work.id}/stop`, { method: 'POST', headers: { ...bearer(), ...json }, body: '{"force": tru secret-ish' }), 'body');
    expect(message).not.toContain('secret-ish');
  });

  it('refuses a JSON body that is not an object', async () => {
    const work = await cp.enqueue();
    await expectInvalid(call(`${base}/work/${work.id}`, { method: 'POST', headers: { ...bearer(), ...json }, body: '[1,2]' }), 'body');
  });

  it('refuses a body that is not application/json, naming content-type', async () => {
    const work = await cp.enqueue();
    await expectInvalid(call(`${base}/work/${work.id}/stop`, { method: 'POST', headers: { ...bearer(), 'content-type': 'text/plain' }, body: '{"force":true}' }), 'content-type');
    await expectInvalid(rawCall(`${base}/work/${work.id}/stop`, { method: 'POST', headers: bearer(), body: '{"force":true}' }), 'content-type');
    await expectInvalid(call(`${base}/work/${work.id}/stop`, { method: 'POST', headers: { ...bearer(), 'content-type': '/////' }, body: '{"force":true}' }), 'content-type');
  });

  it('refuses a body on ack and heartbeat', async () => {
    const work = await cp.enqueue();
    await cp.store.poll(cp.environments[0]!.id, {});
    await expectInvalid(call(`${base}/work/${work.id}/ack`, { method: 'POST', headers: { ...bearer(), ...json }, body: '{}' }), 'body');
    await expectInvalid(call(`${base}/work/${work.id}/heartbeat?expected_last_heartbeat=${NO_HEARTBEAT}`, { method: 'POST', headers: { ...bearer(), ...json }, body: '{"ttl":1}' }), 'body');
    expect((await cp.store.get(cp.environments[0]!.id, work.id)).state).toBe('queued');
  });

  it('refuses a bad enqueue body (local extension), naming the field', async () => {
    await expectInvalid(call(`${base}/work`, { method: 'POST', headers: { ...admin(), ...json }, body: '{"data":{"type":"job"}}' }), 'data.type');
    await expectInvalid(call(`${base}/work`, { method: 'POST', headers: { ...admin(), ...json }, body: '{"data":{"type":"session","id":""}}' }), 'data.id');
    await expectInvalid(call(`${base}/work`, { method: 'POST', headers: { ...admin(), ...json }, body: '{"priority":1}' }), 'body');
  });

  it('refuses a bad create-environment body (local extension), naming the field', async () => {
    await expectInvalid(call(`${cp.url}/v1/environments`, { method: 'POST', headers: { ...admin(), ...json }, body: '{}' }), 'name');
    await expectInvalid(call(`${cp.url}/v1/environments`, { method: 'POST', headers: { ...admin(), ...json }, body: '{"name":"x","config":{"type":"cloud"}}' }), 'config.type');
  });

  it('answers a malformed URL with a 400 envelope', async () => {
    const answer = await rawCall(`${cp.url}/v1/environments/%E0%A4%A/work`, { method: 'GET', headers: bearer() });
    expect(answer.status).toBe(400);
    expect(errorOf(answer).type).toBe('invalid_request_error');
  });
});

describe('404 not_found_error', () => {
  it('answers an unknown route', async () => {
    const answer = await call(`${cp.url}/v2/nothing`);
    expect(answer.status).toBe(404);
    expect(errorOf(answer).type).toBe('not_found_error');
  });

  it('answers an unknown environment (admin key, which may look at any)', async () => {
    const answer = await call(`${cp.url}/v1/environments/env_000000000000000000000000/work/stats`, { headers: admin() });
    expect(answer.status).toBe(404);
    expect(errorOf(answer).type).toBe('not_found_error');
  });

  it('answers an unknown work id, and an overly long one', async () => {
    for (const id of ['work_000000000000000000000000', 'x'.repeat(129)]) {
      const answer = await call(`${base}/work/${id}`, { headers: bearer() });
      expect(answer.status, id).toBe(404);
      expect(errorOf(answer).type).toBe('not_found_error');
    }
  });
});

describe('409 conflict_error and 412', () => {
  it('answers a second stop with 409 and x-should-retry: false', async () => {
    const work = await cp.enqueue();
    expect((await call(`${base}/work/${work.id}/stop`, { method: 'POST', headers: bearer() })).status).toBe(200);
    const answer = await call(`${base}/work/${work.id}/stop`, { method: 'POST', headers: bearer() });
    expect(answer.status).toBe(409);
    expect(errorOf(answer).type).toBe('conflict_error');
    expect(answer.headers.get('x-should-retry')).toBe('false');
  });

  it('answers a stale heartbeat with 412 and the current lease state', async () => {
    // An environment of its own, so that the poll below meets no item of another test.
    const { id: environmentId, key } = await cp.store.createEnvironment({ name: 'precondition' });
    const work = await cp.enqueue({}, environmentId);
    expect((await cp.store.poll(environmentId, {}))?.id).toBe(work.id);
    await cp.store.ack(environmentId, work.id);
    const beat = await cp.store.heartbeat(environmentId, work.id, { expectedLastHeartbeat: NO_HEARTBEAT, desiredTtlSeconds: 30 });
    const answer = await call(`${cp.url}/v1/environments/${environmentId}/work/${work.id}/heartbeat?expected_last_heartbeat=${NO_HEARTBEAT}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(answer.status).toBe(412);
    expect(errorOf(answer)).toEqual({
      type: 'invalid_request_error',
      message: expect.any(String),
      details: {
        error_code: 'heartbeat_precondition_failed',
        current_state: { state: 'active', last_heartbeat: beat.last_heartbeat, lease_extended: false, ttl_seconds: 30 },
      },
    });
  });
});

describe('413 request_too_large', () => {
  it('answers a body over 1 MiB', async () => {
    const work = await cp.enqueue();
    const body = JSON.stringify({ metadata: { big: 'x'.repeat(1024 * 1024) } });
    const answer = await call(`${base}/work/${work.id}`, { method: 'POST', headers: { ...bearer(), ...json }, body });
    expect(answer.status).toBe(413);
    expect(errorOf(answer).type).toBe('request_too_large');
  });
});

describe('429 rate_limit_error', () => {
  it('limits each credential to its rate when configured, on the injected clock', async () => {
    const clock = new VirtualClock(Date.parse('2026-11-28T17:00:00Z'));
    const limited = await startControlPlane({ clock, rateLimit: { requestsPerSecond: 2 } });
    try {
      const stats = `${limited.url}/v1/environments/${limited.environments[0]!.id}/work/stats`;
      const key = { authorization: `Bearer ${limited.environments[0]!.key}` };
      expect((await call(stats, { headers: key })).status).toBe(200);
      expect((await call(stats, { headers: key })).status).toBe(200);
      const refused = await call(stats, { headers: key });
      expect(refused.status).toBe(429);
      expect(errorOf(refused).type).toBe('rate_limit_error');
      expect(refused.headers.get('retry-after')).toBe('1');
      // Another credential has a bucket of its own.
      expect((await call(stats, { headers: { 'x-api-key': limited.adminKey } })).status).toBe(200);
      clock.advance(500);
      expect((await call(stats, { headers: key })).status).toBe(200);
      expect((await call(stats, { headers: key })).status).toBe(429);
    } finally {
      await limited.close();
    }
  });

  it('does not limit without a configured rate', async () => {
    for (let i = 0; i < 50; i += 1) expect((await call(`${base}/work/stats`, { headers: bearer() })).status).toBe(200);
  });
});

describe('529 overloaded_error', () => {
  it('sheds a long poll beyond maxWaitingPolls, with retry-after', async () => {
    const clock = new VirtualClock(Date.parse('2026-11-28T17:00:00Z'));
    const small = await startControlPlane({ clock, maxWaitingPolls: 1 });
    try {
      const poll = `${small.url}/v1/environments/${small.environments[0]!.id}/work/poll?block_ms=999`;
      const key = { authorization: `Bearer ${small.environments[0]!.key}` };
      const waiting = call(poll, { headers: key });
      await waitForWaitingPolls(small, 1);
      const shed = await call(poll, { headers: key });
      expect(shed.status).toBe(529);
      expect(errorOf(shed).type).toBe('overloaded_error');
      expect(shed.headers.get('retry-after')).toBe('1');
      clock.advance(999);
      expect((await waiting).text).toBe('null');
    } finally {
      await small.close();
    }
  });
});

describe('500 api_error', () => {
  /**
   * A fake: a store whose stats throws an unexpected error, a fault the real store cannot be made
   * to produce. Every other call goes to a real MemoryWorkStore.
   */
  class FaultyStatsStore implements WorkStore {
    readonly #real = new MemoryWorkStore();
    createEnvironment: WorkStore['createEnvironment'] = (input) => this.#real.createEnvironment(input);
    getEnvironment: WorkStore['getEnvironment'] = (id) => this.#real.getEnvironment(id);
    resolveBearer: WorkStore['resolveBearer'] = (credential) => this.#real.resolveBearer(credential);
    enqueue: WorkStore['enqueue'] = (id, input) => this.#real.enqueue(id, input);
    poll: WorkStore['poll'] = (id, input) => this.#real.poll(id, input);
    get: WorkStore['get'] = (id, workId) => this.#real.get(id, workId);
    ack: WorkStore['ack'] = (id, workId) => this.#real.ack(id, workId);
    heartbeat: WorkStore['heartbeat'] = (id, workId, input) => this.#real.heartbeat(id, workId, input);
    stop: WorkStore['stop'] = (id, workId, input) => this.#real.stop(id, workId, input);
    list: WorkStore['list'] = (id, input) => this.#real.list(id, input);
    update: WorkStore['update'] = (id, workId, patch) => this.#real.update(id, workId, patch);
    stats: WorkStore['stats'] = async () => {
      throw new Error('disk on fire at /srv/secret/store.ts:12');
    };
    ping: WorkStore['ping'] = () => this.#real.ping();
    close: WorkStore['close'] = () => this.#real.close();
  }

  it('answers an unexpected fault with a generic 500, no stack, and logs it', async () => {
    const lines: string[] = [];
    const faultyStore = new FaultyStatsStore();
    const faulty = await startControlPlane({ store: faultyStore, logger: { level: 'error', stream: { write: (line: string) => lines.push(line) } } });
    try {
      const answer = await call(`${faulty.url}/v1/environments/${faulty.environments[0]!.id}/work/stats`, {
        headers: { authorization: `Bearer ${faulty.environments[0]!.key}` },
      });
      expect(answer.status).toBe(500);
      expect(errorOf(answer)).toEqual({ type: 'api_error', message: 'internal server error' });
      expect(answer.text).not.toContain('disk on fire');
      expect(answer.text).not.toContain('store.ts');
      expect(lines.some((line) => line.includes('disk on fire'))).toBe(true);
      expect(lines.join('')).not.toContain(faulty.environments[0]!.key);
    } finally {
      await faulty.close();
      await faultyStore.close();
    }
  });
});

describe('request ids', () => {
  it('gives every answer, success or error, its own request-id', async () => {
    const answers = await Promise.all([
      call(`${base}/work/stats`, { headers: bearer() }),
      call(`${base}/work/stats`),
      call(`${cp.url}/nowhere`),
      call(`${cp.url}/healthz`),
    ]);
    const ids = answers.map((answer) => answer.headers.get('request-id'));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('ignores a request-id sent by the client', async () => {
    const answer = await call(`${cp.url}/healthz`, { headers: { 'request-id': 'req_chosen-by-client' } });
    expect(answer.headers.get('request-id')).not.toBe('req_chosen-by-client');
  });
});
