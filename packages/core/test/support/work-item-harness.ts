/**
 * Runs the work-item machine in virtual time with its Work API steps replaced by scripted stub
 * actors (`machine.provide`), and its runtime by the fake of `fake-sandbox.ts`. Every step the
 * machine takes is logged in order, so tests can assert what happened before what.
 */
import { Observable, Subject } from 'rxjs';
import { fromEventObservable, fromPromise } from 'xstate';
import { WorkApiError } from '../../src/api/errors.js';
import { WorkSchema, type Work } from '../../src/api/wire.js';
import type { LeaseEvent } from '../../src/lease/lease-events.js';
import { startWorkItem, type WorkItemHandle } from '../../src/actors/work-item-actor.js';
import {
  leaseMachineEvent,
  workItemMachine,
  type AckInput,
  type ItemCallInput,
  type LeaseInput,
  type LeaseMachineEvent,
  type WorkItemClient,
  type WorkItemEmitted,
  type WorkItemSettings,
} from '../../src/actors/work-item-machine.js';
import type { SandboxSpec } from '../../src/runtime/sandbox-runtime.js';
import { VirtualClock } from '../../src/time/virtual-clock.js';
import { FakeRuntime, type StartBehaviour, type StopBehaviour } from './fake-sandbox.js';
import { SESSIONS_TOKEN, workJson } from './fixtures.js';

export const T0 = Date.parse('2026-11-28T17:00:00Z');

/** What a scripted call answers: success, an error, or nothing ever. */
export type Reply = 'ok' | 'hang' | WorkApiError;

export function apiError(operation: string, status: number | null, headers: { shouldRetry?: boolean; retryAfterMs?: number } = {}): WorkApiError {
  return new WorkApiError({
    operation,
    status,
    type: status === null ? 'connection_error' : `status_${status}`,
    message: `${operation} failed (${String(status)})`,
    shouldRetryHeader: headers.shouldRetry ?? null,
    retryAfterMs: headers.retryAfterMs ?? null,
  });
}

export const SETTINGS: WorkItemSettings = {
  stopGraceMs: 10_000,
  ackWindowMs: 5000,
  leaseTtlSeconds: 30,
  retry: { maxRetries: 3, baseDelayMs: 500, maxDelayMs: 8000 },
  stopDeadlineMarginMs: 5000,
};

export interface HarnessOptions {
  readonly ack?: Reply[];
  readonly stopCall?: Reply[];
  readonly probe?: Reply[];
  readonly start?: StartBehaviour;
  readonly sandboxStop?: StopBehaviour;
  readonly dataType?: 'session' | 'healthcheck';
  readonly settings?: Partial<WorkItemSettings>;
  /**
   * The first beat's answer, as the heartbeat stream would emit it once subscribed: `renewed`
   * (default: the lease is claimed and the sandbox may start), or `manual` to emit it by hand.
   */
  readonly firstBeat?: 'renewed' | 'manual';
}

export interface Call<I> {
  readonly at: number;
  readonly input: I;
  readonly signal: AbortSignal;
}

/** A client that fails the test if the machine calls it directly: every call must go through a stub actor. */
const unusedClient: WorkItemClient = {
  ack: () => Promise.reject(new Error('unexpected direct client call: ack')),
  get: () => Promise.reject(new Error('unexpected direct client call: get')),
  heartbeat: () => Promise.reject(new Error('unexpected direct client call: heartbeat')),
  stop: () => Promise.reject(new Error('unexpected direct client call: stop')),
};

export class WorkItemHarness {
  readonly clock = new VirtualClock(T0);
  readonly log: string[] = [];
  readonly lease = new Subject<LeaseEvent>();
  readonly runtime: FakeRuntime;
  readonly acks: Array<Call<AckInput>> = [];
  readonly stopCalls: Array<Call<ItemCallInput>> = [];
  readonly probes: Array<Call<ItemCallInput>> = [];
  readonly leaseInputs: LeaseInput[] = [];
  readonly emitted: WorkItemEmitted[] = [];
  readonly phases: string[] = [];
  readonly work: Work;
  readonly handle: WorkItemHandle;
  leaseSubscribed = false;

