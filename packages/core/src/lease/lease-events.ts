/**
 * What the heartbeat stream tells the work-item actor about its lease. `stopped` and `lost` are
 * terminal: the stream completes right after emitting one of them.
 */
import type { HeartbeatResponse, LeaseState } from '../api/wire.js';
import type { WorkApiError } from '../api/errors.js';

/** Why a lease was lost (contract §7.5). */
export type LeaseLostReason =
  /** A 412: someone else holds the item now. */
  | 'precondition'
  /** No successful beat for a whole TTL, measured from the send time of the last good one. */
  | 'stale'
  /** A non-transient error (401, 403, 404, …): this lease cannot be kept. */
  | 'fatal';

export type LeaseEvent =
  /**
   * A beat extended the lease. `latencyMs`: send to answer, on the stream's clock. `lateMs`: how
   * long after its due time the beat was sent (0 when on time); an overloaded worker shows late
   * beats before it loses leases.
   */
  | { readonly type: 'renewed'; readonly at: number; readonly response: HeartbeatResponse; readonly latencyMs: number; readonly lateMs: number }
  /**
   * The control plane asked the holder to stop (`state: stopping`, or `lease_extended: false`).
   * Emitted once; the stream keeps beating so the lease is held while the sandbox winds down.
   */
  | { readonly type: 'stop_requested'; readonly at: number; readonly response: HeartbeatResponse }
  /** The item is stopped on the server: kill the sandbox, post no stop. Terminal. */
  | { readonly type: 'stopped'; readonly at: number; readonly response: HeartbeatResponse }
  /** The lease is gone: kill the sandbox at once, post no stop. Terminal. */
  | {
      readonly type: 'lost';
      readonly at: number;
      readonly reason: LeaseLostReason;
      /** The server's view of the lease, when it sent one (a 412). */
      readonly currentState?: LeaseState;
      /** The error that decided it, for `fatal` and `precondition`. */
      readonly error?: WorkApiError;
    };
