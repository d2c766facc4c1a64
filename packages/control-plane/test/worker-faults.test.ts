/**
 * The worker under faults.
 *
 * 1. Model-based: one to three real workers (`createWorker` with core's function runtime) against
 *    the real control plane over real HTTP on 127.0.0.1, all on ONE virtual clock, each worker
 *    behind a fault proxy (a named fake: see worker-faults/fault-proxy.ts). fast-check generates the
 *    steps: enqueue items, move the clock by small and large amounts, stop items as an operator,
 *    inject faults on a worker's next requests, freeze and thaw a worker, shut workers down. After
 *    every step and at the end the run's invariants are checked (worker-faults/invariants.ts); a
 *    failure prints the seed, the shrunk steps and the run's log.
 * 2. End to end on the system clock: a worker rides out a restart of the control plane.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createWorker,
  functionRuntime,
  type Work,
  type WorkContext,
  type Worker,
  type WorkerEvent,
} from '@envworker/core';
import { MemoryWorkStore, startControlPlane, type ControlPlane } from '../src/index.js';
import { initialModel, planArbitrary, stepsArbitrary } from './worker-faults/commands.js';
import { Simulation } from './worker-faults/simulation.js';

describe('worker under injected faults (model-based, virtual time, real HTTP)', () => {
  it('never runs an item twice at once, never stops after a lost lease, stops each finished item once, and leaves every item stopped or queued', async () => {
    await fc.assert(
      fc.asyncProperty(planArbitrary, stepsArbitrary(30), async (plan, steps) => {
        const sim = await Simulation.start(plan);
        try {
          await fc.asyncModelRun(() => ({ model: initialModel(plan), real: sim }), steps);
          await sim.finish();
          sim.assertHealthy();
        } finally {
          await sim.close();
        }
      }),
      { numRuns: 40 },
    );
  }, 180_000);

  it('a claim whose poll answer arrives after the redelivery never runs beside the new holder', async () => {
    // The case the property found (shrunk): worker 2's poll answer is held while it is frozen; the
    // reclaim window passes and worker 1 claims and runs the item; worker 2 then wakes, acks
    // (200: the item is already `starting`) and must not start a sandbox, because its first beat
    // carries a sessions token the redelivery revoked.
    const worker = { maxConcurrency: 1, pollers: 1, leaseTtlSeconds: 10, stopGraceMs: 0 };
    const sim = await Simulation.start({ workers: [worker, worker, worker], serverDefaultTtlSeconds: 10, seed: 0 });
    try {
      await sim.enqueue('session', 15_000);
      await sim.enqueue('session', 1);
      sim.inject(2, { target: 'heartbeat', kind: 'lost_request', count: 1, delayMs: 100 });
      sim.freeze(2);
      await sim.enqueue('session', 15_000);
      await sim.advance(15_000);
      await sim.thaw(2, 'io_first');
      await sim.advance(15_000);
      await sim.finish();
      sim.assertHealthy();
    } finally {
      await sim.close();
    }
  }, 60_000);
});

describe('worker across a control-plane restart (system clock)', () => {
  const planes: ControlPlane[] = [];
  const workers: Worker[] = [];

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.shutdown({ mode: 'stop' })));
    await Promise.all(planes.splice(0).map((plane) => plane.close()));
  });

  /** Resolves once `done` holds for the events seen so far; rejects after `deadlineMs` of real time. */
  function until(events: readonly WorkerEvent[], what: string, done: () => boolean, deadlineMs = 10_000): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (done()) resolve();
        else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events.slice(-8))}`));
        else setTimeout(check, 5);
      };
      check();
    });
  }

  it('keeps its running item, confirms its stop to the restarted server, and claims new work from it', async () => {
    const store = new MemoryWorkStore();
    const first = await startControlPlane({ store });
    planes.push(first);
    const environment = first.environments[0];
    if (environment === undefined) throw new Error('the control plane has no environment');
    const releases = new Map<string, () => void>();
    const fn = (work: Work, ctx: WorkContext): Promise<void> =>
      new Promise<void>((resolve) => {
        releases.set(work.id, resolve);
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    const events: WorkerEvent[] = [];
    const worker = createWorker({
      baseUrl: first.url,
      environmentId: environment.id,
      environmentKey: environment.key,
      runtime: functionRuntime(fn),
      // A free slot keeps a poll going while the first item runs.
      maxConcurrency: 2,
      leaseTtlSeconds: 10,
      pollIdleDelayMs: [0, 0],
      logger: { level: 'silent' },
      // Small backoff jitter, so polling resumes within milliseconds of the restart.
      random: () => 0.01,
    });
    workers.push(worker);
    worker.events$.subscribe((event) => events.push(event));
    const of = (type: WorkerEvent['type'], workId: string): WorkerEvent[] =>
      events.filter((event) => event.type === type && 'work_id' in event && event.work_id === workId);

    const before = await first.enqueue();
    await worker.start();
    await until(events, 'the first item to start', () => of('started', before.id).length === 1);

    await first.close();
    await until(events, 'a poll to fail while the server is down', () => events.some((event) => event.type === 'poll_error'));
    const second = await startControlPlane({ store, port: first.port, environments: [{ id: environment.id, key: environment.key }] });
    planes.push(second);

    releases.get(before.id)?.();
    await until(events, 'the first item to stop', () => of('stopped', before.id).length === 1);
    expect(of('stopped', before.id)[0]).toMatchObject({ outcome: 'completed', stop_call: 'done' });

    const after = await second.enqueue();
    await until(events, 'the second item to start', () => of('started', after.id).length === 1);
    releases.get(after.id)?.();
    await until(events, 'the second item to stop', () => of('stopped', after.id).length === 1);
    expect(of('stopped', after.id)[0]).toMatchObject({ outcome: 'completed', stop_call: 'done' });

    for (const work of [before, after]) expect((await store.get(environment.id, work.id)).state).toBe('stopped');
    expect(events.filter((event) => event.type === 'lease_lost')).toEqual([]);
    expect(worker.status().lifecycle).toBe('running');
  });
});
