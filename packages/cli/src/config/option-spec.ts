/**
 * How an option of a command is described once and then used three ways: as a flag (commander),
 * as an environment variable, and as a key of a config file. Each value parser takes what any of
 * the three can hold (a string from a flag or a variable; a string, number, boolean or list from
 * a file) and throws a {@link ValueError} saying what is wrong, never repeating a secret.
 */
import { resolve } from 'node:path';
import { DurationError, formatDuration, parseDuration, parseDurationRange } from './duration.js';

/** A value that does not fit its option; the resolver prefixes the flag's name and where the value came from. */
export class ValueError extends Error {}

/** One option of a command. */
export interface OptionSpec<T = unknown> {
  /** The flag's name without `--`, which is also its config-file key: `lease-ttl`. */
  readonly key: string;
  /**
   * `value` takes an argument (`--lease-ttl 10s`); `switch` is a boolean flag, `--<key>` when it
   * defaults to false and `--no-<key>` when it defaults to true; `operands` is the command line
   * after `--`, which has no flag of its own.
   */
  readonly kind: 'value' | 'switch' | 'operands';
  /** The placeholder in the help: `<duration>`. */
  readonly placeholder?: string;
  readonly description: string;
  /** The environment variable that may set it. */
  readonly env?: string;
  /** Whether the config file may set it (every option but `--config` itself). */
  readonly inFile?: boolean;
  /** A credential: its value never appears in a message. */
  readonly secret?: boolean;
  readonly parse: (raw: unknown) => T;
  /** Its value when nothing sets it; omitted: unset. */
  readonly defaultValue?: T;
  /** The default as the help shows it, when it is not simply the value. */
  readonly defaultText?: string;
}

function describe(raw: unknown): string {
  return typeof raw === 'string' ? JSON.stringify(raw) : Array.isArray(raw) ? 'a list' : raw === null ? 'null' : String(raw);
}

/** A non-empty string. */
export function text(raw: unknown): string {
  if (typeof raw !== 'string' || raw.length === 0) throw new ValueError('must be a non-empty string');
  return raw;
}

/** One of `values`. */
export function oneOf<const V extends string>(values: readonly V[]): (raw: unknown) => V {
  return (raw) => {
    if (typeof raw !== 'string' || !(values as readonly string[]).includes(raw)) {
      throw new ValueError(`must be one of ${values.join(', ')}, got ${describe(raw)}`);
    }
    return raw as V;
  };
}

/** A whole number in `[min, max]`, written in digits or, in a file, as a number. */
export function integer(min: number, max: number): (raw: unknown) => number {
  return (raw) => {
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new ValueError(`must be a whole number from ${min} to ${max}, got ${describe(raw)}`);
    }
    return value;
  };
}

/** A duration in milliseconds within `[minMs, maxMs]`; `wholeSeconds` also requires a multiple of 1s. */
export function duration(minMs: number, maxMs: number, wholeSeconds = false): (raw: unknown) => number {
  return (raw) => {
    const ms = asDuration(raw, parseDuration);
    if (ms < minMs || ms > maxMs) throw new ValueError(`must be from ${formatDuration(minMs)} to ${formatDuration(maxMs)}, got ${describe(raw)}`);
    if (wholeSeconds && ms % 1000 !== 0) throw new ValueError(`must be a whole number of seconds, got ${describe(raw)}`);
    return ms;
  };
}

/** A `<min>-<max>` range of durations, each at most `maxMs`. */
export function durationRange(maxMs: number): (raw: unknown) => readonly [number, number] {
  return (raw) => {
    const range = asDuration(raw, parseDurationRange);
    if (range[1] > maxMs) throw new ValueError(`must not exceed ${formatDuration(maxMs)}, got ${describe(raw)}`);
    return range;
  };
}

function asDuration<T>(raw: unknown, parse: (text: string) => T): T {
  // A file may say `0` as a number; any other number lacks its unit.
  const textValue = raw === 0 ? '0' : raw;
  if (typeof textValue !== 'string') throw new ValueError(`must be a duration with a unit, e.g. "10s", got ${describe(raw)}`);
  try {
    return parse(textValue);
  } catch (error) {
    if (error instanceof DurationError) throw new ValueError(error.message);
    throw error;
  }
}

