/**
 * `workerMetrics` on a real worker whose control plane refuses connections (port 9 on loopback):
 * every series exists at 0 before anything happens, the failed poll is counted by result and
 * status, and the gauges read the worker's status at each scrape. Items claimed, completed and
 * lost, and the heartbeat latency, are followed end to end against a real control plane in
 * packages/cli/test/status-server.test.ts (core cannot depend on the control plane).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, filter, Subject } from 'rxjs';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorker, functionRuntime, VirtualClock, WorkClient, workerMetrics, type Worker, type WorkerEvent, type WorkerStatus } from '../src/index.js';

const dirs: string[] = [];
const workers: Worker[] = [];
const clients: WorkClient[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.shutdown({ mode: 'stop' })));
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function refusedWorker(maxConcurrency: number): Promise<Worker> {
  const workdirRoot = await mkdtemp(join(tmpdir(), 'envworker-metrics-'));
  dirs.push(workdirRoot);
  const clock = new VirtualClock(0);
  const connection = { baseUrl: 'http://127.0.0.1:9', environmentId: 'env_000000000000000000000000', environmentKey: 'ek_metrics_test_key_0000000000' };
  // No retries inside the call, so the refused poll is reported at once.
  const client = new WorkClient({ ...connection, clock, retry: { maxRetries: 0 } });
  clients.push(client);
  const worker = createWorker({
    ...connection,
    client,
    runtime: functionRuntime(() => undefined),
    maxConcurrency,
    workdirRoot,
    // The backoff after the failed poll waits on this clock, which never moves: one poll only.
    clock,
    logger: { level: 'silent' },
  });
  workers.push(worker);
  return worker;
}

/** The value of one series, from prom-client's own JSON view of the registry. */
async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((entry) => entry.name === name);
  const series = metric?.values.find((entry) => Object.entries(labels).every(([key, label]) => entry.labels[key] === label));
  return series?.value;
}

describe('workerMetrics', () => {
  it('has every series at 0 before the worker starts, and reads the slots from status()', async () => {
    const worker = await refusedWorker(3);
    const registry = new Registry();
    workerMetrics(worker, registry);
    expect(await value(registry, 'envworker_items_claimed_total')).toBe(0);
    expect(await value(registry, 'envworker_items_running')).toBe(0);
    expect(await value(registry, 'envworker_free_slots')).toBe(3);
    for (const outcome of ['completed', 'failed', 'stopped_by_control_plane', 'lease_lost', 'shutdown', 'start_failed', 'ack_refused', 'healthcheck']) {
      expect(await value(registry, 'envworker_items_completed_total', { outcome })).toBe(0);
    }
    for (const reason of ['precondition', 'stale', 'fatal']) expect(await value(registry, 'envworker_leases_lost_total', { reason })).toBe(0);
    for (const result of ['work', 'empty', 'error']) expect(await value(registry, 'envworker_poll_results_total', { result })).toBe(0);
    for (const name of ['envworker_heartbeat_latency_seconds', 'envworker_heartbeat_lateness_seconds']) {
      const histogram = (await registry.getMetricsAsJSON()).find((entry) => entry.name === name);
      expect(histogram?.type).toBe('histogram');
    }
  });

  it('counts a poll that found no server as an error with status none', async () => {
    const worker = await refusedWorker(1);
    const registry = new Registry();
    workerMetrics(worker, registry);
    const failed = firstValueFrom(worker.events$.pipe(filter((event) => event.type === 'poll_error')));
    await worker.start();
    await failed;
    expect(await value(registry, 'envworker_poll_results_total', { result: 'error' })).toBe(1);
    expect(await value(registry, 'envworker_poll_errors_total', { status: 'none' })).toBe(1);
    expect(await value(registry, 'envworker_poll_results_total', { result: 'empty' })).toBe(0);
  });

  it('stops following the events after stop()', async () => {
    const worker = await refusedWorker(1);
    const registry = new Registry();
    workerMetrics(worker, registry).stop();
    const failed = firstValueFrom(worker.events$.pipe(filter((event) => event.type === 'poll_error')));
    await worker.start();
    await failed;
    expect(await value(registry, 'envworker_poll_results_total', { result: 'error' })).toBe(0);
  });

  it('puts each renewed beat\'s lateness in the lateness histogram, in seconds', async () => {
    // A fake worker: a late beat needs an event loop too busy to send it on time, which a real
    // worker cannot be made to have on demand (and core cannot start a control plane to beat on).
    const faultWorker = { events$: new Subject<WorkerEvent>(), status: () => ({ slots: { max: 1, busy: 1, polling: 0, free: 0 } }) as WorkerStatus };
    const registry = new Registry();
    workerMetrics(faultWorker, registry);
    const base = { at: 0, work_id: 'work_1', session_id: null, ttl_seconds: 30, latency_ms: 2 } as const;
    for (const late_ms of [0, 0, 40, 300]) faultWorker.events$.next({ type: 'lease_renewed', ...base, late_ms });
    // prom-client's JSON of a histogram names each value (`…_bucket`, `…_sum`, `…_count`); its types leave the name out.
    const series = ((await registry.getMetricsAsJSON()).find((entry) => entry.name === 'envworker_heartbeat_lateness_seconds')?.values ?? []) as readonly {
      readonly metricName?: string;
      readonly labels: Readonly<Record<string, string | number>>;
      readonly value: number;
    }[];
    const bucket = (le: number): number | undefined => series.find((entry) => entry.metricName?.endsWith('_bucket') && entry.labels['le'] === le)?.value;
    expect(series.find((entry) => entry.metricName?.endsWith('_count'))?.value).toBe(4);
    expect(series.find((entry) => entry.metricName?.endsWith('_sum'))?.value).toBeCloseTo(0.34, 9);
    expect([bucket(0.001), bucket(0.05), bucket(0.25), bucket(0.5)]).toEqual([2, 3, 3, 4]);
  });

  it('refuses a second worker in the same registry', async () => {
    const registry = new Registry();
    workerMetrics(await refusedWorker(1), registry);
    expect(() => workerMetrics(workers[0] as Worker, registry)).toThrow(/already been registered/);
  });
});
