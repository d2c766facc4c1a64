/**
 * Issue 7, several replicas: three control-plane processes on one real redis-server serving one
 * environment, three worker processes spread over them (worker i polls replica i), 300 items.
 * Mid-run one replica is SIGKILLed and, a moment later, restarted on the same port, so its worker
 * reconnects. Every item must complete, each stopped by exactly one successful stop {force:true},
 * and no item may be delivered to two workers while a lease on it is live.
 *
 * What is observed where: each worker talks to its replica through a `RecordingProxy`, a
 * pass-through observer (not a fake) that records every answer the replica gave, with the server's
 * own timestamps; stops and leases are judged from those answers (forced-stops.ts, lease-holds.ts).
 * Completion (`outcome: completed`) is what the worker processes report on their event lines. The
 * final state of every item is read from a replica.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Work } from '@envworker/core';
import { itemStop } from './processes/forced-stops.js';
import {
  adminClient,
  completedBy,
  enqueueItems,
  Fleet,
  fleetEnvironment,
  REPLICA_LEASE,
  startReplica,
  startWorker,
  until,
} from './processes/fleet.js';
import { leaseViolations } from './processes/lease-holds.js';
import type { NodeScript } from './processes/node-script.js';
import { RecordingProxy, type Exchange } from './processes/recording-proxy.js';
import { freePort, REDIS_REQUIRED, redisServerUnavailable } from './redis/redis-server.js';

const unavailable = redisServerUnavailable();
if (unavailable !== null && !REDIS_REQUIRED) console.log(`Redis replica process tests not run: ${unavailable}`);

const ITEMS = 300;
const ITEM_MS = 60;
const CONCURRENCY = 2;
/** The replica killed mid-run (and its worker, which must reconnect). */
const VICTIM = 1;

describe.runIf(unavailable === null || REDIS_REQUIRED)('three control-plane processes on one Redis', () => {
  const fleet = new Fleet();
  beforeAll(async () => {
    if (unavailable !== null) throw new Error(`ENVWORKER_REQUIRE_REDIS=1 but ${unavailable}`);
    await fleet.setUp('envworker-replicas-');
  }, 15_000);
  afterAll(() => fleet.tearDown());

  it('completes 300 items over a replica SIGKILLed and restarted: one successful stop {force:true} each, no delivery under a live lease', async () => {
    const environment = fleetEnvironment();
    const ports = await Promise.all([0, 1, 2].map(() => freePort()));
    // All three at once: whichever creates the environment first, the others use it.
    const track = (replica: NodeScript): void => void fleet.track(replica);
    const replicas = await Promise.all([0, 1, 2].map((index) => startReplica(`replica${index}`, ports[index]!, fleet.redisUrl, environment, track)));
    const replicaUrl = (index: number): string => `http://127.0.0.1:${ports[index]}`;

    const admin = adminClient(replicaUrl(0), environment);
    const ids = await enqueueItems(admin, ITEMS);

    const workers: NodeScript[] = [];
    for (const index of [0, 1, 2]) {
      const proxy = fleet.track(new RecordingProxy(`worker${index}`, replicaUrl(index)));
      workers.push(fleet.track(startWorker(`worker${index}`, await proxy.listen(), environment, fleet.workdir, CONCURRENCY, { itemMs: ITEM_MS })));
    }
    const exchanges = (): Exchange[] => fleet.proxies.flatMap((proxy) => proxy.exchanges);
    const completedCount = (): number => new Set(workers.flatMap((worker) => [...completedBy(worker)])).size;

    // Mid-run: a fifth of the items done, the victim's worker among those doing them.
    await until('60 items completed, 5 of them by the victim replica\'s worker', () => completedCount() >= 60 && completedBy(workers[VICTIM]!).size >= 5, 30_000);
    const victim = replicas[VICTIM]!;
    victim.kill('SIGKILL');
    expect((await victim.exit).signal).toBe('SIGKILL');
    const completedAtKill = completedCount();
    // The replica stays down a moment; nothing below depends on how long.
    await sleep(300);
    const restartedAt = Date.now();
    await startReplica(`replica${VICTIM}-restarted`, ports[VICTIM]!, fleet.redisUrl, environment, track);

    const stopAnswered = (): number =>
      new Set(exchanges().filter((exchange) => exchange.op === 'stop' && (exchange.status === 200 || exchange.status === 409)).map((exchange) => exchange.workId)).size;
    await until(`a stop of every item answered (200 or 409)`, () => stopAnswered() === ITEMS, 45_000);
    // The victim's worker reconnected: the restarted replica answered it (its polls go on while it idles).
    await until('the restarted replica answered its worker', () => fleet.proxies[VICTIM]!.exchanges.some((exchange) => exchange.status !== null && exchange.sentAt > restartedAt), 30_000);

    for (const worker of workers) worker.kill('SIGTERM');
    for (const worker of workers) expect(await worker.exit, `${worker.name} exits 0 after SIGTERM; stderr: ${worker.stderr}`).toEqual({ code: 0, signal: null });

    // Every item is stopped on the server.
    const final: Work[] = [];
    for await (const work of admin.listAll({ limit: 100 })) final.push(work);
    await admin.close();
    expect(final.map((work) => work.id).sort()).toEqual([...ids].sort());
    expect(final.filter((work) => work.state !== 'stopped').map((work) => `${work.id}: ${work.state}`)).toEqual([]);

    // Exactly one successful stop {force:true} per item, by a worker that reported it completed.
    expect(exchanges().filter((exchange) => exchange.op === 'stop' && exchange.force !== true)).toEqual([]);
    const problems: string[] = [];
    let inferred = 0;
    for (const id of ids) {
      const stop = itemStop(exchanges(), id);
      if (!stop.ok) {
        problems.push(stop.problem);
        continue;
      }
      if (stop.inferred) inferred += 1;
      const stopper = workers.find((worker) => worker.name === stop.worker)!;
      if (!completedBy(stopper).has(id)) problems.push(`${id}: stopped by ${stop.worker}, which did not report it completed`);
    }
    expect(problems).toEqual([]);

    // No item delivered to, or held by, two workers while a lease on it was live.
    expect(leaseViolations(exchanges(), REPLICA_LEASE)).toEqual([]);

    // The work was spread over the three workers, and went on after the kill.
    for (const worker of workers) expect(completedBy(worker).size, `${worker.name}'s completed items`).toBeGreaterThan(0);
    expect(completedAtKill).toBeLessThan(ITEMS);
    const byWorker = workers.map((worker) => `${worker.name} ${completedBy(worker).size}`).join(', ');
    const runs = workers.reduce((sum, worker) => sum + completedBy(worker).size, 0);
    console.log(
      `replica processes: ${ITEMS} items completed (${byWorker}; ${runs - ITEMS} completed by two workers); replica killed after ${completedAtKill};` +
        ` ${inferred} stop(s) inferred from a 409 after an unanswered stop`,
    );
  }, 90_000);
});
