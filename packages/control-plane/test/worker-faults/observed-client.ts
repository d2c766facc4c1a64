/**
 * The real `WorkClient` of one worker, observed: it counts the calls in progress (so `settle()`
 * can tell a call on the wire from a quiet worker) and reports every call as the worker makes it,
 * in the worker's own order of events (a stop posted before or after a lost lease).
 *
 * The worker gets it with `retry: { maxRetries: 0 }`: each call is then one HTTP attempt, so a
 * call in progress is a request on the wire, never a backoff sleep on the clock. The retry layers
 * under test are the worker's own (poll backoff, ack window, stop-call retries, heartbeat ticks);
 * the client's retry loop has its own tests in core.
 */
import {
  WorkClient,
  type CallOptions,
  type HeartbeatParams,
  type HeartbeatResponse,
  type PollParams,
  type StopParams,
  type Work,
  type WorkClientOptions,
} from '@envworker/core';

/** One call as the worker made it. */
export interface ClientCall {
  readonly op: 'poll' | 'ack' | 'get' | 'heartbeat' | 'stop';
  readonly workId: string | null;
  /** A stop's `force`; `null` for other calls. */
  readonly force: boolean | null;
}

export class ObservedClient extends WorkClient {
  readonly #onCall: (call: ClientCall) => void;
  #active = 0;

  constructor(options: WorkClientOptions, onCall: (call: ClientCall) => void) {
    super({ ...options, retry: { maxRetries: 0 } });
    this.#onCall = onCall;
  }

  /** Calls started and not yet settled. */
  get active(): number {
    return this.#active;
  }

  override poll(params: PollParams, options: CallOptions = {}): Promise<Work | null> {
    return this.#observe({ op: 'poll', workId: null, force: null }, () => super.poll(params, options));
  }

  override ack(workId: string, options: CallOptions = {}): Promise<Work> {
    return this.#observe({ op: 'ack', workId, force: null }, () => super.ack(workId, options));
  }

  override get(workId: string, options: CallOptions = {}): Promise<Work> {
    return this.#observe({ op: 'get', workId, force: null }, () => super.get(workId, options));
  }

  override heartbeat(workId: string, params: HeartbeatParams = {}, options: CallOptions = {}): Promise<HeartbeatResponse> {
    return this.#observe({ op: 'heartbeat', workId, force: null }, () => super.heartbeat(workId, params, options));
  }

  override stop(workId: string, params: StopParams = {}, options: CallOptions = {}): Promise<Work> {
    return this.#observe({ op: 'stop', workId, force: params.force === true }, () => super.stop(workId, params, options));
  }

  #observe<T>(call: ClientCall, send: () => Promise<T>): Promise<T> {
    this.#onCall(call);
    this.#active += 1;
    return send().finally(() => {
      this.#active -= 1;
    });
  }
}
