/**
 * The poll stream (contract §7.1): polls the Work API only while a slot is free, with up to
 * `pollers` long polls at once, and emits every item it claims together with the slot it holds.
 * Every wait (the idle pause after an empty poll, the backoff after a failure) is on the injected
 * clock. A fatal failure ends the stream with a {@link FatalPollError}.
 */
import { concat, concatMap, defer, merge, Observable, of, repeat, switchMap, take } from 'rxjs';
import type { WorkClient } from '../api/client.js';
import { WorkApiError } from '../api/errors.js';
import { retryDelay, type RetryPolicy } from '../api/retry.js';
import { POLL_LIMITS, type Work } from '../api/wire.js';
import type { Clock } from '../time/clock.js';
import { clockDelay$ } from './clock-delay.js';
import { FatalPollError, fatalPollMessage, isFatalPollError } from './poll-errors.js';
import type { Slot, SlotSource } from './slot-pool.js';

/** The pause after an empty poll, like the official SDK's: 1–3 s, jittered. */
export const DEFAULT_POLL_IDLE_DELAY_MS: readonly [number, number] = [1000, 3000];

/** Backoff after a failed poll: full jitter, ceilings from 1 s doubling up to 30 s. */
export const DEFAULT_POLL_BACKOFF: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'> = { baseDelayMs: 1000, maxDelayMs: 30_000 };

/** Options of {@link pollStream}. */
export interface PollStreamOptions {
  readonly client: Pick<WorkClient, 'poll'>;
  /** The environment polled, for the message of a fatal error. */
  readonly environmentId: string;
  /** Sent as `Anthropic-Worker-ID`. */
  readonly workerId: string;
  /** Where slots come from; a poll goes out only with a slot in hand. */
  readonly slots: SlotSource;
  /** Long polls at once; default 1. Never more are out than slots are free. */
  readonly pollers?: number;
  /** `block_ms` of each poll; default 999 (the most the API allows). */
  readonly blockMs?: number;
  /** `[min, max]` of the pause after an empty poll, jittered uniformly; default `[1000, 3000]`. */
  readonly idleDelayMs?: readonly [number, number];
  /** Backoff ceilings after failed polls; default {@link DEFAULT_POLL_BACKOFF}. */
  readonly backoff?: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>;
  readonly clock: Clock;
  /** Jitter source, numbers in [0, 1); default `Math.random`. */
  readonly random?: () => number;
}

/** What the poll stream reports. */
export type PollEvent =
  /**
   * A claimed item. The subscriber now owns `slot` and releases it when the item is done.
   * `sentAt`: when the poll that brought it was sent; `at`: when its answer arrived.
   */
  | { readonly type: 'work'; readonly work: Work; readonly sentAt: number; readonly at: number; readonly poller: number; readonly slot: Slot }
  /** A poll came back empty; the poller waits `nextPollInMs`. */
  | { readonly type: 'empty'; readonly at: number; readonly poller: number; readonly nextPollInMs: number }
  /** A poll failed but may succeed later; the poller waits `retryInMs`. */
  | {
      readonly type: 'error';
      readonly at: number;
      readonly poller: number;
      readonly error: unknown;
      /** Failures in a row of this poller, this one included. */
      readonly failures: number;
      readonly retryInMs: number;
    };

interface PollerConfig {
  readonly client: Pick<WorkClient, 'poll'>;
  readonly environmentId: string;
  readonly workerId: string;
  readonly slots: SlotSource;
  readonly blockMs: number;
  readonly idleDelayMs: readonly [number, number];
  readonly backoff: RetryPolicy;
  readonly clock: Clock;
  readonly random: () => number;
}

/**
 * The poll stream: cold; each subscription runs its own pollers. Unsubscribing aborts the polls in
 * flight and gives their slots back. It errors only with a {@link FatalPollError}.
 *
 * @example
 * ```ts
 * const slots = new SlotPool(4);
 * pollStream({ client, environmentId, workerId, slots, clock: systemClock }).subscribe((event) => {
 *   if (event.type === 'work') runItem(event.work).finally(() => event.slot.release());
 * });
 * ```
 */
