/**
 * Why a work item ended, as one pure rule: which outcome an item gets from the cause that ended
 * it and the outcome it may already have. The work-item machine asks it at every end cause, and
 * the property tests drive it directly.
 */
import type { SandboxExit } from '../runtime/sandbox-runtime.js';

/** Every outcome a work item can end with. */
export const WORK_ITEM_OUTCOMES = [
  'completed',
  'failed',
  'stopped_by_control_plane',
  'lease_lost',
  'shutdown',
  'start_failed',
  'ack_refused',
  'healthcheck',
] as const;

/**
 * Why a work item ended:
 * - `completed`: its sandbox exited by itself with code 0;
 * - `failed`: its sandbox ended by itself any other way (non-zero code, a signal, an adapter limit),
 *   or its runtime could not say how it ended;
 * - `stopped_by_control_plane`: the control plane asked for a stop, or reported the item stopped;
 * - `lease_lost`: the lease was lost (412, stale, fatal error); the item was left to the server;
 * - `shutdown`: the worker shut down while it held the item (or before it acked it);
 * - `start_failed`: the sandbox could not be started;
 * - `ack_refused`: the ack failed for good (409, a fatal error, or the reclaim window ran out);
 * - `healthcheck`: a healthcheck item, answered by probing the control plane.
 */
export type WorkItemOutcome = (typeof WORK_ITEM_OUTCOMES)[number];

/** What ended (or is ending) a work item. */
export type EndCause =
  | { readonly kind: 'exited'; readonly exit: SandboxExit }
  /** The runtime failed to report how the sandbox ended. */
  | { readonly kind: 'sandbox_fault' }
  | { readonly kind: 'stop_requested' }
  | { readonly kind: 'lease_stopped' }
  | { readonly kind: 'lease_lost' }
  | { readonly kind: 'shutdown' }
  | { readonly kind: 'start_failed' }
  | { readonly kind: 'ack_refused' }
  | { readonly kind: 'healthcheck' };

/** The outcome of a sandbox that ended by itself: `completed` only for a clean exit with code 0. */
export function exitOutcome(exit: SandboxExit): 'completed' | 'failed' {
  return exit.reason === 'exited' && exit.code === 0 ? 'completed' : 'failed';
}

/**
 * The outcome after `cause`, given the outcome already decided (`null` if none).
 *
 * The first cause decides, because it is what the worker acted on (a sandbox stopped for a stop
 * request stays `stopped_by_control_plane` whatever its exit code), with one exception: a lost
 * lease always wins, since the worker then gave the item up without releasing it, and whoever
 * reads the outcome must know that the item may run again elsewhere.
 */
export function decideOutcome(current: WorkItemOutcome | null, cause: EndCause): WorkItemOutcome {
  if (cause.kind === 'lease_lost') return 'lease_lost';
  if (current !== null) return current;
  switch (cause.kind) {
    case 'exited':
      return exitOutcome(cause.exit);
    case 'sandbox_fault':
      return 'failed';
    case 'stop_requested':
    case 'lease_stopped':
      return 'stopped_by_control_plane';
    case 'shutdown':
      return 'shutdown';
    case 'start_failed':
      return 'start_failed';
    case 'ack_refused':
      return 'ack_refused';
    case 'healthcheck':
      return 'healthcheck';
  }
}
