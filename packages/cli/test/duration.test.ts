/**
 * The one duration syntax: property tests of its round trips and of what it rejects, and the
 * `<min>-<max>` range built on it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DurationError, formatDuration, MAX_DURATION_MS, parseDuration, parseDurationRange } from '../src/config/duration.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const unit = fc.constantFrom(...(Object.keys(UNIT_MS) as (keyof typeof UNIT_MS)[]));

describe('parseDuration', () => {
  it('reads the examples of the help', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('0s')).toBe(0);
  });

  it('reads <n><unit> as n times the unit, for every n in range', () => {
    fc.assert(
      fc.property(unit, fc.nat(), (name, seed) => {
        const n = seed % (Math.floor(MAX_DURATION_MS / UNIT_MS[name]) + 1);
        expect(parseDuration(`${n}${name}`)).toBe(n * UNIT_MS[name]);
      }),
    );
  });

  it('round-trips: formatDuration writes what parseDuration reads back', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_DURATION_MS }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });

  it('formats in the largest unit that divides exactly', () => {
    fc.assert(
      fc.property(unit, fc.integer({ min: 1, max: 500 }), (name, n) => {
        const text = formatDuration(n * UNIT_MS[name]);
        const reparsed = /^(\d+)(ms|s|m|h)$/.exec(text);
        expect(reparsed).not.toBeNull();
        const [, digits, found] = reparsed as RegExpExecArray;
        // No larger unit divides it: the number is not a multiple of the next unit's factor.
        const larger = Object.entries(UNIT_MS).find(([, factor]) => factor > UNIT_MS[found as keyof typeof UNIT_MS]);
        if (larger !== undefined) expect((Number(digits) * UNIT_MS[found as keyof typeof UNIT_MS]) % larger[1]).not.toBe(0);
      }),
    );
  });

  it('rejects a number without a unit (but 0), a sign, a fraction, spaces and unknown units', () => {
    const rejected = fc.oneof(
      fc.integer({ min: 1, max: 1_000_000 }).map(String),
      fc.tuple(fc.constantFrom('-', '+'), fc.nat(1000), unit).map(([sign, n, name]) => `${sign}${n}${name}`),
      fc.tuple(fc.nat(1000), fc.integer({ min: 1, max: 9 }), unit).map(([n, tenth, name]) => `${n}.${tenth}${name}`),
      fc.tuple(fc.nat(1000), unit, fc.constantFrom(' ', '\t')).map(([n, name, space]) => `${n}${space}${name}`),
      fc.tuple(fc.nat(1000), unit).map(([n, name]) => ` ${n}${name}`),
      fc.tuple(fc.nat(1000), fc.constantFrom('d', 'us', 'sec', 'min', 'S', 'MS', 'H', 'w', 'y')).map(([n, name]) => `${n}${name}`),
      fc.constantFrom('', 'ms', 's', 'abc', '1s1', '1m30s', '0x10s', '1e3ms', 'Infinity', 'NaN'),
    );
    fc.assert(
      fc.property(rejected, (text) => {
        expect(() => parseDuration(text)).toThrow(DurationError);
      }),
    );
  });

  it('rejects more than the longest timer, and names the limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_DURATION_MS + 1, max: Number.MAX_SAFE_INTEGER }), (ms) => {
        expect(() => parseDuration(`${ms}ms`)).toThrow(/too long: at most/);
      }),
    );
    expect(() => parseDuration('99999999999999999999999h')).toThrow(DurationError);
  });

  it('says how to write one, quoting the text', () => {
    expect(() => parseDuration('10')).toThrow('"10" is not a duration: it needs a unit (ms, s, m or h), e.g. 500ms, 10s, 2m');
    expect(() => parseDuration('1.5s')).toThrow('use a whole number of a smaller unit');
  });
});

describe('parseDurationRange', () => {
  it('reads <min>-<max> with min <= max', () => {
    expect(parseDurationRange('0-0')).toEqual([0, 0]);
    expect(parseDurationRange('1s-3s')).toEqual([1000, 3000]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600_000 }), fc.integer({ min: 0, max: 600_000 }), (a, b) => {
        const [min, max] = [Math.min(a, b), Math.max(a, b)];
        expect(parseDurationRange(`${formatDuration(min)}-${formatDuration(max)}`)).toEqual([min, max]);
      }),
    );
  });

  it('rejects a minimum above the maximum, a missing part, and a bad part', () => {
    expect(() => parseDurationRange('3s-1s')).toThrow('the minimum is greater than the maximum');
    for (const text of ['1s', '1s-', '-1s', '1s-2s-3s', '1-2s', 'a-b']) expect(() => parseDurationRange(text)).toThrow(DurationError);
  });
});
