/**
 * The work-item machine (xstate 5): one actor per claimed work item, from its ack to its final
 * stop (architecture, "The actors"; contract §7). Every I/O step is an invoked actor, so leaving a
 * state cancels what it started; every wait is an `after` timer, so the injected clock drives it.
 *
 * ```
 * queued ──ack ok──▶ held: starting ──first beat ok, sandbox up──▶ active ──▶ stopping ──stop call──▶ stopped
 *   │                 (the lease is invoked on `held`: it starts before the sandbox, whose start
 *   │                  waits for the first extending beat, and lives through `stopping`)        lost / stopped ──▶ killing ──▶ stopped
 *   └─ack refused / shutdown before the ack──────────────────────────────────────────▶ stopped
 * ```
 *
 * What the item does on a stop request, a stop, a lost lease or a shutdown is read from the
 * reaction table of `work-item-reactions.ts`; which outcome it ends with from `work-item-outcome.ts`.
 */
import { defer, map, type Observable } from 'rxjs';
import { assertEvent, assign, emit, fromEventObservable, fromPromise, setup } from 'xstate';
import type { WorkClient } from '../api/client.js';
import type { RetryPolicy } from '../api/retry.js';
import type { Work } from '../api/wire.js';
import type { LeaseEvent, LeaseLostReason } from '../lease/lease-events.js';
import { heartbeat$ } from '../lease/heartbeat-stream.js';
import type { Sandbox, SandboxExit, SandboxRuntime, SandboxSpec } from '../runtime/sandbox-runtime.js';
import type { Clock } from '../time/clock.js';
import { ackFailureDecision, stopCallDecision, type StopCallDecision } from './retry-decisions.js';
import { decideOutcome, type EndCause, type WorkItemOutcome } from './work-item-outcome.js';
import { reactionTo, type WorkItemPhase, type WorkItemReaction, type WorkItemTrigger } from './work-item-reactions.js';

/** The Work API calls a work item makes. */
export type WorkItemClient = Pick<WorkClient, 'ack' | 'get' | 'heartbeat' | 'stop'>;

/** What a work item runs on. */
export interface WorkItemDeps {
  readonly client: WorkItemClient;
  readonly runtime: SandboxRuntime;
  /** The clock of the item's timestamps; its timers come from the actor's own clock (`createActor`). */
  readonly clock: Clock;
  /** Backoff jitter, numbers in [0, 1). */
  readonly random: () => number;
  /** Builds the sandbox spec of the item; called inside the start step, so a throw is a start failure. */
  readonly buildSpec: (work: Work) => SandboxSpec;
  /**
   * Told of every sandbox start as it begins, so that whoever owns the actor can wait for it and
   * kill what it yields: a start cancelled with the actor may still hand over a sandbox that the
   * actor never sees.
   */
  readonly track: (starting: Promise<Sandbox>) => void;
}

/** How a work item paces itself. */
export interface WorkItemSettings {
  /** Grace of a graceful sandbox stop before the runtime kills it. */
  readonly stopGraceMs: number;
  /** The reclaim window: acks are retried only within it, counted from the poll. */
  readonly ackWindowMs: number;
  /** The lease TTL to ask for, in whole seconds; `undefined`: the server's default. */
  readonly leaseTtlSeconds: number | undefined;
  /** Backoff of ack and stop-call retries; `maxRetries` bounds the stop-call retries. */
  readonly retry: RetryPolicy;
  /** How long past `stopGraceMs` a graceful stop may take before the item kills the sandbox itself. */
  readonly stopDeadlineMarginMs: number;
}

/** The input of a work-item actor. */
export interface WorkItemInput {
  /** The item as polled, `secret` included (its sandbox gets it). */
  readonly work: Work;
  /** The item's sessions token: the credential of its heartbeat, probe and stop; `undefined`: the environment key. */
  readonly credential: string | undefined;
  /**
   * Clock time the poll that claimed the item was sent. The server delivered it later, so the
   * reclaim window (within which acks are retried) counted from here never overshoots, however
   * long the answer took to arrive.
   */
  readonly polledAt: number;
  readonly deps: WorkItemDeps;
  readonly settings: WorkItemSettings;
}