export function pollStream(options: PollStreamOptions): Observable<PollEvent> {
  const pollers = options.pollers ?? 1;
  if (!Number.isInteger(pollers) || pollers < 1) throw new RangeError('pollers must be an integer >= 1');
  const config: PollerConfig = {
    client: options.client,
    environmentId: options.environmentId,
    workerId: options.workerId,
    slots: options.slots,
    blockMs: options.blockMs ?? POLL_LIMITS.maxBlockMs,
    idleDelayMs: options.idleDelayMs ?? DEFAULT_POLL_IDLE_DELAY_MS,
    backoff: { maxRetries: 0, ...(options.backoff ?? DEFAULT_POLL_BACKOFF) },
    clock: options.clock,
    random: options.random ?? Math.random,
  };
  return merge(...Array.from({ length: pollers }, (_, index) => poller(config, index)));
}

/** The pause after an empty poll: uniform in `[min, max]`. */
export function idleDelay([min, max]: readonly [number, number], random: () => number): number {
  return min + (max - min) * random();
}

/** One poller: a round (slot, poll), its report, its pause, and again. */
function poller(config: PollerConfig, index: number): Observable<PollEvent> {
  return defer(() => {
    let failures = 0;
    const pauseAfter = (event: PollEvent): number => (event.type === 'empty' ? event.nextPollInMs : event.type === 'error' ? event.retryInMs : 0);
    return defer(() => pollRound(config, index, () => failures++)).pipe(
      concatMap((event) => {
        if (event.type !== 'error') failures = 0;
        return concat(of(event), clockDelay$(config.clock, pauseAfter(event)));
      }),
      repeat(),
    );
  });
}

/** Takes a slot, polls once with it, and reports; the slot goes with an item, or back to the pool. */
function pollRound(config: PollerConfig, index: number, countFailure: () => number): Observable<PollEvent> {
  return config.slots.acquire$().pipe(
    take(1),
    switchMap(
      (slot) =>
        new Observable<PollEvent>((subscriber) => {
          const controller = new AbortController();
          // Aborting a settled poll would only build an AbortError nobody reads, once per item.
          let settled = false;
          // The round owns the slot until it hands it over with an item.
          let owned = true;
          const giveBack = (): void => {
            if (owned) slot.release();
            owned = false;
          };
          const sentAt = config.clock.now();
          // A client that throws instead of rejecting still ends up in the error branch.
          new Promise<Work | null>((resolve) =>
            resolve(config.client.poll({ workerId: config.workerId, blockMs: config.blockMs }, { signal: controller.signal })),
          ).then(
            (work) => {
              settled = true;
              const at = config.clock.now();
              if (work === null) {
                giveBack();
                subscriber.next({ type: 'empty', at, poller: index, nextPollInMs: idleDelay(config.idleDelayMs, config.random) });
              } else {
                owned = false;
                subscriber.next({ type: 'work', work, sentAt, at, poller: index, slot });
              }
              subscriber.complete();
            },
            (error: unknown) => {
              settled = true;
              giveBack();
              if (isFatalPollError(error)) {
                subscriber.error(new FatalPollError(fatalPollMessage(error, config.environmentId), statusOf(error), error));
                return;
              }
              const attempt = countFailure();
              const retryAfterMs = error instanceof WorkApiError ? error.retryAfterMs : null;
              subscriber.next({
                type: 'error',
                at: config.clock.now(),
                poller: index,
                error,
                failures: attempt + 1,
                retryInMs: retryDelay(attempt, config.backoff, config.random, retryAfterMs),
              });
              subscriber.complete();
            },
          );
          return () => {
            if (!settled) controller.abort();
            giveBack();
          };
        }),
    ),
  );
}

function statusOf(error: unknown): number | null {
  return error instanceof WorkApiError ? error.status : null;
}
