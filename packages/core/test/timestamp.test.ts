import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTimestamp, parseTimestamp } from '../src/api/timestamp.js';
import { TimestampSchema } from '../src/api/wire.js';

// The largest time a double holds to the microsecond (the year 2255).
const MAX_MICROS = Number.MAX_SAFE_INTEGER;
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

describe('timestamps', () => {
  it('formats with exactly six fraction digits in UTC', () => {
    expect(formatTimestamp(Date.parse('2026-11-28T17:00:00Z') * 1000 + 123456)).toBe('2026-11-28T17:00:00.123456Z');
    expect(formatTimestamp(0)).toBe('1970-01-01T00:00:00.000000Z');
  });

  it('round-trips every microsecond it can format, and the wire schema accepts the result', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_MICROS }), (micros) => {
        const text = formatTimestamp(micros);
        expect(TimestampSchema.safeParse(text).success).toBe(true);
        expect(parseTimestamp(text)).toBe(micros);
      }),
    );
  });

  it('orders formatted times as their microseconds, so text comparison of fencing tokens is safe', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_MICROS }), fc.integer({ min: 0, max: MAX_MICROS }), (a, b) => {
        expect(compareText(formatTimestamp(a), formatTimestamp(b))).toBe(Math.sign(a - b));
      }),
    );
  });

  it('parses other fraction lengths and rejects what is not an RFC 3339 UTC time', () => {
    expect(parseTimestamp('2026-11-28T17:00:00Z')).toBe(Date.parse('2026-11-28T17:00:00Z') * 1000);
    expect(parseTimestamp('2026-11-28T17:00:00.1Z')).toBe(Date.parse('2026-11-28T17:00:00Z') * 1000 + 100000);
    expect(parseTimestamp('2026-11-28T17:00:00.123456789Z')).toBe(Date.parse('2026-11-28T17:00:00Z') * 1000 + 123456);
    for (const bad of ['', 'NO_HEARTBEAT', '2026-11-28 17:00:00Z', '2026-11-28T17:00:00+01:00', '2026-13-28T17:00:00Z']) {
      expect(parseTimestamp(bad)).toBeNull();
    }
  });

  it('refuses to format what is not a time', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2]) {
      expect(() => formatTimestamp(bad)).toThrow(RangeError);
    }
  });
});
