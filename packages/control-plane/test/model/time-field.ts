/**
 * What the reference model knows about one timestamp of a work item.
 *
 * The contract fixes when a timestamp is set and what it may not be earlier or later than, but
 * not its exact microsecond: a store stamps `now` and may push a stamp a few microseconds later
 * to keep stamps strictly increasing. So a fresh stamp is a range; the first time the store shows
 * it, the model pins it to the value shown, and from then on it must never change unless the
 * contract changes it.
 */
import { formatTimestamp, parseTimestamp } from '@envworker/core';
import { ModelMismatch } from './model-mismatch.js';

/**
 * How far past `now` a stamp may lie. A store that makes stamps strictly increasing pushes a stamp
 * by 1 µs per earlier stamp within the same clock reading; a run makes far fewer than 1000 stamps.
 */
export const STAMP_SLACK_US = 999;

export type TimeField =
  | { readonly kind: 'null' }
  | { readonly kind: 'exact'; readonly us: number }
  | {
      readonly kind: 'range';
      readonly lo: number;
      /** `null`: no later than the clock reading at which the store first shows it (plus slack). */
      readonly hi: number | null;
      /** Set where the contract leaves open whether the stamp is set at all. */
      readonly nullable: boolean;
    };

export const NULL_TIME: TimeField = { kind: 'null' };

/** A stamp taken at `nowUs`. */
export function stampedAt(nowUs: number, notBefore = nowUs): TimeField {
  const lo = Math.max(nowUs, notBefore);
  return { kind: 'range', lo, hi: Math.max(nowUs, lo) + STAMP_SLACK_US, nullable: false };
}

/** A stamp taken no earlier than `lo`, at the latest when the store is next asked about the item. */
export function stampedSince(lo: number): TimeField {
  return { kind: 'range', lo, hi: null, nullable: false };
}

/** A stamp the contract leaves optional: either `null` throughout, or a stamp taken at `nowUs`. */
export function maybeStampedAt(nowUs: number): TimeField {
  return { kind: 'range', lo: nowUs, hi: nowUs + STAMP_SLACK_US, nullable: true };
}

/** The value of a pinned stamp; throws when the model has not pinned it (a bug of the test). */
export function pinnedMicros(field: TimeField, what: string): number {
  if (field.kind !== 'exact') throw new Error(`reference model: ${what} is not pinned yet (${describeTime(field)})`);
  return field.us;
}

/**
 * Checks the store's `observed` value against what the model knows and returns the field pinned
 * to it. `nowUs` is the clock reading at the observation.
 */
export function pinTime(field: TimeField, observed: string | null, nowUs: number, what: string): TimeField {
  if (observed === null) {
    if (field.kind === 'null' || (field.kind === 'range' && field.nullable)) return NULL_TIME;
    throw new ModelMismatch(`${what} is null, expected ${describeTime(field)}`);
  }
  const us = parseTimestamp(observed);
  if (us === null || formatTimestamp(us) !== observed) {
    throw new ModelMismatch(`${what} is ${JSON.stringify(observed)}, not an RFC 3339 timestamp with microseconds`);
  }
  switch (field.kind) {
    case 'null':
      throw new ModelMismatch(`${what} is ${observed}, expected null`);
    case 'exact':
      if (us !== field.us) throw new ModelMismatch(`${what} changed: ${observed}, expected ${formatTimestamp(field.us)}`);
      return field;
    case 'range': {
      const hi = field.hi ?? nowUs + STAMP_SLACK_US;
      if (us < field.lo || us > hi) {
        throw new ModelMismatch(`${what} is ${observed}, expected a stamp in [${formatTimestamp(field.lo)}, ${formatTimestamp(hi)}]`);
      }
      return { kind: 'exact', us };
    }
  }
}

export function describeTime(field: TimeField): string {
  switch (field.kind) {
    case 'null':
      return 'null';
    case 'exact':
      return formatTimestamp(field.us);
    case 'range':
      return `${field.nullable ? 'null or ' : ''}a stamp in [${formatTimestamp(field.lo)}, ${field.hi === null ? 'first observation' : formatTimestamp(field.hi)}]`;
  }
}
