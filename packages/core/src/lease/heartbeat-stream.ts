/**
 * The heartbeat stream: runs the lease rules of `lease-rules.ts` on a clock, one beat at a time,
 * and tells its subscriber what became of the lease.
 */
import { Observable, type Subscriber } from 'rxjs';
import { WorkApiError } from '../api/errors.js';
import { requireFunction, requireHeaderToken, requireInteger, requirePlainObject, requireString } from '../api/validate.js';
import type { WorkClient } from '../api/client.js';
import type { HeartbeatResponse } from '../api/wire.js';
import type { Clock, TimerHandle } from '../time/clock.js';
import type { LeaseEvent } from './lease-events.js';
import {
  applyBeatAnswer,
  applyBeatError,
  beatDueAt,
  beatIntervalMs,
  checkStale,
  initialLease,
  staleAt,
  type Lease,
  type LeaseStep,
} from './lease-rules.js';

/** The one call of a {@link WorkClient} the stream makes. */
export type HeartbeatClient = Pick<WorkClient, 'heartbeat'>;

/** Options of {@link heartbeat$}. */
export interface HeartbeatStreamOptions {
  /** The clock of every wait of the stream: beat ticks, the staleness deadline. */
  readonly clock: Clock;
  /** Clock time the item's ack was sent: the lease counts as good from then until the first answer. */
  readonly leaseStartedAt: number;
  /** The item's sessions token (from its decoded `secret`); omitted: the client's environment key. */
  readonly credential?: string | undefined;
  /** The TTL to ask for, in whole seconds (the server clamps it); omitted: the server's default. */
  readonly desiredTtlSeconds?: number | undefined;
  /** The TTL assumed before the first answer; default `DEFAULT_INITIAL_TTL_SECONDS` (10 s). */
  readonly initialTtlSeconds?: number | undefined;
}

/**
 * Keeps the lease of one acked work item (contract §7, items 2–5), as a cold Observable: nothing
 * happens until it is subscribed, and each subscription is one lease holder.
 *
 * It beats at once with `NO_HEARTBEAT`, then echoes the last `last_heartbeat`, one beat at a time,
 * each sent {@link beatIntervalMs} of the current TTL after the previous one was sent and cut off
 * after that long. It emits `renewed`, `stop_requested` (once), `stopped` or `lost` per the lease
 * rules, and completes right after `stopped` or `lost`. Each `renewed` says how late its beat
 * went out (`lateMs`: send time minus due time; the first beat is due at subscription). Each beat
 * is a single attempt (`maxRetries: 0`): the stream is the retry loop, so a failed beat is
 * retried at the next tick with the expected value the stream holds then, never by the client
 * behind its back. (A beat the server applied but whose answer was lost leaves that value stale,
 * and the next beat earns a 412: the lease is then reported lost, the safe side.) A `retry-after`
 * is honoured up to the staleness deadline, and `lost` (`stale`) is emitted on the clock at that
 * deadline even while a beat hangs.
 *
 * Unsubscribing aborts the beat in flight and clears every timer; it emits nothing. The stream
 * errors (rather than emitting `lost`) only on a programming error, such as a closed client: its
 * subscriber must then treat the lease as lost.
 *
 * Options are checked at call time; a bad one throws a `TypeError` or `RangeError` naming it.
 *
 * @example
 * ```ts
 * const leaseStartedAt = systemClock.now();
 * await client.ack(work.id);
 * const { secret } = decodeWorkSecret(work.secret);
 * heartbeat$(client, work.id, { clock: systemClock, leaseStartedAt, credential: secret?.sessions_token })
 *   .subscribe((event) => {
 *     if (event.type === 'stop_requested') sandbox.stop(10_000);
 *     if (event.type === 'lost' || event.type === 'stopped') sandbox.kill();
 *   });
 * ```
 */
export function heartbeat$(client: HeartbeatClient, workId: string, options: HeartbeatStreamOptions): Observable<LeaseEvent> {
  const config = checkOptions(client, workId, options);
  return new Observable<LeaseEvent>((subscriber) => {
    const run = new HeartbeatRun(client, config, subscriber);
    run.start();
    return () => run.stop();
  });
}

interface StreamConfig {
  readonly workId: string;
  readonly clock: Clock;
  readonly leaseStartedAt: number;
  readonly credential: string | undefined;
  readonly desiredTtlSeconds: number | undefined;
  readonly initialTtlSeconds: number | undefined;
}

/** One subscription: one lease holder with its timers and its beat in flight. */
class HeartbeatRun {
  readonly #client: HeartbeatClient;
  readonly #config: StreamConfig;
  readonly #subscriber: Subscriber<LeaseEvent>;
  #lease: Lease;
  #beatTimer: TimerHandle | undefined;
  #staleTimer: TimerHandle | undefined;
  #inFlight: AbortController | undefined;
  /** When the next beat is due: the time its timer was asked for, or the time it was sent at once. */
  #dueAt = 0;
  #ended = false;

  constructor(client: HeartbeatClient, config: StreamConfig, subscriber: Subscriber<LeaseEvent>) {
    this.#client = client;
    this.#config = config;
    this.#subscriber = subscriber;
    this.#lease = initialLease({ leaseStartedAt: config.leaseStartedAt, initialTtlSeconds: config.initialTtlSeconds });
  }

