/**
 * Issue 7, a worker crash: on one real redis-server with two control-plane processes, a worker
 * process that holds leases is SIGKILLed mid-run. Its leases expire (a TTL of a few seconds), its
 * items are re-queued as contract §4 says (`queued`, with `acknowledged_at`, `started_at` and the
 * heartbeat cleared) and completed by the other worker process, each with exactly one successful
 * stop {force:true}.
 *
 * The doomed worker runs its items until they are stopped (`--hold`), so once its slots are full it
 * polls nothing more, and it is killed only after every item it holds has had a heartbeat answered:
 * its leases are the short heartbeat leases, never the longer lease of an ack without a beat. What
 * each worker was given and answered is read from `RecordingProxy`s, pass-through observers (not
 * fakes) between each worker and its replica; completion from the workers' event lines.
 */
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
  startedBy,
  startReplica,
  startWorker,
  until,
} from './processes/fleet.js';
import { deliveriesOf, holdsOf, leaseViolations } from './processes/lease-holds.js';
import { RecordingProxy, type Exchange } from './processes/recording-proxy.js';
import { freePort, REDIS_REQUIRED, redisServerUnavailable } from './redis/redis-server.js';

const unavailable = redisServerUnavailable();
if (unavailable !== null && !REDIS_REQUIRED) console.log(`Redis worker crash tests not run: ${unavailable}`);

const ITEMS = 30;
/** The doomed worker's slots: it holds exactly this many items when it dies. */
const DOOMED_SLOTS = 3;

describe.runIf(unavailable === null || REDIS_REQUIRED)('a worker process SIGKILLed on Redis', () => {
  const fleet = new Fleet();
  beforeAll(async () => {
    if (unavailable !== null) throw new Error(`ENVWORKER_REQUIRE_REDIS=1 but ${unavailable}`);
    await fleet.setUp('envworker-crash-');
  }, 15_000);
  afterAll(() => fleet.tearDown());

  it('lets the leases of a killed worker expire, re-queues its items, and the other worker completes each once', async () => {
    const environment = fleetEnvironment();
    const ports = [await freePort(), await freePort()];
    await Promise.all(ports.map((port, index) => startReplica(`replica${index}`, port, fleet.redisUrl, environment, (replica) => void fleet.track(replica))));
    const admin = adminClient(`http://127.0.0.1:${ports[0]}`, environment);
    const ids = await enqueueItems(admin, ITEMS);

    const doomedProxy = new RecordingProxy('doomed', `http://127.0.0.1:${ports[0]}`);
    const survivorProxy = new RecordingProxy('survivor', `http://127.0.0.1:${ports[1]}`);
    fleet.track(doomedProxy);
    fleet.track(survivorProxy);
    const doomed = fleet.track(startWorker('doomed', await doomedProxy.listen(), environment, fleet.workdir, DOOMED_SLOTS, { hold: true }));
    const beaten = (): Set<string> =>
      new Set(
        doomedProxy.exchanges
          .filter((exchange) => exchange.op === 'heartbeat' && exchange.status === 200 && (exchange.body as { lease_extended?: unknown }).lease_extended === true)
          .map((exchange) => exchange.workId as string),
      );
    await until(`the doomed worker running ${DOOMED_SLOTS} items, each with a heartbeat answered`, () => startedBy(doomed).size === DOOMED_SLOTS && beaten().size === DOOMED_SLOTS, 30_000);

    const survivor = fleet.track(startWorker('survivor', await survivorProxy.listen(), environment, fleet.workdir, 2, { itemMs: 50 }));
    await survivor.until('5 items completed', () => completedBy(survivor).size >= 5, 30_000);

    // What the doomed worker holds, by the acks its replica answered.
    const held = new Set(doomedProxy.exchanges.filter((exchange) => exchange.op === 'ack' && exchange.status === 200).map((exchange) => exchange.workId as string));
    expect(held.size).toBe(DOOMED_SLOTS);
    expect(held).toEqual(startedBy(doomed));
    const killedAt = Date.now();
    doomed.kill('SIGKILL');
    expect((await doomed.exit).signal).toBe('SIGKILL');
    expect(completedBy(survivor).size).toBeLessThan(ITEMS - DOOMED_SLOTS);

    const exchanges = (): Exchange[] => [...doomedProxy.exchanges, ...survivorProxy.exchanges];
    await survivor.until(`the survivor completing all ${ITEMS} items`, () => completedBy(survivor).size === ITEMS, 30_000);
    survivor.kill('SIGTERM');
    expect(await survivor.exit, `the survivor exits 0 after SIGTERM; stderr: ${survivor.stderr}`).toEqual({ code: 0, signal: null });

    const final: Work[] = [];
    for await (const work of admin.listAll({ limit: 100 })) final.push(work);
    await admin.close();
    expect(final.filter((work) => work.state !== 'stopped').map((work) => `${work.id}: ${work.state}`)).toEqual([]);
    expect(final).toHaveLength(ITEMS);

    // The dead worker never stopped anything; each of its items was delivered again to the survivor
    // only after its lease (as last shown to the dead worker) had run out, re-queued as §4 says.
    expect(doomedProxy.exchanges.filter((exchange) => exchange.op === 'stop')).toEqual([]);
    const doomedHolds = holdsOf(doomedProxy.exchanges, REPLICA_LEASE);
    const redeliveries = deliveriesOf(survivorProxy.exchanges);
    for (const id of held) {
      const hold = doomedHolds.find((candidate) => candidate.workId === id);
      expect(hold, `the doomed worker's lease of ${id}`).toBeDefined();
      const redelivery = redeliveries.find((delivery) => delivery.workId === id);
      expect(redelivery, `a delivery of ${id} to the survivor`).toBeDefined();
      expect(redelivery!.at, `${id} delivered again after the lease end`).toBeGreaterThanOrEqual(Math.max(hold!.end, killedAt));
      expect(redelivery!.work).toMatchObject({ state: 'queued', acknowledged_at: null, started_at: null, latest_heartbeat_at: null });
      expect(itemStop(exchanges(), id)).toEqual({ ok: true, worker: 'survivor', inferred: false });
      expect(completedBy(survivor).has(id), `the survivor reported ${id} completed`).toBe(true);
    }

    // Every item: completed once, by the survivor, with exactly one successful stop {force:true};
    // no double delivery under a live lease.
    const completions = survivor.lines.filter((line) => line['type'] === 'stopped' && line['outcome'] === 'completed');
    expect(completions).toHaveLength(ITEMS);
    expect(completedBy(doomed).size).toBe(0);
    expect(ids.map((id) => itemStop(exchanges(), id)).filter((stop) => !stop.ok || stop.worker !== 'survivor')).toEqual([]);
    expect(leaseViolations(exchanges(), REPLICA_LEASE)).toEqual([]);
  }, 60_000);
});
