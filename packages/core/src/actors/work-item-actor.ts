/**
 * Running one work-item actor so that no sandbox outlives it. An actor stopped from outside
 * cancels its invoked steps but runs no exit actions, and a start cancelled with the actor may
 * still hand over a sandbox that the actor never sees. So the start step reports every start to
 * this owner (`deps.track`), and once the actor has ended, however it ended, the owner waits for
 * those starts and kills every sandbox they yielded that still runs.
 */
import { createActor, type Actor } from 'xstate';
import type { Sandbox } from '../runtime/sandbox-runtime.js';
import type { Clock } from '../time/clock.js';
import type { WorkItemDeps, WorkItemEmitted, WorkItemInput, WorkItemMachine, WorkItemOutput } from './work-item-machine.js';
import type { WorkItemPhase } from './work-item-reactions.js';

/** What {@link startWorkItem} needs: the machine's input, less the `track` hook it provides itself. */
export interface StartWorkItemOptions {
  readonly input: Omit<WorkItemInput, 'deps'> & { readonly deps: Omit<WorkItemDeps, 'track'> };
  /** The clock of the actor's `after` timers. */
  readonly clock: Clock;
  /** Called with every event the actor emits, from its very start. */
  readonly onEmitted?: (event: WorkItemEmitted) => void;
  /** Called with the phase after every step that changed it, from its very start. */
  readonly onPhase?: (phase: WorkItemPhase) => void;
}

/** A running work-item actor. */
export interface WorkItemHandle {
  readonly actor: Actor<WorkItemMachine>;
  /**
   * Resolves once the actor has ended and every sandbox it started has exited (killed first if
   * it still ran): with the machine's output, or `null` when the actor was stopped from outside
   * or failed. Never rejects.
   */
  readonly settled: Promise<WorkItemOutput | null>;
}

/** Creates and starts a work-item actor of `machine`. */
export function startWorkItem(machine: WorkItemMachine, options: StartWorkItemOptions): WorkItemHandle {
  const starts: Array<Promise<Sandbox>> = [];
  const exited = new WeakSet<Sandbox>();
  const track = (starting: Promise<Sandbox>): void => {
    starts.push(starting);
    starting.then(
      (sandbox) => sandbox.exit.then(() => exited.add(sandbox)),
      () => undefined,
    );
  };
  const actor = createActor(machine, {
    input: { ...options.input, deps: { ...options.input.deps, track } },
    clock: options.clock,
  });
  const { onEmitted, onPhase } = options;
  if (onEmitted !== undefined) actor.on('*', onEmitted);
  let phase: WorkItemPhase | null = null;
  const ended = new Promise<WorkItemOutput | null>((resolve) => {
    actor.subscribe({
      next: (snapshot) => {
        if (snapshot.context.phase === phase) return;
        phase = snapshot.context.phase;
        onPhase?.(phase);
      },
      complete: () => {
        const snapshot = actor.getSnapshot();
        resolve(snapshot.status === 'done' ? snapshot.output : null);
      },
      error: () => resolve(null),
    });
  });
  const settled = ended.then(async (output) => {
    // `kill` after the exit is harmless, so an exit that happened but is not yet seen here is fine too.
    const killUnlessExited = async (sandbox: Sandbox): Promise<void> => {
      if (!exited.has(sandbox)) await sandbox.kill().catch(() => undefined);
    };
    await Promise.all(starts.map((starting) => starting.then(killUnlessExited, () => undefined)));
    return output;
  });
  actor.start();
  return { actor, settled };
}
