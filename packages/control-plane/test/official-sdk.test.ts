/**
 * The official client (`@anthropic-ai/sdk` 1.14.0) against the local control plane: every
 * `client.beta.environments.work` call works with the environment key as its bearer token, so a
 * worker written on the SDK can be developed against envworker's server unchanged.
 */
import Anthropic, { APIError, ConflictError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWorkSecret, NO_HEARTBEAT } from '@envworker/core';
import { startControlPlane, type ControlPlane } from '../src/index.js';

let cp: ControlPlane;
let sdk: Anthropic;
let environmentId: string;
/** Request paths the SDK sent, to show that it wasted no retries. */
const sent: string[] = [];

beforeAll(async () => {
  cp = await startControlPlane();
  const environment = cp.environments[0]!;
  environmentId = environment.id;
  sdk = new Anthropic({
    baseURL: cp.url,
    authToken: environment.key,
    maxRetries: 2,
    fetch: (input, init) => {
      sent.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
      return fetch(input, init);
    },
  });
});

afterAll(async () => {
  await cp?.close();
});

describe('the official SDK against the control plane', () => {
  it('answers an empty poll with null', async () => {
    const work = await sdk.beta.environments.work.poll(environmentId, { block_ms: 1, 'Anthropic-Worker-ID': 'sdk-empty' });
    expect(work).toBeNull();
  });

  it('runs a work item through poll, ack, heartbeat, retrieve, update, list, stats and stop', async () => {
    const queued = await cp.enqueue({ metadata: { origin: 'sdk-test' } });
    const work = sdk.beta.environments.work;

    const polled = await work.poll(environmentId, { block_ms: 999, 'Anthropic-Worker-ID': 'sdk-worker' });
    expect(polled?.id).toBe(queued.id);
    expect(polled?.state).toBe('queued');
    expect(decodeWorkSecret(polled?.secret).secret?.sessions_token).toEqual(expect.any(String));

    const acked = await work.ack(queued.id, { environment_id: environmentId });
    expect(acked.state).toBe('starting');
    expect(acked.acknowledged_at).not.toBeNull();

    const first = await work.heartbeat(queued.id, { environment_id: environmentId, expected_last_heartbeat: NO_HEARTBEAT, desired_ttl_seconds: 30 });
    expect(first).toMatchObject({ type: 'work_heartbeat', state: 'active', lease_extended: true, ttl_seconds: 30 });
    const second = await work.heartbeat(queued.id, { environment_id: environmentId, expected_last_heartbeat: first.last_heartbeat });
    expect(second.last_heartbeat > first.last_heartbeat).toBe(true);

    const retrieved = await work.retrieve(queued.id, { environment_id: environmentId });
    expect(retrieved).toMatchObject({ id: queued.id, state: 'active', secret: null, metadata: { origin: 'sdk-test' } });

    const updated = await work.update(queued.id, { environment_id: environmentId, metadata: { origin: null, step: 'two' } });
    expect(updated.metadata).toEqual({ step: 'two' });

    const stats = await work.stats(environmentId);
    expect(stats).toMatchObject({ type: 'work_queue_stats', depth: 0, pending: 0 });
    expect(stats.workers_polling).toBeGreaterThanOrEqual(1);

    const stopped = await work.stop(queued.id, { environment_id: environmentId, force: true });
    expect(stopped.state).toBe('stopped');
    expect(stopped.stopped_at).not.toBeNull();
  });

  it('pages through list with the SDK auto-pagination', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i += 1) ids.add((await cp.enqueue()).id);
    const seen: string[] = [];
    for await (const item of sdk.beta.environments.work.list(environmentId, { limit: 2 })) seen.push(item.id);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of ids) expect(seen).toContain(id);
  });

  it('gets a 409 on a second stop, without retrying it', async () => {
    const queued = await cp.enqueue();
    await sdk.beta.environments.work.stop(queued.id, { environment_id: environmentId });
    const stopPath = `/v1/environments/${environmentId}/work/${queued.id}/stop`;
    const before = sent.filter((path) => path === stopPath).length;
    const error = await sdk.beta.environments.work.stop(queued.id, { environment_id: environmentId }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).headers?.get('x-should-retry')).toBe('false');
    expect(sent.filter((path) => path === stopPath).length - before).toBe(1);
  });

  it('gets a 412 with current_state for a stale heartbeat', async () => {
    const queued = await cp.enqueue();
    const work = sdk.beta.environments.work;
    // Earlier tests leave items queued; take ours by polling until it comes (FIFO order).
    for (let polled = await work.poll(environmentId, { 'Anthropic-Worker-ID': 'sdk-worker' }); polled?.id !== queued.id; ) {
      expect(polled).not.toBeNull();
      polled = await work.poll(environmentId, { 'Anthropic-Worker-ID': 'sdk-worker' });
    }
    await work.ack(queued.id, { environment_id: environmentId });
    const beat = await work.heartbeat(queued.id, { environment_id: environmentId, expected_last_heartbeat: NO_HEARTBEAT });

    const error = await work.heartbeat(queued.id, { environment_id: environmentId, expected_last_heartbeat: NO_HEARTBEAT }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    const apiError = error as APIError;
    expect(apiError.status).toBe(412);
    expect(apiError.errorCode).toBe('heartbeat_precondition_failed');
    expect(apiError.details).toMatchObject({
      error_code: 'heartbeat_precondition_failed',
      current_state: { state: 'active', last_heartbeat: beat.last_heartbeat, lease_extended: false },
    });
    await work.stop(queued.id, { environment_id: environmentId, force: true });
  });

  it('serves the SDK WorkPoller: claims, acks, yields and stops an item', async () => {
    const queued = await cp.enqueue();
    const poller = sdk.beta.environments.work.poller({
      environmentId,
      environmentKey: cp.environments[0]!.key,
      workerId: 'sdk-poller',
      drain: true,
      blockMs: null,
    });
    const yielded: string[] = [];
    for await (const item of poller) yielded.push(item.id);
    expect(yielded).toContain(queued.id);
    const after = await sdk.beta.environments.work.retrieve(queued.id, { environment_id: environmentId });
    // The poller's own stop is graceful (no force) and it never heartbeats, so the item waits in
    // `stopping` for its holder to confirm, as the contract's table says.
    expect(after.state).toBe('stopping');
  });
});
