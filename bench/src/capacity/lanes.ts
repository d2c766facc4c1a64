/**
 * The per-connection scripts of the capacity scenarios, as a worker would send them (contract §1,
 * §5, §7): the environment key for poll and ack, the item's sessions token for its heartbeat, an
 * empty POST body with `content-length: 0`, and a worker id per connection on polls.
 */
import type { Lane, LoadRequest } from '../infra/load-tool.js';

/**
 * The `reclaim_older_than_ms` of the claiming polls: past any run (1 h), so that no claimed item is
 * redelivered during a measurement even when its ack is slow (the default, 5 s, is shorter than a run).
 */
export const RECLAIM_OLDER_THAN_MS = 3_600_000;

/** The work collection of an environment. */
export function workPath(environmentId: string): string {
  return `/v1/environments/${environmentId}/work`;
}

/** A lease the heartbeat lanes keep: the item, its sessions token and the fencing value to echo. */
export interface HeldLease {
  readonly id: string;
  readonly sessionsToken: string;
  lastHeartbeat: string;
  ttlSeconds: number;
}

const EMPTY_POST = { 'content-length': '0' } as const;

/** The JSON of an answer, or `null` when it is not JSON (then the answer counts as a failure). */
function parseJson(body: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * `poll_empty`: polls without `block_ms` (contract §5: omitted means no wait; `block_ms=0` is a
 * 400) on an empty queue; the expected answer is a 200 with a JSON `null`.
 */
export function emptyPollLane(environmentId: string, environmentKey: string, workerId: string): Lane {
  const request: LoadRequest = {
    method: 'GET',
    path: `${workPath(environmentId)}/poll`,
    headers: { authorization: `Bearer ${environmentKey}`, 'anthropic-worker-id': workerId },
  };
  return {
    next: () => request,
    answer: (status, body) => ({ kind: 'poll', ok: status === 200 && body === 'null' }),
  };
}

/** What the claim lanes of one run saw: every id a poll handed out, and how many it handed out twice. */
export interface ClaimLedger {
  readonly claimed: Set<string>;
  duplicates: number;
}

/**
 * `poll`: a poll that claims an item, then the ack of that item, as a worker does (contract §7:
 * "ack at once"). Acking keeps the pending list as short as in service: a delivered, unacked item
 * stays pending until it is acked or reclaimed, and a poll's reclaim looks at the pending list, so
 * unacked claims piling up would make the figure depend on the run's length. A poll that finds
 * the queue empty is a failure here (the run is sized so that every poll has an item).
 */
export function claimLane(environmentId: string, environmentKey: string, workerId: string, ledger: ClaimLedger): Lane {
  const base = workPath(environmentId);
  const poll: LoadRequest = {
    method: 'GET',
    path: `${base}/poll?reclaim_older_than_ms=${RECLAIM_OLDER_THAN_MS}`,
    headers: { authorization: `Bearer ${environmentKey}`, 'anthropic-worker-id': workerId },
  };
  let toAck: string | null = null;
  let sent: 'poll' | 'ack' = 'poll';
  return {
    next() {
      if (toAck === null) {
        sent = 'poll';
        return poll;
      }
      sent = 'ack';
      const id = toAck;
      toAck = null;
      return { method: 'POST', path: `${base}/${id}/ack`, headers: { authorization: `Bearer ${environmentKey}`, ...EMPTY_POST } };
    },
    answer(status, body) {
      if (sent === 'ack') return { kind: 'ack', ok: status === 200 };
      if (status !== 200 || body === 'null') return { kind: 'poll', ok: false };
      const id = parseJson(body)?.['id'];
      if (typeof id !== 'string') return { kind: 'poll', ok: false };
      if (ledger.claimed.has(id)) ledger.duplicates += 1;
      ledger.claimed.add(id);
      toAck = id;
      return { kind: 'poll', ok: true };
    },
  };
}

/**
 * `heartbeat`: beats the lane's leases in rotation, each with its sessions token and the
 * `last_heartbeat` of its previous answer as `expected_last_heartbeat`. A lane sends one request at
 * a time, so a lease's next beat leaves only after its previous one was answered. The expected
 * answer is a 200 extending the lease of an `active` item.
 */
export function heartbeatLane(environmentId: string, leases: readonly HeldLease[]): Lane {
  if (leases.length === 0) throw new RangeError('heartbeatLane: a lane needs at least one lease');
  const base = workPath(environmentId);
  let position = 0;
  let current = leases[0]!;
  return {
    next() {
      current = leases[position % leases.length]!;
      position += 1;
      return {
        method: 'POST',
        path: `${base}/${current.id}/heartbeat?expected_last_heartbeat=${encodeURIComponent(current.lastHeartbeat)}`,
        headers: { authorization: `Bearer ${current.sessionsToken}`, ...EMPTY_POST },
      };
    },
    answer(status, body) {
      if (status !== 200) return { kind: 'heartbeat', ok: false };
      const beat = parseJson(body);
      const lastHeartbeat = beat?.['last_heartbeat'];
      const ttlSeconds = beat?.['ttl_seconds'];
      if (typeof lastHeartbeat !== 'string' || typeof ttlSeconds !== 'number') return { kind: 'heartbeat', ok: false };
      current.lastHeartbeat = lastHeartbeat;
      current.ttlSeconds = ttlSeconds;
      return { kind: 'heartbeat', ok: beat?.['lease_extended'] === true && beat['state'] === 'active' };
    },
  };
}

/** Queues items over the admin extension (contract §6); the expected answer is a 201. */
export function enqueueLane(environmentId: string, adminKey: string): Lane {
  const request: LoadRequest = {
    method: 'POST',
    path: workPath(environmentId),
    headers: { 'x-api-key': adminKey, 'content-type': 'application/json' },
    body: '{"metadata":{"bench":"control-plane-capacity"}}',
  };
  return {
    next: () => request,
    answer: (status) => ({ kind: 'enqueue', ok: status === 201 }),
  };
}
