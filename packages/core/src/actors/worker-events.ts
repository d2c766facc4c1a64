/**
 * What a worker tells its host: typed lifecycle events (`events$`) and a status snapshot
 * (`status()`). Neither ever carries a secret: events hold ids, outcomes and scrubbed messages.
 */
import type { WorkState } from '../api/wire.js';
import type { LeaseLostReason } from '../lease/lease-events.js';
import type { SandboxExit } from '../runtime/sandbox-runtime.js';
import type { StopCallResult } from './work-item-machine.js';
import type { WorkItemOutcome } from './work-item-outcome.js';
import type { WorkItemPhase } from './work-item-reactions.js';

/** The fields of every event about one work item. `at`: milliseconds on the worker's clock. */
export interface WorkItemEventBase {
  readonly at: number;
  readonly work_id: string;
  /** The session the item serves; `null` for a healthcheck. */
  readonly session_id: string | null;
}

/** A worker lifecycle event. */
export type WorkerEvent =
  /** A poll claimed the item; its actor starts. */
  | (WorkItemEventBase & { readonly type: 'claimed'; readonly data_type: 'session' | 'healthcheck' })
  /** The ack succeeded: the item is this worker's. */
  | (WorkItemEventBase & { readonly type: 'acked' })
  /** The sandbox is up. */
  | (WorkItemEventBase & { readonly type: 'started'; readonly sandbox_id: string })
  /**
   * A beat extended the lease. `latency_ms`: send to answer; `late_ms`: how long after its due
   * time the beat was sent (0 when on time).
   */
  | (WorkItemEventBase & { readonly type: 'lease_renewed'; readonly ttl_seconds: number; readonly latency_ms: number; readonly late_ms: number })
  /** The control plane asked for the item to stop. */
  | (WorkItemEventBase & { readonly type: 'stop_requested' })
  | (WorkItemEventBase & { readonly type: 'lease_lost'; readonly reason: LeaseLostReason })
  /**
   * The item is ending, for the reason `outcome` says. Sent again, with `lease_lost`, if the
   * lease is lost while it winds down.
   */
  | (WorkItemEventBase & { readonly type: 'stopping'; readonly outcome: WorkItemOutcome })
  /** The item is over: its actor is final and its sandbox has exited. */
  | (WorkItemEventBase & {
      readonly type: 'stopped';
      readonly outcome: WorkItemOutcome;
      readonly stop_call: StopCallResult;
      readonly exit?: SandboxExit;
      /** What went wrong, scrubbed of known secrets. */
      readonly error?: string;
    })
  /** A poll came back empty. */
  | { readonly type: 'poll_empty'; readonly at: number; readonly poller: number }
  /** A poll failed and will be retried. */
  | {
      readonly type: 'poll_error';
      readonly at: number;
      readonly poller: number;
      readonly status: number | null;
      readonly error: string;
      readonly failures: number;
      readonly retry_in_ms: number;
    }
  /** Polling cannot go on; the worker stops every item and `done` rejects. */
  | { readonly type: 'fatal'; readonly at: number; readonly error: string };

/** Where a worker is in its own life. */
export type WorkerLifecycle = 'idle' | 'running' | 'draining' | 'stopping' | 'stopped' | 'failed';

/** One item the worker holds now. */
export interface WorkerItemStatus {
  readonly workId: string;
  readonly sessionId: string | null;
  /** The contract state as this worker sees it. */
  readonly state: WorkState;
  /** The finer phase of the work-item machine. */
  readonly phase: WorkItemPhase;
  /** Set once the item has begun to end. */
  readonly outcome?: WorkItemOutcome;
  /** Clock time of the poll that claimed it. */
  readonly claimedAt: number;
  /** Clock time its sandbox was up. */
  readonly startedAt?: number;
}

/** A snapshot of a worker. */
export interface WorkerStatus {
  readonly workerId: string;
  readonly lifecycle: WorkerLifecycle;
  readonly slots: {
    readonly max: number;
    /** Slots held by items. */
    readonly busy: number;
    /** Slots held by polls in flight (each gives its slot to the item it brings, or back). */
    readonly polling: number;
    readonly free: number;
  };
  readonly items: readonly WorkerItemStatus[];
  readonly counters: {
    readonly claimed: number;
    /** Items ended, by outcome. */
    readonly outcomes: Readonly<Record<WorkItemOutcome, number>>;
  };
}