/** What became of the final `stop {force:true}`. */
export type StopCallResult =
  /** Not decided yet (only seen before the end). */
  | 'pending'
  /** The call stopped the item. */
  | 'done'
  /** A 409: the item was already stopped, which is what the call wanted. */
  | 'already_stopped'
  /** It failed for good (a fatal error, or the retries ran out). */
  | 'failed'
  /** Not made: the item was never acked, or its lease was lost, or the control plane stopped it. */
  | 'skipped';

/** How a work item ended: the machine's output. */
export interface WorkItemOutput {
  readonly outcome: WorkItemOutcome;
  /** How the sandbox ended, when there was one. */
  readonly exit: SandboxExit | null;
  /** The message of the error that decided the outcome or failed a step, if any. May hold what a runtime wrote; scrub before logging. */
  readonly error: string | null;
  readonly stopCall: StopCallResult;
}

type Lease<T extends LeaseEvent['type']> = Extract<LeaseEvent, { type: T }>;

/** A lease event as the machine receives it. */
export type LeaseMachineEvent =
  | { readonly type: 'lease.renewed'; readonly lease: Lease<'renewed'> }
  | { readonly type: 'lease.stop_requested'; readonly lease: Lease<'stop_requested'> }
  | { readonly type: 'lease.stopped'; readonly lease: Lease<'stopped'> }
  | { readonly type: 'lease.lost'; readonly lease: Lease<'lost'> };

/** The events a work-item actor accepts: its lease's, and `shutdown` from its owner. */
export type WorkItemEvent = LeaseMachineEvent | { readonly type: 'shutdown' };

/** What a work-item actor emits (`actor.on(type, …)`) as it goes; times are its clock's. */
export type WorkItemEmitted =
  | { readonly type: 'acked'; readonly at: number }
  | { readonly type: 'started'; readonly at: number; readonly sandboxId: string }
  | { readonly type: 'lease_renewed'; readonly at: number; readonly ttlSeconds: number; readonly latencyMs: number; readonly lateMs: number }
  | { readonly type: 'stop_requested'; readonly at: number }
  | { readonly type: 'lease_lost'; readonly at: number; readonly reason: LeaseLostReason }
  | { readonly type: 'stopping'; readonly at: number; readonly outcome: WorkItemOutcome };

interface WorkItemContext extends WorkItemInput {
  phase: WorkItemPhase;
  outcome: WorkItemOutcome | null;
  sandbox: Sandbox | null;
  exit: SandboxExit | null;
  error: string | null;
  stopCall: StopCallResult;
  /** Clock time the current ack attempt was sent: the lease counts from the last one. */
  ackSentAt: number;
  /** Failed attempts of the call being retried (the ack, then the stop call). */
  attempt: number;
  /** What to do after the last failed ack or stop call. */
  decision: StopCallDecision | null;
}

/** Input of the `ack` actor. */
export interface AckInput {
  readonly client: WorkItemClient;
  readonly workId: string;
  /** The attempt's timeout: what is left of the reclaim window. */
  readonly timeoutMs: number;
}

/** Input of the `lease` actor: the arguments of `heartbeat$`. */
export interface LeaseInput {
  readonly client: WorkItemClient;
  readonly workId: string;
  readonly clock: Clock;
  readonly leaseStartedAt: number;
  readonly credential: string | undefined;
  readonly desiredTtlSeconds: number | undefined;
}

/** Input of the `start` actor. */
export interface StartInput {
  readonly runtime: SandboxRuntime;
  readonly work: Work;
  readonly buildSpec: (work: Work) => SandboxSpec;
  readonly track: (starting: Promise<Sandbox>) => void;
}

/** Input of the `probe` and `stopCall` actors. */
export interface ItemCallInput {
  readonly client: WorkItemClient;
  readonly workId: string;
  readonly credential: string | undefined;
}

/** The message of an error, for the output (never the error's other fields, which may hold a body). */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** A lease event as a machine event. */
export function leaseMachineEvent(event: LeaseEvent): LeaseMachineEvent {
  switch (event.type) {
    case 'renewed':
      return { type: 'lease.renewed', lease: event };
    case 'stop_requested':
      return { type: 'lease.stop_requested', lease: event };
    case 'stopped':
      return { type: 'lease.stopped', lease: event };
    case 'lost':
      return { type: 'lease.lost', lease: event };
  }
}

/** Whether a sandbox is up and has not ended yet. */
const sandboxRunning = (context: WorkItemContext): boolean => context.sandbox !== null && context.exit === null;

