/**
 * The errors the CLI reports as one line on standard error, with the exit status they carry.
 * Anything else that escapes a command is a bug, reported as one line too (with its stack at
 * `--log-level debug`) and exit status 1.
 */

/** Exit status of a command line, configuration or credential the user must fix, or of an unreachable control plane. */
export const EXIT_USAGE = 2;
/** Exit status of a command that ran and failed (a worker that could not go on, an API error). */
export const EXIT_FAILURE = 1;

/** An error whose message names what to fix; printed as one line, exit status {@link EXIT_USAGE} by default. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT_USAGE) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Folds a message onto one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
