/**
 * The errors of `dockerRuntime`'s option checks: every one names the option, so that a host sees
 * what to fix when it makes the runtime, not when the first work item fails.
 */

/** Throws a `TypeError` (or a `RangeError` for a value out of range) prefixed `dockerRuntime:`. */
export function optionError(message: string, kind: 'type' | 'range' = 'type'): never {
  const text = `dockerRuntime: ${message}`;
  throw kind === 'range' ? new RangeError(text) : new TypeError(text);
}
