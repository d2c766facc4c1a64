/**
 * RFC 3339 timestamps with microseconds, the wire format of every time in the Work API.
 * Times are carried internally as integer microseconds since the epoch, which keeps
 * `last_heartbeat` comparisons exact (a float of milliseconds cannot hold every microsecond).
 */

/** Formats integer microseconds since the epoch as `2026-11-28T17:00:00.123456Z`. */
export function formatTimestamp(micros: number): string {
  if (!Number.isSafeInteger(micros) || micros < 0) throw new RangeError(`formatTimestamp: not a valid time: ${micros}`);
  const millis = Math.floor(micros / 1000);
  const iso = new Date(millis).toISOString(); // 2026-11-28T17:00:00.123Z
  const fraction = String(micros % 1_000_000).padStart(6, '0');
  return `${iso.slice(0, 19)}.${fraction}Z`;
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/;

/**
 * Parses an RFC 3339 UTC timestamp into integer microseconds since the epoch (digits past the
 * sixth are dropped), or returns `null` when it is not one.
 */
export function parseTimestamp(text: string): number | null {
  const match = TIMESTAMP.exec(text);
  if (!match) return null;
  const seconds = Date.parse(`${match[1]}Z`);
  if (Number.isNaN(seconds)) return null;
  const fraction = (match[2] ?? '').slice(0, 6).padEnd(6, '0');
  return seconds * 1000 + Number(fraction);
}

/** Converts a clock reading in (possibly fractional) milliseconds to integer microseconds. */
export function millisToMicros(ms: number): number {
  return Math.floor(ms * 1000);
}