  start(): void {
    // A lease already a TTL old at subscription is not worth a beat.
    if (this.#armStaleTimer()) return;
    this.#dueAt = this.#config.clock.now();
    this.#beat();
  }

  /** Ends the run without emitting: aborts the beat in flight, clears every timer. Idempotent. */
  stop(): void {
    this.#ended = true;
    const { clock } = this.#config;
    if (this.#beatTimer !== undefined) clock.clearTimeout(this.#beatTimer);
    if (this.#staleTimer !== undefined) clock.clearTimeout(this.#staleTimer);
    this.#beatTimer = undefined;
    this.#staleTimer = undefined;
    this.#inFlight?.abort();
    this.#inFlight = undefined;
  }

  #beat(): void {
    this.#beatTimer = undefined;
    const { clock, workId, credential, desiredTtlSeconds } = this.#config;
    const sentAt = clock.now();
    const lateMs = Math.max(0, sentAt - this.#dueAt);
    const controller = new AbortController();
    this.#inFlight = controller;
    const params = { expectedLastHeartbeat: this.#lease.expected, desiredTtlSeconds };
    const callOptions = {
      signal: controller.signal,
      timeoutMs: beatIntervalMs(this.#lease.ttlSeconds),
      credential,
      maxRetries: 0,
    };
    let call: Promise<HeartbeatResponse>;
    try {
      call = this.#client.heartbeat(workId, params, callOptions);
    } catch (err) {
      call = Promise.reject(err);
    }
    call.then(
      (answer) => {
        if (controller.signal.aborted) return;
        this.#settled(applyBeatAnswer(this.#lease, answer, sentAt, clock.now(), lateMs), sentAt, undefined);
      },
      (err: unknown) => {
        if (controller.signal.aborted) return;
        if (!(err instanceof WorkApiError)) {
          this.stop();
          this.#subscriber.error(err);
          return;
        }
        this.#settled(applyBeatError(this.#lease, err, clock.now()), sentAt, err);
      },
    );
  }

  #settled(step: LeaseStep, sentAt: number, error: WorkApiError | undefined): void {
    this.#inFlight = undefined;
    const previous = this.#lease;
    if (this.#apply(step)) return;
    if (staleAt(this.#lease) !== staleAt(previous) && this.#armStaleTimer()) return;
    const { clock } = this.#config;
    const now = clock.now();
    this.#dueAt = beatDueAt(this.#lease, sentAt, now, error);
    const delay = this.#dueAt - now;
    // A beat that is due now goes out now, not on a zero timer that a virtual clock would hold back.
    if (delay <= 0) this.#beat();
    else this.#beatTimer = clock.setTimeout(() => this.#beat(), delay);
  }

  /** Takes a step: keeps its lease, emits its event, ends on a terminal one. True when the run is over. */
  #apply(step: LeaseStep): boolean {
    this.#lease = step.lease;
    if (step.terminal) this.stop();
    if (step.event !== undefined) this.#subscriber.next(step.event);
    if (step.terminal) this.#subscriber.complete();
    // The subscriber may have unsubscribed while handling the event.
    return this.#ended;
  }

  /**
   * (Re)arms the staleness deadline, so `lost` (`stale`) comes on time even while a beat hangs,
   * or emits it at once when the deadline has passed. True when the run is over.
   */
  #armStaleTimer(): boolean {
    const { clock } = this.#config;
    if (this.#staleTimer !== undefined) clock.clearTimeout(this.#staleTimer);
    this.#staleTimer = undefined;
    const now = clock.now();
    const delay = staleAt(this.#lease) - now;
    if (delay <= 0) return this.#apply(checkStale(this.#lease, now));
    // On firing it checks again: a timer may fire a hair early on a real clock, and then re-arms.
    this.#staleTimer = clock.setTimeout(() => {
      this.#staleTimer = undefined;
      this.#armStaleTimer();
    }, delay);
    return false;
  }
}

function checkOptions(client: HeartbeatClient, workId: string, options: HeartbeatStreamOptions): StreamConfig {
  requireFunction((client as Partial<HeartbeatClient> | null)?.heartbeat, 'client.heartbeat');
  requireString(workId, 'workId');
  requirePlainObject(options, 'heartbeat$ options');
  const { clock, leaseStartedAt, credential, desiredTtlSeconds, initialTtlSeconds } = options;
  for (const method of ['now', 'setTimeout', 'clearTimeout'] as const) {
    requireFunction((clock as Partial<Clock> | null | undefined)?.[method], `clock.${method}`);
  }
  if (credential !== undefined) requireHeaderToken(credential, 'credential');
  if (desiredTtlSeconds !== undefined) requireInteger(desiredTtlSeconds, 'desiredTtlSeconds', 1);
  // initialLease checks leaseStartedAt and initialTtlSeconds.
  initialLease({ leaseStartedAt, initialTtlSeconds });
  return { workId, clock, leaseStartedAt, credential, desiredTtlSeconds, initialTtlSeconds };
}
