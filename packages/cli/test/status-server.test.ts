/**
 * The status endpoints over real HTTP, with a real worker against a real control plane, wired as
 * `poll` wires them (observed client, worker metrics, health tracker): `/metrics` is scraped and
 * parsed and each named metric moves with what the worker does; `/status.json` is `status()`;
 * `/healthz` and `/readyz` turn unhealthy once the control plane is gone for two heartbeat
 * intervals (a 2 s lease: two 1 s intervals).
 */
import { startControlPlane, type ControlPlane } from '@envworker/control-plane';
import { createWorker, functionRuntime, systemClock, WorkClient, type Worker, type WorkerEvent } from '@envworker/core';
import { Registry } from 'prom-client';
import { filter, firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiErrorMetric } from '../src/status/api-error-metric.js';
import { observeWorker, type WorkerObservation } from '../src/status/observe-worker.js';
import { startStatusServer, type StatusServer } from '../src/status/status-server.js';
import { ControlPlaneWatch } from '../src/worker/control-plane-watch.js';
import { ObservedWorkClient } from '../src/worker/observed-client.js';
import { TempDir, until, within } from './support/harness.js';
import { parsePrometheus, type Scrape } from './support/prometheus.js';

const LEASE_TTL_SECONDS = 2;

let cp: ControlPlane;
let operator: WorkClient;
let workerClient: ObservedWorkClient;
let worker: Worker;
let observation: WorkerObservation;
let server: StatusServer;
const temp = new TempDir();

beforeAll(async () => {
  cp = await startControlPlane({ lease: { minTtlSeconds: 1, defaultTtlSeconds: 10, maxTtlSeconds: 60 } });
  const environment = cp.environments[0];
  if (environment === undefined) throw new Error('no environment');
  const connection = { baseUrl: cp.url, environmentId: environment.id, environmentKey: environment.key };
  operator = new WorkClient({ ...connection, apiKey: cp.adminKey });
  const registry = new Registry();
  const watch = new ControlPlaneWatch(() => systemClock.now(), apiErrorMetric(registry));
  workerClient = new ObservedWorkClient(connection, watch);
  worker = createWorker({
    ...connection,
    client: workerClient,
    // `hold` items run until they are stopped; the others end at once.
    runtime: functionRuntime(async (work, ctx) => {
      if (work.metadata['mode'] !== 'hold') return 0;
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
      return 0;
    }),
    maxConcurrency: 2,
    pollIdleDelayMs: [0, 0],
    leaseTtlSeconds: LEASE_TTL_SECONDS,
    workdirRoot: await temp.create('status'),
    logger: { level: 'silent' },
  });
  observation = observeWorker(worker, watch, registry, { leaseTtlSeconds: LEASE_TTL_SECONDS, pollIdleMaxMs: 0 });
  server = await startStatusServer({ host: '127.0.0.1', port: 0, status: () => worker.status(), health: () => observation.health(), registry });
  await worker.start();
});

afterAll(async () => {
  await worker.shutdown({ mode: 'stop' });
  observation.stop();
  await server.close();
  await workerClient.close();
  await operator.close();
  await cp.close();
  await temp.remove();
});

