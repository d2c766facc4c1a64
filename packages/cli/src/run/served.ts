/**
 * What `envworker run` serves while it holds the item's lease: a command (`run -- <command…>`)
 * or, with no command, the item's agent session itself. The lease logic treats both the same:
 * ask politely, kill after the grace, and act on how it ended.
 */
export interface Served {
  /** Asks it to end: the signal for a command; for a session, the tool call in flight is cancelled and answered. */
  stop(signal: NodeJS.Signals): void;
  /** Ends it at once. */
  kill(): void;
  /** Resolves once with the exit status `run` exits with; never rejects. */
  readonly ended: Promise<number>;
}
