/**
 * Watching a heartbeat stream from a test: its events as they come (awaited with a real-time
 * deadline, since the HTTP I/O under it is real), and every beat call it makes through a real
 * `WorkClient` (recorded on the way through, so a test knows when a beat has settled even when it
 * emitted nothing, and what the stream passed to the client).
 */
import type { Observable, Subscription } from 'rxjs';
import type { CallOptions } from '../../src/api/client-options.js';
import type { HeartbeatParams } from '../../src/api/call-params.js';
import type { WorkClient } from '../../src/api/client.js';
import type { LeaseEvent } from '../../src/lease/lease-events.js';
import type { HeartbeatClient } from '../../src/lease/heartbeat-stream.js';
import type { Clock } from '../../src/time/clock.js';

const DEADLINE_MS = 5000;

/** A subscription to a heartbeat stream and what it has emitted so far. */
export interface WatchedStream {
  readonly events: readonly LeaseEvent[];
  readonly completed: boolean;
  readonly subscription: Subscription;
  /** Resolves with the `n`-th event (1-based) once it has come. */
  nth(n: number): Promise<LeaseEvent>;
  /** Resolves once the stream has completed. */
  done(): Promise<void>;
  /** Resolves once the stream has errored. */
  failed(): Promise<unknown>;
}

export function watch(events$: Observable<LeaseEvent>): WatchedStream {
  const events: LeaseEvent[] = [];
  let completed = false;
  let error: unknown;
  let errored = false;
  const checks = new Set<() => void>();
  const wake = (): void => checks.forEach((check) => check());
  const until = (condition: () => boolean, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      if (condition()) return resolve();
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        checks.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        checks.delete(check);
        reject(new Error(`no ${what} within ${DEADLINE_MS} ms; events so far: ${events.map((event) => event.type).join(', ')}`));
      }, DEADLINE_MS);
      checks.add(check);
    });
  const subscription = events$.subscribe({
    next: (event) => {
      events.push(event);
      wake();
    },
    complete: () => {
      completed = true;
      wake();
    },
    error: (err: unknown) => {
      error = err;
      errored = true;
      wake();
    },
  });
  return {
    events,
    get completed() {
      return completed;
    },
    subscription,
    nth: async (n) => {
      await until(() => events.length >= n, `event #${n}`);
      return events[n - 1] as LeaseEvent;
    },
    done: () => until(() => completed, 'completion'),
    failed: async () => {
      await until(() => errored, 'error');
      return error;
    },
  };
}

/** One heartbeat call the stream made. */
export interface BeatCall {
  /** Clock time of the call. */
  readonly sentAt: number;
  readonly params: HeartbeatParams;
  readonly options: CallOptions;
  /** Resolves with the call's error, or `null` when it succeeded. */
  readonly outcome: Promise<unknown>;
}

/** A real client whose heartbeat calls are recorded as they pass through. */
export interface ObservedClient {
  readonly client: HeartbeatClient;
  readonly calls: readonly BeatCall[];
  /** Resolves once call `index` (0-based) has settled and the stream has handled its outcome. */
  settled(index: number): Promise<unknown>;
}

export function observeBeats(client: WorkClient, clock: Clock): ObservedClient {
  const calls: BeatCall[] = [];
  const observed: HeartbeatClient = {
    heartbeat: (workId, params = {}, options = {}) => {
      const call = client.heartbeat(workId, params, options);
      calls.push({ sentAt: clock.now(), params, options, outcome: call.then(() => null, (err: unknown) => err) });
      return call;
    },
  };
  return {
    client: observed,
    calls,
    settled: async (index) => {
      const deadline = Date.now() + DEADLINE_MS;
      while (calls[index] === undefined) {
        if (Date.now() > deadline) throw new Error(`no beat #${index + 1} within ${DEADLINE_MS} ms`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const outcome = await withDeadline((calls[index] as BeatCall).outcome, `beat #${index + 1} to settle`);
      // The stream's own handler of the outcome ran before ours; one turn more is for certain.
      await new Promise((resolve) => setImmediate(resolve));
      return outcome;
    },
  };
}

function withDeadline<T>(promise: Promise<T>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${DEADLINE_MS} ms`)), DEADLINE_MS);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
