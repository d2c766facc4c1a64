/**
 * The commands that move the store's clock: by an amount, or to a held lease's end. The model
 * applies the lease ends on the way; the store must show them at its next answer.
 */
import { formatTimestamp, millisToMicros } from '@envworker/core';
import type { ReferenceModel } from './reference-model.js';
import { checkEnvironment } from './store-checks.js';
import { StoreCommand, label, type StoreUnderTest } from './store-command.js';

/** Moves the store's clock and the model's time together, and records which leases ended. */
function moveClock(m: ReferenceModel, r: StoreUnderTest, targetMs: number): string {
  if (r.clock.now() !== m.nowMs) throw new Error(`store model: the clock (${r.clock.now()}) and the model (${m.nowMs}) disagree`);
  const states = new Map(m.items().map((item) => [item, item.state]));
  r.clock.advanceTo(targetMs);
  const ended = m.advanceTo(targetMs);
  const lines: string[] = [];
  for (const item of [...ended.requeued, ...ended.stopped]) {
    const before = states.get(item);
    r.coverage.hit(`lease end: ${before} → ${item.state}`);
    if (item.state === 'queued') r.coverage.hit('token revoked by re-queue');
    lines.push(`${label(m, item)} ${before} → ${item.state}`);
  }
  return lines.length === 0 ? '' : ` (leases ended: ${lines.join(', ')})`;
}

export class AdvanceCommand extends StoreCommand {
  constructor(
    readonly ms: number,
    observe: boolean,
  ) {
    super();
    this.observe = observe;
  }

  check(): boolean {
    return true;
  }

  protected async exec(m: ReferenceModel, r: StoreUnderTest): Promise<void> {
    const ended = moveClock(m, r, m.nowMs + this.ms);
    r.trace.push(`${this.toString()}${ended}`);
  }

  toString(): string {
    return `advance(${this.ms} ms${this.observe ? '' : ', unobserved'})`;
  }
}

/** A clock reading (ms, maybe fractional) that turns into exactly `us` microseconds. */
function millisReadingAs(us: number): number {
  for (const offset of [0, 0.5, 0.25, 0.75]) {
    const ms = (us + offset) / 1000;
    if (millisToMicros(ms) === us) return ms;
  }
  throw new Error(`store model: no clock reading turns into ${us} µs`);
}

/**
 * Moves the clock to just before (the last whole millisecond before), exactly to, or 1 ms after the
 * end of a held lease. "Exactly" is a fractional millisecond when the lease's base stamp was pushed
 * a few microseconds: the environment is compared there, and the clock then goes on to the next
 * whole millisecond, where every other command runs.
 */
export class AdvanceToLeaseEndCommand extends StoreCommand {
  constructor(
    readonly pick: number,
    readonly offsetMs: -1 | 0 | 1,
    observe: boolean,
  ) {
    super();
    this.observe = observe;
  }

  check(): boolean {
    return true;
  }

  protected async exec(m: ReferenceModel, r: StoreUnderTest): Promise<void> {
    const leased = m.items().filter((item) => item.lease !== null);
    const item = leased[this.pick % Math.max(leased.length, 1)];
    const end = item === undefined ? null : m.leaseEnd(item);
    const targetMs = end === null ? m.nowMs : this.offsetMs === 0 ? millisReadingAs(end) : Math.ceil(end / 1000) + this.offsetMs;
    if (item === undefined || end === null || targetMs <= m.nowMs) {
      r.trace.push(`${this.toString()}: no lease ahead, clock unchanged`);
      return;
    }
    const ended = moveClock(m, r, targetMs);
    r.trace.push(`${this.toString()}: to ${formatTimestamp(millisToMicros(targetMs))}, lease of ${label(m, item)} ends ${formatTimestamp(end)}${ended}`);
    if (this.offsetMs === -1) r.coverage.hit('lease end: clock just before the end');
    if (this.offsetMs === 0) {
      r.coverage.hit('lease end: clock exactly at the end');
      await checkEnvironment(m, r.store, r.environment, `exactly at the end of the lease of ${label(m, item)}`);
      const whole = Math.ceil(targetMs);
      if (whole > targetMs) r.trace.push(`  then to the next whole millisecond${moveClock(m, r, whole)}`);
    }
  }

  toString(): string {
    return `advance to lease end(pick ${this.pick}, ${this.offsetMs >= 0 ? '+' : ''}${this.offsetMs} ms${this.observe ? '' : ', unobserved'})`;
  }
}