/** An absolute `http:` or `https:` URL without credentials, query or fragment; a trailing `/` is dropped. */
export function httpUrl(raw: unknown): string {
  const url = typeof raw === 'string' && URL.canParse(raw) ? new URL(raw) : null;
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ValueError(`must be an http:// or https:// URL, got ${describe(raw)}`);
  }
  if (url.username !== '' || url.password !== '') throw new ValueError('must not carry a user name or password');
  if (url.search !== '' || url.hash !== '') throw new ValueError('must not have a query or fragment');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** Visible ASCII without spaces (it goes into an HTTP header); the message never repeats the value. */
export function headerToken(what: string): (raw: unknown) => string {
  return (raw) => {
    if (typeof raw !== 'string' || !/^[\x21-\x7e]+$/.test(raw)) throw new ValueError(`must be ${what}: visible ASCII characters without spaces`);
    return raw;
  };
}

/** An environment id: `env_` and letters or digits. */
export function environmentId(raw: unknown): string {
  if (typeof raw !== 'string' || !/^env_[0-9A-Za-z]+$/.test(raw)) throw new ValueError(`must be an environment id (env_…), got ${describe(raw)}`);
  return raw;
}

/** A list of variable names: comma-separated in a flag or variable, a list in a file. */
export const variableNames = wordList(/^[A-Za-z_][A-Za-z0-9_]*$/, 'variable name');

/** A command line: a non-empty list of strings (the operands after `--`, or a list in a file). */
export function commandLine(raw: unknown): readonly string[] {
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((part) => typeof part === 'string')) {
    throw new ValueError('must be a non-empty list of strings: the program and its arguments');
  }
  if (raw[0] === '') throw new ValueError('must start with a program name');
  return raw as string[];
}

/** `true`/`false` (also `1`/`0`, `yes`/`no` in a variable). */
export function boolean(raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') {
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
  }
  throw new ValueError(`must be true or false, got ${describe(raw)}`);
}

/** A path, made absolute against `cwd` when relative. */
export function path(cwd: string): (raw: unknown) => string {
  return (raw) => {
    return resolve(cwd, text(raw));
  };
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** A size in bytes: digits with an optional binary unit `k`, `m` or `g` (`512m`), as Docker writes them. */
export function byteSize(min: number): (raw: unknown) => number {
  return (raw) => {
    const match = typeof raw === 'number' ? ['', String(raw), ''] : typeof raw === 'string' ? /^(\d+)([bkmg]?)$/i.exec(raw) : null;
    const bytes = match === null ? Number.NaN : Number(match[1]) * (SIZE_UNITS[(match[2] ?? '').toLowerCase()] ?? Number.NaN);
    if (!Number.isSafeInteger(bytes)) throw new ValueError(`must be a size such as 512m or 2g, got ${describe(raw)}`);
    if (bytes < min) throw new ValueError(`must be at least ${min} bytes, got ${describe(raw)}`);
    return bytes;
  };
}

/** A decimal number in `[min, max]` (`0.5`). */
export function decimal(min: number, max: number): (raw: unknown) => number {
  return (raw) => {
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isFinite(value) || value < min || value > max) throw new ValueError(`must be a number from ${min} to ${max}, got ${describe(raw)}`);
    return value;
  };
}

/** A list of words: comma-separated in a flag or variable, a list in a file; each checked by `pattern`. */
export function wordList(pattern: RegExp, what: string): (raw: unknown) => readonly string[] {
  return (raw) => {
    const words = typeof raw === 'string' ? raw.split(',').map((word) => word.trim()).filter((word) => word !== '') : raw;
    if (!Array.isArray(words)) throw new ValueError(`must be ${what}s separated by commas, got ${describe(raw)}`);
    for (const word of words) {
      if (typeof word !== 'string' || !pattern.test(word)) throw new ValueError(`${describe(word)} is not a ${what}`);
    }
    return words as string[];
  };
}
