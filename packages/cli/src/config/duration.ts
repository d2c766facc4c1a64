/**
 * The one duration syntax of the CLI: a whole number and a unit (`500ms`, `10s`, `2m`, `1h`), or
 * a bare `0`. Every duration flag, variable and config-file value goes through here.
 */

/** Milliseconds per unit, longest first (the order {@link formatDuration} tries them in). */
const UNITS = [
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;

/** The longest duration accepted: the longest delay a Node timer can hold (about 24.8 days). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const SYNTAX = /^(\d+)(ms|s|m|h)$/;

/** A text that is not a duration; the message says what is wrong and how to write one. */
export class DurationError extends Error {}

/**
 * Parses a duration into milliseconds. Throws a {@link DurationError} for anything else: no unit
 * (except `0`), an unknown unit, a sign, a fraction, spaces, or more than {@link MAX_DURATION_MS}.
 */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  const match = SYNTAX.exec(text);
  if (match === null) {
    const hint = /^\d+$/.test(text)
      ? 'it needs a unit'
      : /^\d+\.\d+/.test(text)
        ? 'use a whole number of a smaller unit'
        : 'expected a whole number and a unit';
    throw new DurationError(`${JSON.stringify(text)} is not a duration: ${hint} (ms, s, m or h), e.g. 500ms, 10s, 2m`);
  }
  const [, digits = '', unit = ''] = match;
  const factor = UNITS.find(([name]) => name === unit)?.[1] ?? 1;
  const ms = Number(digits) * factor;
  if (!(ms <= MAX_DURATION_MS)) throw new DurationError(`${JSON.stringify(text)} is too long: at most ${formatDuration(MAX_DURATION_MS)}`);
  return ms;
}

/** Writes milliseconds in the largest unit that divides them exactly: `90000` → `90s`, `0` → `0`. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError('formatDuration: ms must be a whole number >= 0');
  if (ms === 0) return '0';
  for (const [unit, factor] of UNITS) {
    if (ms % factor === 0) return `${ms / factor}${unit}`;
  }
  return `${ms}ms`;
}

/** A `<min>-<max>` range of durations; throws a {@link DurationError} unless both parse and min ≤ max. */
export function parseDurationRange(text: string): readonly [number, number] {
  const parts = text.split('-');
  if (parts.length !== 2) throw new DurationError(`${JSON.stringify(text)} is not a range: expected <min>-<max>, e.g. 1s-3s or 0-0`);
  const min = parseDuration(parts[0] as string);
  const max = parseDuration(parts[1] as string);
  if (min > max) throw new DurationError(`${JSON.stringify(text)}: the minimum is greater than the maximum`);
  return [min, max];
}
