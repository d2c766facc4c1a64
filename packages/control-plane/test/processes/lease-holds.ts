/**
 * Leases as the control plane showed them to each worker, read from the recording proxies'
 * exchanges, and the check that no item was delivered to, or held by, two workers while a lease on
 * it was live.
 *
 * A hold starts at the `acknowledged_at` of an ack the replica answered 200 (server time) and ends
 * at the lease end last shown to its holder: `last_heartbeat + ttl_seconds` of its latest
 * extending heartbeat, or `acknowledged_at` + the default TTL when it never had one, or the
 * `stopped_at` of its own successful stop. A heartbeat the replica may have served without
 * answering (`cut`, `abandoned`) may have moved the lease end earlier, to no less than its send
 * time + the minimum TTL; the hold then ends there, so an unanswered beat never makes a legal
 * re-delivery look like a violation. All times are milliseconds of the one system clock the
 * replicas and the test share (one machine).
 */
import { parseTimestamp } from '@envworker/core';
import type { Exchange } from './recording-proxy.js';

/** One worker's lease of one item. */
export interface Hold {
  readonly worker: string;
  readonly workId: string;
  readonly start: number;
  readonly end: number;
}

/** A poll answer that delivered an item to a worker, at the time the answer came back. */
export interface Delivery {
  readonly worker: string;
  readonly workId: string;
  readonly at: number;
  /** The delivered item as the replica answered it. */
  readonly work: Record<string, unknown>;
}

/** The replicas' lease policy, in seconds. */
export interface TtlPolicy {
  readonly minTtlSeconds: number;
  readonly defaultTtlSeconds: number;
}

/** Every delivery the replicas answered, including answers the worker hung up on. */
export function deliveriesOf(exchanges: readonly Exchange[]): Delivery[] {
  const deliveries: Delivery[] = [];
  for (const exchange of exchanges) {
    if (exchange.op !== 'poll' || exchange.status !== 200 || !isRecord(exchange.body)) continue;
    deliveries.push({ worker: exchange.worker, workId: String(exchange.body['id']), at: exchange.endedAt, work: exchange.body });
  }
  return deliveries;
}

/** Every hold, from the answered acks, heartbeats and stops (see the file's comment). */
export function holdsOf(exchanges: readonly Exchange[], policy: TtlPolicy): Hold[] {
  const byHolder = new Map<string, Exchange[]>();
  for (const exchange of exchanges) {
    if (exchange.workId === null || (exchange.op !== 'ack' && exchange.op !== 'heartbeat' && exchange.op !== 'stop')) continue;
    const key = `${exchange.worker}\n${exchange.workId}`;
    byHolder.set(key, [...(byHolder.get(key) ?? []), exchange]);
  }
  const holds: Hold[] = [];
  for (const calls of byHolder.values()) holds.push(...holdsOfOneHolder(calls, policy));
  return holds;
}

/** The holds of one worker on one item: one per distinct `acknowledged_at` it was answered. */
function holdsOfOneHolder(calls: readonly Exchange[], policy: TtlPolicy): Hold[] {
  const first = calls[0] as Exchange;
  const starts = [...new Set(calls.filter((call) => call.op === 'ack' && call.status === 200).map((call) => timeOf(call.body, 'acknowledged_at')))]
    .filter((start): start is number => start !== null)
    .sort((a, b) => a - b);
  return starts.map((start, index) => {
    const next = starts[index + 1] ?? Infinity;
    const within = (at: number): boolean => at >= start && at < next;
    let end = start + policy.defaultTtlSeconds * 1000;
    let lastBeat = -Infinity;
    for (const call of calls) {
      if (call.op !== 'heartbeat' || call.status !== 200 || !isRecord(call.body) || call.body['lease_extended'] !== true) continue;
      const beat = timeOf(call.body, 'last_heartbeat');
      if (beat === null || !within(beat) || beat < lastBeat) continue;
      lastBeat = beat;
      end = beat + Number(call.body['ttl_seconds']) * 1000;
    }
    for (const call of calls) {
      const unanswered = call.op === 'heartbeat' && (call.end === 'cut' || call.end === 'abandoned');
      if (unanswered && within(call.sentAt) && call.endedAt >= lastBeat) end = Math.min(end, call.sentAt + policy.minTtlSeconds * 1000);
      if (call.op === 'stop' && call.force === true && call.status === 200) {
        const stoppedAt = timeOf(call.body, 'stopped_at');
        if (stoppedAt !== null && within(stoppedAt)) end = Math.min(end, stoppedAt);
      }
    }
    return { worker: first.worker, workId: first.workId as string, start, end };
  });
}

/**
 * What broke "no item delivered to two workers while a lease on it is live": two holds of one item
 * by different workers that overlap, and deliveries of an item to a worker while another worker's
 * hold of it was live. Empty when nothing did.
 */
export function leaseViolations(exchanges: readonly Exchange[], policy: TtlPolicy): string[] {
  const holds = holdsOf(exchanges, policy);
  const byItem = new Map<string, Hold[]>();
  for (const hold of holds) byItem.set(hold.workId, [...(byItem.get(hold.workId) ?? []), hold]);
  const violations: string[] = [];
  for (const [workId, itemHolds] of byItem) {
    for (const [index, a] of itemHolds.entries()) {
      for (const b of itemHolds.slice(index + 1)) {
        if (a.worker !== b.worker && a.start < b.end && b.start < a.end) {
          violations.push(`${workId} held by ${a.worker} [${span(a)}] and ${b.worker} [${span(b)}] at once`);
        }
      }
    }
  }
  for (const delivery of deliveriesOf(exchanges)) {
    for (const hold of byItem.get(delivery.workId) ?? []) {
      if (hold.worker !== delivery.worker && delivery.at >= hold.start && delivery.at < hold.end) {
        violations.push(`${delivery.workId} delivered to ${delivery.worker} at ${iso(delivery.at)} while ${hold.worker} held it [${span(hold)}]`);
      }
    }
  }
  return violations;
}

function timeOf(body: unknown, field: string): number | null {
  if (!isRecord(body) || typeof body[field] !== 'string') return null;
  const micros = parseTimestamp(body[field]);
  return micros === null ? null : micros / 1000;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function span(hold: Hold): string {
  return `${iso(hold.start)} – ${iso(hold.end)}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