async function scrape(): Promise<Scrape> {
  const response = await fetch(`${server.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return parsePrometheus(await response.text());
}

function nextEvent(match: (event: WorkerEvent) => boolean, what: string): Promise<WorkerEvent> {
  return within(firstValueFrom(worker.events$.pipe(filter(match))), 15_000, what);
}

describe('the status server', () => {
  it('serves every envworker_* metric, typed, from the start', async () => {
    const metrics = await scrape();
    expect(Object.fromEntries([...metrics.types].filter(([name]) => name.startsWith('envworker_')))).toEqual({
      envworker_items_claimed_total: 'counter',
      envworker_items_running: 'gauge',
      envworker_items_completed_total: 'counter',
      envworker_free_slots: 'gauge',
      envworker_heartbeat_latency_seconds: 'histogram',
      envworker_heartbeat_lateness_seconds: 'histogram',
      envworker_leases_lost_total: 'counter',
      envworker_poll_results_total: 'counter',
      envworker_poll_errors_total: 'counter',
      envworker_api_errors_total: 'counter',
    });
    expect(metrics.value('envworker_items_claimed_total')).toBe(0);
    expect(metrics.value('envworker_items_running')).toBe(0);
    expect(metrics.value('envworker_items_completed_total', { outcome: 'completed' })).toBe(0);
  });

  it('counts polls, claims and outcomes as items come and go', async () => {
    await nextEvent((event) => event.type === 'poll_empty', 'an empty poll');
    const item = await cp.enqueue({ metadata: { mode: 'quick' } });
    await nextEvent((event) => event.type === 'stopped' && event.work_id === item.id, 'the quick item to end');
    const metrics = await scrape();
    expect(metrics.value('envworker_items_claimed_total')).toBe(1);
    expect(metrics.value('envworker_poll_results_total', { result: 'work' })).toBe(1);
    expect(metrics.value('envworker_poll_results_total', { result: 'empty' })).toBeGreaterThanOrEqual(1);
    expect(metrics.value('envworker_items_completed_total', { outcome: 'completed' })).toBe(1);
    expect(metrics.value('envworker_items_running')).toBe(0);
  });

  it('shows running items, free slots and heartbeat latency; /status.json is status()', async () => {
    const held = [await cp.enqueue({ metadata: { mode: 'hold' } }), await cp.enqueue({ metadata: { mode: 'hold' } })];
    await until('both items to run', () => worker.status().items.filter((item) => item.phase === 'active').length === 2, 15_000);
    await nextEvent((event) => event.type === 'lease_renewed', 'a renewed lease');
    const metrics = await scrape();
    expect(metrics.value('envworker_items_running')).toBe(2);
    expect(metrics.value('envworker_free_slots')).toBe(0);
    expect(metrics.value('envworker_heartbeat_latency_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(metrics.value('envworker_heartbeat_latency_seconds_bucket', { le: '+Inf' })).toBe(metrics.value('envworker_heartbeat_latency_seconds_count'));

    // Both slots are held and no poll is out, so the snapshot stays still across the request.
    const before = JSON.parse(JSON.stringify(worker.status())) as unknown;
    const response = await fetch(`${server.url}/status.json`);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual(before);
    expect(before).toMatchObject({ lifecycle: 'running', slots: { max: 2, busy: 2, free: 0 } });
    expect((before as { items: { workId: string }[] }).items.map((entry) => entry.workId).sort()).toEqual(held.map((entry) => entry.id).sort());
  });

  it('counts a lease lost to another holder, and the 412 that told it', async () => {
    const victim = worker.status().items[0];
    if (victim === undefined) throw new Error('no item held');
    // Another holder beats with the current fencing token: the worker's next beat fails its precondition.
    const current = await operator.get(victim.workId);
    await operator.heartbeat(victim.workId, { expectedLastHeartbeat: current.latest_heartbeat_at as string });
    await nextEvent((event) => event.type === 'stopped' && event.work_id === victim.workId, 'the stolen item to end');
    const metrics = await scrape();
    expect(metrics.value('envworker_leases_lost_total', { reason: 'precondition' })).toBe(1);
    expect(metrics.value('envworker_items_completed_total', { outcome: 'lease_lost' })).toBe(1);
    expect(metrics.value('envworker_api_errors_total', { operation: 'heartbeat', status: '412' })).toBe(1);
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    const post = await fetch(`${server.url}/healthz`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('is healthy and ready while the control plane answers; unhealthy and not ready once it has been gone for two heartbeat intervals', async () => {
    const healthy = await fetch(`${server.url}/healthz`);
    expect(healthy.status).toBe(200);
    expect(await healthy.json()).toMatchObject({ status: 'ok', healthy: true, problems: [], silenceLimitMs: 2000 });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    await cp.close();
    const closedAt = performance.now();
    await until('/healthz to turn unhealthy', async () => (await fetch(`${server.url}/healthz`)).status === 503, 10_000);
    expect(performance.now() - closedAt).toBeGreaterThanOrEqual(1500);
    const body = (await (await fetch(`${server.url}/healthz`)).json()) as { status: string; problems: string[] };
    expect(body.status).toBe('unhealthy');
    expect(body.problems[0]).toMatch(/^the control plane has not answered for \d+\.\ds \(limit 2\.0s\)$/);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not ready' });
    const metrics = await scrape();
    expect(metrics.value('envworker_api_errors_total', { operation: 'heartbeat', status: 'none' })).toBeGreaterThanOrEqual(1);
  });
});
