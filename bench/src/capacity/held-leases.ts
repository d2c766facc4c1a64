/**
 * The leases the heartbeat scenario beats: claimed, acked and made `active` (first beat with
 * `NO_HEARTBEAT`) before the measurement, checked against the server after each run, and stopped
 * at the end. All of it goes through envworker's own `WorkClient`, which validates every answer.
 */
import { decodeWorkSecret, NO_HEARTBEAT, parseTimestamp, WorkClient } from '@envworker/core';
import type { ControlPlaneProcess } from '../infra/control-plane-process.js';
import { RECLAIM_OLDER_THAN_MS, type HeldLease } from './lanes.js';

/** Calls in flight at once while setting up, checking and releasing leases. */
const PARALLEL = 16;

async function eachInParallel<T>(items: readonly T[], task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(PARALLEL, items.length) }, async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      await task(items[index]!, index);
    }
  });
  await Promise.all(lanes);
}

function clientOf(replica: ControlPlaneProcess): WorkClient {
  return new WorkClient({ baseUrl: replica.url, environmentId: replica.environmentId, environmentKey: replica.environmentKey });
}

/** Queues `count` items on `replica`, then claims, acks and first-beats as many: each ends `active`. */
export async function claimLeases(replica: ControlPlaneProcess, count: number, workerId: string): Promise<HeldLease[]> {
  await replica.enqueue(count, { bench: 'control-plane-capacity' }, PARALLEL);
  const client = clientOf(replica);
  const leases: HeldLease[] = [];
  try {
    await eachInParallel(Array.from({ length: count }, (_, i) => i), async () => {
      const work = await client.poll({ workerId, reclaimOlderThanMs: RECLAIM_OLDER_THAN_MS });
      if (work === null) throw new Error('claimLeases: a poll found the queue empty while items were due');
      const { secret, reason } = decodeWorkSecret(work.secret);
      if (secret === null) throw new Error(`claimLeases: the polled item's secret is unusable: ${reason}`);
      await client.ack(work.id);
      const beat = await client.heartbeat(work.id, { expectedLastHeartbeat: NO_HEARTBEAT }, { credential: secret.sessions_token });
      if (beat.state !== 'active') throw new Error(`claimLeases: the first beat left the item ${beat.state}, not active`);
      leases.push({ id: work.id, sessionsToken: secret.sessions_token, lastHeartbeat: beat.last_heartbeat, ttlSeconds: beat.ttl_seconds });
    });
  } finally {
    await client.close();
  }
  return leases;
}

/**
 * Reads every lease back: each item must be `active`, its `latest_heartbeat_at` the last
 * `last_heartbeat` its lane was answered (no beat was lost or applied unseen), and its lease live
 * (that beat less than a TTL ago). Returns the number of leases that are not so.
 */
export async function countBrokenLeases(replica: ControlPlaneProcess, leases: readonly HeldLease[]): Promise<number> {
  const client = clientOf(replica);
  let broken = 0;
  try {
    await eachInParallel(leases, async (lease) => {
      const work = await client.get(lease.id);
      const beatAt = work.latest_heartbeat_at;
      const beatMicros = beatAt === null ? null : parseTimestamp(beatAt);
      const live = beatMicros !== null && Date.now() - beatMicros / 1000 < lease.ttlSeconds * 1000;
      if (work.state !== 'active' || beatAt !== lease.lastHeartbeat || !live) broken += 1;
    });
  } finally {
    await client.close();
  }
  return broken;
}

/** Stops every lease (`force: true` with its sessions token), so none is left to expire and re-queue. */
export async function releaseLeases(replica: ControlPlaneProcess, leases: readonly HeldLease[]): Promise<void> {
  const client = clientOf(replica);
  try {
    await eachInParallel(leases, async (lease) => {
      await client.stop(lease.id, { force: true }, { credential: lease.sessionsToken });
    });
  } finally {
    await client.close();
  }
}
