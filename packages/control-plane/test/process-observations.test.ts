/**
 * The judgements the multi-process Redis tests make from their recording proxies' exchanges
 * (lease-holds.ts, forced-stops.ts), on exchanges written by hand: each check finds the violation
 * it names and lets the legal sequences through, so the process tests can fail.
 */
import { describe, expect, it } from 'vitest';
import { formatTimestamp, millisToMicros } from '@envworker/core';
import { itemStop } from './processes/forced-stops.js';
import { holdsOf, leaseViolations, type TtlPolicy } from './processes/lease-holds.js';
import type { Exchange } from './processes/recording-proxy.js';

const POLICY: TtlPolicy = { minTtlSeconds: 4, defaultTtlSeconds: 10 };
const T0 = Date.UTC(2026, 10, 28, 17, 0, 0);
const at = (ms: number): string => formatTimestamp(millisToMicros(T0 + ms));

/** One answered (or not) exchange; times are milliseconds after T0. */
function exchange(worker: string, op: Exchange['op'], workId: string | null, sent: number, answer: { status?: number; body?: unknown; end?: Exchange['end']; ended?: number; force?: boolean } = {}): Exchange {
  const end = answer.end ?? 'answered';
  return {
    worker,
    op,
    workId,
    force: op === 'stop' ? (answer.force ?? true) : null,
    sentAt: T0 + sent,
    endedAt: T0 + (answer.ended ?? sent + 2),
    end,
    status: end === 'answered' ? (answer.status ?? 200) : null,
    body: end === 'answered' ? (answer.body ?? null) : null,
  };
}
const delivered = (worker: string, sent: number) => exchange(worker, 'poll', null, sent, { body: { id: 'work_a', state: 'queued' } });
const acked = (worker: string, sent: number, ackAt = sent + 1) => exchange(worker, 'ack', 'work_a', sent, { body: { id: 'work_a', acknowledged_at: at(ackAt) } });
const beat = (worker: string, sent: number, ttl = 4) =>
  exchange(worker, 'heartbeat', 'work_a', sent, { body: { last_heartbeat: at(sent + 1), lease_extended: true, ttl_seconds: ttl } });
const stopped = (worker: string, sent: number, status = 200) => exchange(worker, 'stop', 'work_a', sent, { status, body: { id: 'work_a', stopped_at: at(sent + 1) } });

describe('lease holds from the proxies', () => {
  it('lets a re-delivery after the last lease end shown to the holder through', () => {
    const run = [delivered('v', 0), acked('v', 5), beat('v', 10), beat('v', 1500), delivered('w', 5502), acked('w', 5510), beat('w', 5520), stopped('w', 5600)];
    expect(holdsOf(run, POLICY)).toEqual([
      { worker: 'v', workId: 'work_a', start: T0 + 6, end: T0 + 5501 },
      { worker: 'w', workId: 'work_a', start: T0 + 5511, end: T0 + 5601 },
    ]);
    expect(leaseViolations(run, POLICY)).toEqual([]);
  });

  it('finds a delivery to another worker while the lease is live, and the two holds that overlap', () => {
    const run = [delivered('v', 0), acked('v', 5), beat('v', 10), delivered('w', 3000), acked('w', 3010), beat('w', 3020)];
    const violations = leaseViolations(run, POLICY);
    expect(violations).toHaveLength(2);
    expect(violations[0]).toMatch(/^work_a held by v .* and w .* at once$/);
    expect(violations[1]).toMatch(/^work_a delivered to w at .* while v held it/);
  });

  it('counts an ack never heartbeated as a lease of the default TTL', () => {
    const run = [delivered('v', 0), acked('v', 5), delivered('w', 9000)];
    expect(leaseViolations(run, POLICY)).toHaveLength(1);
    expect(leaseViolations([...run.slice(0, 2), delivered('w', 10_010)], POLICY)).toEqual([]);
  });

  it('ends a hold no later than an unanswered beat could have moved it (send time + minimum TTL)', () => {
    const lost = exchange('v', 'heartbeat', 'work_a', 10, { end: 'cut', ended: 12 });
    const run = [delivered('v', 0), acked('v', 5), lost, delivered('w', 4020)];
    expect(holdsOf(run, POLICY)[0]).toMatchObject({ end: T0 + 4010 });
    expect(leaseViolations(run, POLICY)).toEqual([]);
    const superseded = [delivered('v', 0), acked('v', 5), lost, beat('v', 1500), delivered('w', 4020)];
    expect(leaseViolations(superseded, POLICY)).toHaveLength(1);
  });

  it('keeps two holds of one worker apart, so another holder between them is no overlap', () => {
    const run = [delivered('v', 0), acked('v', 5), beat('v', 10), delivered('w', 4100), acked('w', 4110), beat('w', 4120), delivered('v', 8200), acked('v', 8210), beat('v', 8220)];
    expect(holdsOf(run, POLICY).filter((hold) => hold.worker === 'v')).toHaveLength(2);
    expect(leaseViolations(run, POLICY)).toEqual([]);
  });
});

describe('the stop that ended an item', () => {
  it('is the one stop {force:true} answered 200', () => {
    expect(itemStop([stopped('v', 0), stopped('v', 10, 409)], 'work_a')).toEqual({ ok: true, worker: 'v', inferred: false });
  });

  it('is a problem when two are answered 200, or none is known to have succeeded', () => {
    expect(itemStop([stopped('v', 0), stopped('w', 10)], 'work_a')).toMatchObject({ ok: false, problem: expect.stringMatching(/2 stops \{force:true\} answered 200/) });
    expect(itemStop([stopped('v', 0, 409)], 'work_a')).toMatchObject({ ok: false, problem: expect.stringMatching(/no stop/) });
    expect(itemStop([exchange('v', 'stop', 'work_a', 0, { end: 'cut' })], 'work_a')).toMatchObject({ ok: false });
    expect(itemStop([exchange('v', 'stop', 'work_a', 0, { end: 'unreached' }), stopped('v', 10, 409)], 'work_a')).toMatchObject({ ok: false });
  });

  it('is inferred when a stop was left unanswered and the same worker then met 409', () => {
    const run = [exchange('v', 'stop', 'work_a', 0, { end: 'cut', ended: 3 }), exchange('v', 'stop', 'work_a', 2000, { end: 'unreached' }), stopped('v', 3000, 409)];
    expect(itemStop(run, 'work_a')).toEqual({ ok: true, worker: 'v', inferred: true });
  });

  it('ignores stops without force', () => {
    expect(itemStop([stopped('v', 0), exchange('w', 'stop', 'work_a', 5, { force: false })], 'work_a')).toEqual({ ok: true, worker: 'v', inferred: false });
  });
});
