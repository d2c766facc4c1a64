/**
 * Checks of caller input (client options and call parameters). Each failure names the field and
 * says what was expected; none repeats the value, because some of these fields are credentials.
 */

/** A string that can travel as an HTTP header value: visible ASCII, no spaces or control characters. */
const HEADER_TOKEN = /^[\x21-\x7e]+$/;

export function requireString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${name} must be a non-empty string`);
  return value;
}

/** A credential or id that is sent in a header: a non-empty string of visible ASCII characters. */
export function requireHeaderToken(value: unknown, name: string): string {
  if (typeof value !== 'string' || !HEADER_TOKEN.test(value)) {
    throw new TypeError(`${name} must be a non-empty string of visible ASCII characters (no spaces)`);
  }
  return value;
}

export function requireInteger(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw new RangeError(`${name} must be an integer ${range}`);
  }
  return value;
}

export function requireBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean`);
  return value;
}

export function requireFunction<T>(value: T, name: string): T {
  if (typeof value !== 'function') throw new TypeError(`${name} must be a function`);
  return value;
}

export function requirePlainObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${name} must be an object`);
  return value as Record<string, unknown>;
}