/** Assigns the outcome after a cause. */
const decided = (context: WorkItemContext, cause: EndCause): WorkItemOutcome => decideOutcome(context.outcome, cause);

/**
 * The machine. Provide other actors (`machine.provide({ actors: { … } })`) to test it without I/O;
 * run it with `createActor(workItemMachine, { input, clock })`, or through `startWorkItem`,
 * which also makes sure no sandbox outlives the actor.
 */
export const workItemMachine = setup({
  types: {
    context: {} as WorkItemContext,
    events: {} as WorkItemEvent,
    input: {} as WorkItemInput,
    output: {} as WorkItemOutput,
    emitted: {} as WorkItemEmitted,
  },
  actors: {
    ack: fromPromise<Work, AckInput>(({ input, signal }) =>
      // One attempt a call: the machine retries, within the reclaim window.
      input.client.ack(input.workId, { signal, timeoutMs: input.timeoutMs, maxRetries: 0 }),
    ),
    lease: fromEventObservable<LeaseMachineEvent, LeaseInput>(
      ({ input }): Observable<LeaseMachineEvent> =>
        // `defer`: a bad option then arrives as the stream's error (lease lost) instead of a throw.
        defer(() =>
          heartbeat$(input.client, input.workId, {
            clock: input.clock,
            leaseStartedAt: input.leaseStartedAt,
            credential: input.credential,
            desiredTtlSeconds: input.desiredTtlSeconds,
          }),
        ).pipe(map(leaseMachineEvent)),
    ),
    start: fromPromise<Sandbox, StartInput>(({ input, signal }) => {
      const starting = (async () => input.runtime.start(input.buildSpec(input.work), signal))();
      input.track(starting);
      return starting;
    }),
    probe: fromPromise<Work, ItemCallInput>(({ input, signal }) =>
      input.client.get(input.workId, { signal, credential: input.credential }),
    ),
    exit: fromPromise<SandboxExit, { readonly sandbox: Sandbox }>(({ input }) => input.sandbox.exit),
    stopSandbox: fromPromise<SandboxExit, { readonly sandbox: Sandbox; readonly graceMs: number }>(({ input }) =>
      input.sandbox.stop(input.graceMs),
    ),
    kill: fromPromise<SandboxExit | null, { readonly sandbox: Sandbox | null }>(async ({ input }) =>
      input.sandbox === null ? null : input.sandbox.kill(),
    ),
    stopCall: fromPromise<Work, ItemCallInput>(({ input, signal }) =>
      // One attempt a call: the machine retries with its own backoff and bound.
      input.client.stop(input.workId, { force: true }, { signal, credential: input.credential, maxRetries: 0 }),
    ),
  },
  guards: {
    reactsWith: ({ context }, params: { trigger: WorkItemTrigger; reaction: WorkItemReaction }) =>
      reactionTo(context.phase, params.trigger) === params.reaction,
    isHealthcheck: ({ context }) => context.work.data.type === 'healthcheck',
    outcomeDecided: ({ context }) => context.outcome !== null,
    sandboxRunning: ({ context }) => sandboxRunning(context),
    decidedTo: ({ context }, params: { action: StopCallDecision['action'] }) => context.decision?.action === params.action,
  },
  delays: {
    retryDelay: ({ context }) => (context.decision?.action === 'retry' ? context.decision.delayMs : 0),
    stopDeadline: ({ context }) => context.settings.stopGraceMs + context.settings.stopDeadlineMarginMs,
  },
  actions: {
    enterPhase: assign((_, params: { phase: WorkItemPhase }) => ({ phase: params.phase })),
    emitStopping: emit(({ context }) => ({
      type: 'stopping' as const,
      at: context.deps.clock.now(),
      // Every way into a stopping phase decides the outcome first.
      outcome: context.outcome ?? 'shutdown',
    })),
    skipStopCall: assign({ stopCall: 'skipped' as const }),
    emitLeaseRenewed: emit(({ context, event }) => {
      assertEvent(event, 'lease.renewed');
      return {
        type: 'lease_renewed' as const,
        at: context.deps.clock.now(),
        ttlSeconds: event.lease.response.ttl_seconds,
        latencyMs: event.lease.latencyMs,
        lateMs: event.lease.lateMs,
      };
    }),
  },
}).createMachine({
  id: 'workItem',
  context: ({ input }) => ({
    ...input,
    phase: 'queued',
    outcome: null,
    sandbox: null,
    exit: null,
    error: null,
    stopCall: 'pending',
    ackSentAt: input.polledAt,
    attempt: 0,
    decision: null,
  }),
  output: ({ context }) => ({
    outcome: context.outcome ?? 'shutdown',
    exit: context.exit,
    error: context.error,
    stopCall: context.stopCall,
  }),
  initial: 'queued',
  states: {
    queued: {
      entry: { type: 'enterPhase', params: { phase: 'queued' } },
      initial: 'acking',
      on: {
        shutdown: {
          guard: { type: 'reactsWith', params: { trigger: 'shutdown', reaction: 'abandon' } },
          target: '#workItem.stopped',
          actions: [assign(({ context }) => ({ outcome: decided(context, { kind: 'shutdown' }) })), 'skipStopCall'],
        },
      },
      states: {
        acking: {
          entry: assign(({ context }) => ({ ackSentAt: context.deps.clock.now() })),
          invoke: {
            src: 'ack',
            input: ({ context }) => ({
              client: context.deps.client,
              workId: context.work.id,
              timeoutMs: Math.max(1, Math.ceil(context.settings.ackWindowMs - (context.deps.clock.now() - context.polledAt))),
            }),
            onDone: {
              target: '#workItem.held',
              actions: emit(({ context }) => ({ type: 'acked' as const, at: context.deps.clock.now() })),
            },
            onError: {
              target: 'ackFailed',
              actions: assign(({ context, event }) => ({
                error: describeError(event.error),
                decision: ackFailureDecision(event.error, {
                  attempt: context.attempt,
                  elapsedMs: context.deps.clock.now() - context.polledAt,
                  windowMs: context.settings.ackWindowMs,
                  policy: context.settings.retry,
                  random: context.deps.random,
                }),
              })),
            },
          },
        },
        ackFailed: {
          always: [
            {
              guard: { type: 'decidedTo', params: { action: 'retry' } },
              target: 'backoff',
              actions: assign(({ context }) => ({ attempt: context.attempt + 1 })),
            },
            {
              target: '#workItem.stopped',
              actions: [assign(({ context }) => ({ outcome: decided(context, { kind: 'ack_refused' }) })), 'skipStopCall'],
            },
          ],
        },
        backoff: { after: { retryDelay: 'acking' } },
      },
    },

    held: {
      // The lease: from the ack's end until the stop call's, whatever happens in between.
      invoke: {
        id: 'lease',
        src: 'lease',
        input: ({ context }) => ({
          client: context.deps.client,
          workId: context.work.id,
          clock: context.deps.clock,
          leaseStartedAt: context.ackSentAt,
          credential: context.credential,
          desiredTtlSeconds: context.settings.leaseTtlSeconds,
        }),
        // The stream errs only on a programming error; the lease cannot be trusted then.
        onError: {
          target: '#workItem.killing',
          actions: [
            assign(({ context, event }) => ({
              outcome: decided(context, { kind: 'lease_lost' }),
              error: describeError(event.error),
            })),
            'skipStopCall',
            emit(({ context }) => ({ type: 'lease_lost' as const, at: context.deps.clock.now(), reason: 'fatal' as const })),
          ],
        },
      },
      on: {
        'lease.renewed': { actions: 'emitLeaseRenewed' },
        'lease.stop_requested': [
          {
            guard: { type: 'reactsWith', params: { trigger: 'stop_requested', reaction: 'wind_down' } },
            target: '.stopping',
            actions: [
              assign(({ context }) => ({ outcome: decided(context, { kind: 'stop_requested' }) })),
              emit(({ context }) => ({ type: 'stop_requested' as const, at: context.deps.clock.now() })),
            ],
          },
          {
            guard: { type: 'reactsWith', params: { trigger: 'stop_requested', reaction: 'defer' } },
            actions: [
              assign(({ context }) => ({ outcome: decided(context, { kind: 'stop_requested' }) })),
              emit(({ context }) => ({ type: 'stop_requested' as const, at: context.deps.clock.now() })),
            ],
          },
          { actions: emit(({ context }) => ({ type: 'stop_requested' as const, at: context.deps.clock.now() })) },
        ],
        'lease.stopped': {
          guard: { type: 'reactsWith', params: { trigger: 'lease_stopped', reaction: 'kill' } },
          target: '#workItem.killing',
          actions: [assign(({ context }) => ({ outcome: decided(context, { kind: 'lease_stopped' }) })), 'skipStopCall'],
        },
        'lease.lost': {
          guard: { type: 'reactsWith', params: { trigger: 'lease_lost', reaction: 'kill' } },
          target: '#workItem.killing',
          actions: [
            assign(({ context, event }) => ({
              outcome: decided(context, { kind: 'lease_lost' }),
              error: event.lease.error === undefined ? `lease lost (${event.lease.reason})` : describeError(event.lease.error),
            })),
            'skipStopCall',
            emit(({ context, event }) => ({ type: 'lease_lost' as const, at: context.deps.clock.now(), reason: event.lease.reason })),
          ],
        },
        shutdown: [
          {
            guard: { type: 'reactsWith', params: { trigger: 'shutdown', reaction: 'wind_down' } },
            target: '.stopping',
            actions: assign(({ context }) => ({ outcome: decided(context, { kind: 'shutdown' }) })),
          },
          {
            guard: { type: 'reactsWith', params: { trigger: 'shutdown', reaction: 'defer' } },
            actions: assign(({ context }) => ({ outcome: decided(context, { kind: 'shutdown' }) })),
          },
        ],
      },
      initial: 'starting',
      states: {
        starting: {
          entry: { type: 'enterPhase', params: { phase: 'starting' } },
          initial: 'claiming',
          states: {
            claiming: {
              // Nothing runs before the first beat has extended the lease. The ack alone proves
              // little: a claim whose poll answer arrived late is acked (200, the item is already
              // `starting` for its new holder) even though the item was redelivered meanwhile;
              // the first beat's fencing (NO_HEARTBEAT, and a sessions token revoked by the
              // redelivery) is what tells the two holders apart.
              on: {
                'lease.renewed': [
                  { guard: 'outcomeDecided', target: '#workItem.held.stopping', actions: 'emitLeaseRenewed' },
                  { target: 'choosing', actions: 'emitLeaseRenewed' },
                ],
                'lease.stop_requested': {
                  target: '#workItem.held.stopping',
                  actions: [
                    assign(({ context }) => ({ outcome: decided(context, { kind: 'stop_requested' }) })),
                    emit(({ context }) => ({ type: 'stop_requested' as const, at: context.deps.clock.now() })),
                  ],
                },
              },
            },
            choosing: {
              always: [{ guard: 'isHealthcheck', target: 'probing' }, { target: 'launching' }],
            },
            launching: {
              invoke: {
                src: 'start',
                input: ({ context }) => ({
                  runtime: context.deps.runtime,
                  work: context.work,
                  buildSpec: context.deps.buildSpec,
                  track: context.deps.track,
                }),
                onDone: [
                  {
                    // A stop request or shutdown came while it started: stop it gracefully now.
                    guard: 'outcomeDecided',
                    target: '#workItem.held.stopping',
                    actions: assign(({ event }) => ({ sandbox: event.output })),
                  },
                  {
                    target: '#workItem.held.active',
                    actions: [
                      assign(({ event }) => ({ sandbox: event.output })),
                      emit(({ context, event }) => ({
                        type: 'started' as const,
                        at: context.deps.clock.now(),
                        sandboxId: event.output.id,
                      })),
                    ],
                  },
                ],
                onError: {
                  target: '#workItem.held.stopping',
                  actions: assign(({ context, event }) => ({
                    outcome: decided(context, { kind: 'start_failed' }),
                    error: describeError(event.error),
                  })),
                },
              },
            },
            probing: {
              // A healthcheck runs no sandbox: reading the item back proves the control plane answers.
              invoke: {
                src: 'probe',
                input: ({ context }) => ({ client: context.deps.client, workId: context.work.id, credential: context.credential }),
                onDone: {
                  target: '#workItem.held.stopping',
                  actions: assign(({ context }) => ({ outcome: decided(context, { kind: 'healthcheck' }) })),
                },
                onError: {
                  target: '#workItem.held.stopping',
                  actions: assign(({ context, event }) => ({
                    outcome: decided(context, { kind: 'healthcheck' }),
                    error: describeError(event.error),
                  })),
                },
              },
            },
          },
        },

        active: {
          entry: { type: 'enterPhase', params: { phase: 'active' } },
          invoke: {
            src: 'exit',
            input: ({ context }) => ({ sandbox: context.sandbox as Sandbox }),
            onDone: {
              target: 'stopping',
              actions: assign(({ context, event }) => ({
                exit: event.output,
                outcome: decided(context, { kind: 'exited', exit: event.output }),
              })),
            },
            // The runtime broke its promise that `exit` never rejects: the sandbox's state is unknown, so stop it.
            onError: {
              target: 'stopping',
              actions: assign(({ context, event }) => ({
                outcome: decided(context, { kind: 'sandbox_fault' }),
                error: describeError(event.error),
              })),
            },
          },
        },

        stopping: {
          entry: 'emitStopping',
          initial: 'choosing',
          states: {
            choosing: {
              always: [{ guard: 'sandboxRunning', target: 'windingDown' }, { target: 'releasing' }],
            },
            windingDown: {
              entry: { type: 'enterPhase', params: { phase: 'winding_down' } },
              initial: 'asking',
              states: {
                asking: {
                  invoke: {
                    src: 'stopSandbox',
                    input: ({ context }) => ({ sandbox: context.sandbox as Sandbox, graceMs: context.settings.stopGraceMs }),
                    onDone: { target: '#workItem.held.stopping.releasing', actions: assign(({ event }) => ({ exit: event.output })) },
                    onError: {
                      target: 'forcing',
                      actions: assign(({ event }) => ({ error: describeError(event.error) })),
                    },
                  },
                  // A runtime whose stop outlasts its grace by far is not trusted to end it.
                  after: { stopDeadline: 'forcing' },
                },
                forcing: {
                  invoke: {
                    src: 'kill',
                    input: ({ context }) => ({ sandbox: context.sandbox }),
                    onDone: { target: '#workItem.held.stopping.releasing', actions: assign(({ event }) => ({ exit: event.output })) },
                    onError: {
                      target: '#workItem.held.stopping.releasing',
                      actions: assign(({ event }) => ({ error: describeError(event.error) })),
                    },
                  },
                },
              },
            },
            releasing: {
              entry: [{ type: 'enterPhase', params: { phase: 'releasing' } }, assign({ attempt: 0, decision: null })],
              initial: 'calling',
              states: {
                calling: {
                  invoke: {
                    src: 'stopCall',
                    input: ({ context }) => ({ client: context.deps.client, workId: context.work.id, credential: context.credential }),
                    onDone: { target: '#workItem.stopped', actions: assign({ stopCall: 'done' as const }) },
                    onError: {
                      target: 'deciding',
                      actions: assign(({ context, event }) => ({
                        decision: stopCallDecision(event.error, context.attempt, context.settings.retry, context.deps.random),
                        error: context.error ?? describeError(event.error),
                      })),
                    },
                  },
                },
                deciding: {
                  always: [
                    {
                      guard: { type: 'decidedTo', params: { action: 'already_stopped' } },
                      target: '#workItem.stopped',
                      actions: assign({ stopCall: 'already_stopped' as const }),
                    },
                    {
                      guard: { type: 'decidedTo', params: { action: 'retry' } },
                      target: 'backoff',
                      actions: assign(({ context }) => ({ attempt: context.attempt + 1 })),
                    },
                    { target: '#workItem.stopped', actions: assign({ stopCall: 'failed' as const }) },
                  ],
                },
                backoff: { after: { retryDelay: 'calling' } },
              },
            },
          },
        },
      },
    },

    killing: {
      // Outside `held`: the lease is over, and no stop call follows.
      entry: [{ type: 'enterPhase', params: { phase: 'killing' } }, 'emitStopping'],
      invoke: {
        src: 'kill',
        input: ({ context }) => ({ sandbox: sandboxRunning(context) ? context.sandbox : null }),
        onDone: {
          target: 'stopped',
          actions: assign(({ context, event }) => ({ exit: context.exit ?? event.output })),
        },
        onError: { target: 'stopped', actions: assign(({ event }) => ({ error: describeError(event.error) })) },
      },
    },

    stopped: {
      type: 'final',
      entry: { type: 'enterPhase', params: { phase: 'done' } },
    },
  },
});

/** The type of {@link workItemMachine}, and of any `provide`d variant of it. */
export type WorkItemMachine = typeof workItemMachine;
