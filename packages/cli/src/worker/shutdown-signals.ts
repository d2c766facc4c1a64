/**
 * The three-signal shutdown of `poll`: SIGTERM and SIGINT count together. The first drains, the
 * second stops every item, the third exits at once.
 */
import { constants } from 'node:os';
import type { SignalSource } from '../cli-context.js';

/** What each signal does. */
export interface ShutdownSteps {
  /** First signal: claim nothing new, let running items finish up to the shutdown grace, then stop them. */
  drain(signal: NodeJS.Signals): void;
  /** Second signal: stop every sandbox with its grace and stop the items. */
  stop(signal: NodeJS.Signals): void;
  /** Third signal: exit at once. */
  exit(signal: NodeJS.Signals): void;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** Listens for the shutdown signals; returns the function that stops listening. */
export function onShutdownSignals(signals: SignalSource, steps: ShutdownSteps): () => void {
  let received = 0;
  const listeners = SIGNALS.map((signal) => {
    const listener = (): void => {
      received += 1;
      if (received === 1) steps.drain(signal);
      else if (received === 2) steps.stop(signal);
      else steps.exit(signal);
    };
    signals.on(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of listeners) signals.off(signal, listener);
  };
}

/** The exit status of a process ended by `signal`, as shells report it: 128 + its number. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}