  constructor(options: HarnessOptions = {}) {
    this.runtime = new FakeRuntime(this.log, options.start ?? 'ok', options.sandboxStop ?? 'obey');
    const dataType = options.dataType ?? 'session';
    this.work = WorkSchema.parse(
      workJson({ data: { type: dataType, id: dataType === 'session' ? 'sesn_0123456789abcdefghijklmn' : 'hc_1' }, secret: 'c2VjcmV0' }),
    );
    const ackReplies = [...(options.ack ?? [])];
    const stopReplies = [...(options.stopCall ?? [])];
    const probeReplies = [...(options.probe ?? [])];
    const scripted = <I>(name: string, replies: Reply[], calls: Array<Call<I>>) =>
      fromPromise<Work, I>(({ input, signal }) => {
        calls.push({ at: this.clock.now(), input, signal });
        this.log.push(name);
        return this.#answer(replies.shift() ?? 'ok');
      });
    const machine = workItemMachine.provide({
      actors: {
        ack: scripted('ack', ackReplies, this.acks),
        stopCall: scripted('stopCall', stopReplies, this.stopCalls),
        probe: scripted('probe', probeReplies, this.probes),
        lease: fromEventObservable<LeaseMachineEvent, LeaseInput>(({ input }) => {
          this.leaseInputs.push(input);
          return new Observable<LeaseMachineEvent>((subscriber) => {
            this.leaseSubscribed = true;
            this.log.push('lease.subscribe');
            let completed = false;
            const subscription = this.lease.subscribe({
              next: (event) => subscriber.next(leaseMachineEvent(event)),
              complete: () => {
                completed = true;
                subscriber.complete();
              },
            });
            // The real stream beats at once; its answer arrives a moment after the subscription.
            if (options.firstBeat !== 'manual') queueMicrotask(() => this.beat('renewed'));
            return () => {
              // Logged only when the machine drops the lease, not when the stream ended by itself.
              if (!completed) this.log.push('lease.unsubscribe');
              this.leaseSubscribed = false;
              subscription.unsubscribe();
            };
          });
        }),
      },
    });
    const spec = { work: this.work } as SandboxSpec;
    this.handle = startWorkItem(machine, {
      input: {
        work: this.work,
        credential: SESSIONS_TOKEN,
        polledAt: this.clock.now(),
        settings: { ...SETTINGS, ...options.settings },
        deps: { client: unusedClient, runtime: this.runtime, clock: this.clock, random: () => 0.5, buildSpec: () => spec },
      },
      clock: this.clock,
      onEmitted: (event) => this.emitted.push(event),
      onPhase: (phase) => this.phases.push(phase),
    });
  }

  /** Lets every pending promise and actor step run. */
  async settle(): Promise<void> {
    for (let round = 0; round < 3; round++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Moves virtual time on, then lets what it woke run. */
  async advance(ms: number): Promise<void> {
    this.clock.advance(ms);
    await this.settle();
  }

  get phase(): string {
    return this.handle.actor.getSnapshot().context.phase;
  }

  /** Emits a lease event with the given type, as the heartbeat stream would. */
  beat(type: 'renewed' | 'stop_requested' | 'stopped', state: Work['state'] = 'active'): void {
    const response = { type: 'work_heartbeat' as const, last_heartbeat: '2026-11-28T17:00:01.000001Z', lease_extended: type === 'renewed', state, ttl_seconds: 30 };
    const at = this.clock.now();
    if (type === 'renewed') this.lease.next({ type, at, response, latencyMs: 3, lateMs: 7 });
    else this.lease.next({ type, at, response });
    if (type === 'stopped') this.lease.complete();
  }

  lose(reason: 'precondition' | 'stale' | 'fatal'): void {
    this.lease.next({ type: 'lost', at: this.clock.now(), reason });
    this.lease.complete();
  }

  emittedTypes(): string[] {
    return this.emitted.map((event) => event.type);
  }

  #answer(reply: Reply): Promise<Work> {
    if (reply === 'ok') return Promise.resolve(this.work);
    if (reply === 'hang') return new Promise<Work>(() => undefined);
    return Promise.reject(reply);
  }
}
