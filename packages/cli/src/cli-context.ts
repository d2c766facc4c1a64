/**
 * What a command reads and writes besides its arguments. `bin.ts` passes the process's own; tests
 * pass their own streams and variables to run a command in-process.
 */

/** A stream a command writes to; `isTTY` and `columns` decide whether the live view is drawn. */
export interface OutputStream extends NodeJS.WritableStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Where the shutdown signals come from: `process`, or any emitter of `SIGTERM` and `SIGINT`. */
export interface SignalSource {
  on(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  off(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
}

/** The surroundings of one CLI run. */
export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative paths in flags, variables and the config file are resolved against it. */
  readonly cwd: string;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly signals: SignalSource;
  /** Ends the process at once with this status (the third signal): nothing else runs after it. */
  readonly exitNow: (code: number) => void;
}

/** The context of the process itself. */
export function processContext(): CliContext {
  return {
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    signals: process,
    exitNow: (code) => process.exit(code),
  };
}
