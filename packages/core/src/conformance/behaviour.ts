/**
 * The behaviours of a conformance sandbox. The suite is generic, so what a sandbox should do is
 * carried in its work item: `metadata.conformance` names the behaviour, and every adapter's
 * conformance program (a function, a script, an image) obeys it the same way.
 *
 * - `exit:<code>`: exit at once with that code.
 * - `trap:<code>`: print the ready line, wait for the polite signal, then exit cleanly with that code.
 * - `ignore`: print the ready line, ignore the polite signal, run until killed.
 * - `sleep`: print the ready line, run until stopped (the polite signal's default effect ends it).
 * - `echo`: print one line `CONFORMANCE <json>` (a {@link ConformanceEcho}), then exit 0.
 */
import { ON_WORK_VARIABLES } from '../runtime/on-work-environment.js';

/** The parsed `metadata.conformance` of a work item. */
export type ConformanceBehaviour =
  | { readonly kind: 'exit'; readonly code: number }
  | { readonly kind: 'trap'; readonly code: number }
  | { readonly kind: 'ignore' }
  | { readonly kind: 'sleep' }
  | { readonly kind: 'echo' };

/** Printed on stdout by `trap`, `ignore` and `sleep` once the program's signal handling is in place. */
export const CONFORMANCE_READY_LINE = 'CONFORMANCE-READY';

/** The prefix of the `echo` line; the JSON of a {@link ConformanceEcho} follows it. */
export const CONFORMANCE_ECHO_PREFIX = 'CONFORMANCE ';

/**
 * A host variable the suite sets in its own process while it runs. A sandbox that can see it was
 * given the host's environment, which the contract forbids.
 */
export const CONFORMANCE_CANARY_VARIABLE = 'ENVWORKER_CONFORMANCE_CANARY';

/** What an `echo` sandbox reports about what it was given. */
export interface ConformanceEcho {
  /** The `--on-work` variables it sees, with their values. */
  readonly env: Record<string, string>;
  /** Names (never values) of any other `ANTHROPIC_*` variables it sees: a host credential would show here. */
  readonly otherAnthropicVariables: string[];
  /** Whether it sees {@link CONFORMANCE_CANARY_VARIABLE}. */
  readonly canaryVisible: boolean;
  /** Everything it read from standard input. */
  readonly stdin: string;
}

const EXIT_CODE = /^(exit|trap):(0|[1-9]\d{0,2})$/;

/**
 * Parses `metadata.conformance`. Throws an error naming the field when the value is not one of
 * the behaviours.
 */
export function parseConformanceBehaviour(value: unknown): ConformanceBehaviour {
  if (value === 'ignore' || value === 'sleep' || value === 'echo') return { kind: value };
  const match = typeof value === 'string' ? EXIT_CODE.exec(value) : null;
  const code = Number(match?.[2]);
  if (match === null || code > 255) {
    throw new TypeError(
      `metadata.conformance must be one of exit:<0-255>, trap:<0-255>, ignore, sleep, echo; got ${JSON.stringify(value)}`,
    );
  }
  return { kind: match[1] === 'exit' ? 'exit' : 'trap', code };
}

/**
 * Builds the `echo` line from the variables a sandbox sees (a process's `process.env`, or the
 * function runtime's `ctx.env`) and what it read from standard input.
 */
export function conformanceEchoLine(env: object, stdin: string): string {
  const seen = new Map(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  const onWork = new Set<string>(ON_WORK_VARIABLES);
  const echo: ConformanceEcho = {
    env: Object.fromEntries([...seen].filter(([name]) => onWork.has(name))),
    otherAnthropicVariables: [...seen.keys()].filter((name) => name.startsWith('ANTHROPIC_') && !onWork.has(name)).sort(),
    canaryVisible: seen.has(CONFORMANCE_CANARY_VARIABLE),
    stdin,
  };
  return `${CONFORMANCE_ECHO_PREFIX}${JSON.stringify(echo)}`;
}

/** Reads an `echo` line back; `null` when the line is not one. */
export function parseConformanceEchoLine(line: string): ConformanceEcho | null {
  if (!line.startsWith(`${CONFORMANCE_ECHO_PREFIX}{`)) return null;
  return JSON.parse(line.slice(CONFORMANCE_ECHO_PREFIX.length)) as ConformanceEcho;
}
