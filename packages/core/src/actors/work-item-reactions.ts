/**
 * The reaction table of a work item (contract §7): what the item does when its lease reports a
 * stop request, a stop or a loss, or when the worker shuts down, in each phase of its life. The
 * work-item machine's guards read this table, so the table is the rule and the machine only runs it.
 */
import type { WorkState } from '../api/wire.js';

/**
 * The phases of a work item as the machine runs it: the contract's states, with `stopping`
 * split by what is being done.
 */
export const WORK_ITEM_PHASES = ['queued', 'starting', 'active', 'winding_down', 'releasing', 'killing', 'done'] as const;

/**
 * - `queued`: claimed by a poll, being acked;
 * - `starting`: acked and heartbeating; the sandbox is starting (or a healthcheck is probing);
 * - `active`: the sandbox runs;
 * - `winding_down`: the sandbox is being stopped (grace, then kill) while the lease is kept;
 * - `releasing`: the sandbox is gone; `stop {force:true}` is being posted while the lease is kept;
 * - `killing`: the lease is over (lost, or the item stopped); the sandbox is being killed, no stop call;
 * - `done`: final.
 */
export type WorkItemPhase = (typeof WORK_ITEM_PHASES)[number];

/** What can interrupt a work item from outside its own steps. */
export const WORK_ITEM_TRIGGERS = ['stop_requested', 'lease_stopped', 'lease_lost', 'shutdown'] as const;
export type WorkItemTrigger = (typeof WORK_ITEM_TRIGGERS)[number];

/**
 * - `ignore`: nothing to do (the item is already ending the right way, or the trigger cannot matter);
 * - `defer`: note the outcome; act when the step in flight ends (a sandbox being started is stopped
 *   gracefully once it is up, rather than abandoned half-started);
 * - `wind_down`: stop the sandbox gracefully, keep the lease, then post `stop {force:true}`;
 * - `kill`: leave the lease at once, kill the sandbox, post no stop;
 * - `abandon`: end without acking: the item is not held yet, and the server redelivers it.
 */
export type WorkItemReaction = 'ignore' | 'defer' | 'wind_down' | 'kill' | 'abandon';

/** The table: phase → trigger → reaction. */
export const WORK_ITEM_REACTIONS: Readonly<Record<WorkItemPhase, Readonly<Record<WorkItemTrigger, WorkItemReaction>>>> = {
  // No lease yet, so only a shutdown can reach it.
  queued: { stop_requested: 'ignore', lease_stopped: 'ignore', lease_lost: 'ignore', shutdown: 'abandon' },
  starting: { stop_requested: 'defer', lease_stopped: 'kill', lease_lost: 'kill', shutdown: 'defer' },
  active: { stop_requested: 'wind_down', lease_stopped: 'kill', lease_lost: 'kill', shutdown: 'wind_down' },
  winding_down: { stop_requested: 'ignore', lease_stopped: 'kill', lease_lost: 'kill', shutdown: 'ignore' },
  // The stop call is in flight: a `stopped` answer is most likely that very call taking effect,
  // so the call is left to finish (a 409 counts as success). A lost lease still ends it at once.
  releasing: { stop_requested: 'ignore', lease_stopped: 'ignore', lease_lost: 'kill', shutdown: 'ignore' },
  killing: { stop_requested: 'ignore', lease_stopped: 'ignore', lease_lost: 'ignore', shutdown: 'ignore' },
  done: { stop_requested: 'ignore', lease_stopped: 'ignore', lease_lost: 'ignore', shutdown: 'ignore' },
};

/** The reaction of a work item in `phase` to `trigger`. */
export function reactionTo(phase: WorkItemPhase, trigger: WorkItemTrigger): WorkItemReaction {
  return WORK_ITEM_REACTIONS[phase][trigger];
}

/** The contract state (§4) a phase corresponds to, as this worker sees it. */
export function workStateOf(phase: WorkItemPhase): WorkState {
  switch (phase) {
    case 'queued':
    case 'starting':
    case 'active':
      return phase;
    case 'winding_down':
    case 'releasing':
    case 'killing':
      return 'stopping';
    case 'done':
      return 'stopped';
  }
}
