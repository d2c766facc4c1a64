/**
 * Waiting on the injected clock in RxJS. RxJS's own `timer` and `delay` run on its schedulers,
 * which read the real time; envworker's waits must run on its `Clock` so that tests can drive
 * them in virtual time.
 */
import { EMPTY, Observable } from 'rxjs';
import type { Clock } from '../time/clock.js';

/**
 * Completes `ms` milliseconds after it is subscribed, on `clock`, emitting nothing; a wait of 0
 * or less completes at once. Unsubscribing clears the timer.
 */
export function clockDelay$(clock: Clock, ms: number): Observable<never> {
  if (!(ms > 0)) return EMPTY;
  return new Observable<never>((subscriber) => {
    const handle = clock.setTimeout(() => subscriber.complete(), ms);
    return () => clock.clearTimeout(handle);
  });
}
