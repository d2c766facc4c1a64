/**
 * A `WorkClient` that reports every call the worker makes: whether the control plane answered
 * (any HTTP answer, errors included), how long a call took, and each failure by status. The
 * health check, the live view and `envworker_api_errors_total` are built on it.
 */
import {
  ABORTED,
  WorkApiError,
  WorkClient,
  type CallOptions,
  type HeartbeatParams,
  type HeartbeatResponse,
  type PollParams,
  type StopParams,
  type Work,
  type WorkClientOptions,
} from '@envworker/core';

/** Told of each call's end. `status` is `null` when no HTTP answer came. */
export interface CallObserver {
  /** The control plane answered (a success, or an error with a status), `latencyMs` after the call began. */
  answered(operation: string, latencyMs: number): void;
  /** The call failed, after the client's own retries; not told of calls the worker aborted itself. */
  failed(operation: string, status: number | null): void;
}

/** The worker's client, observed. Only the calls a worker makes are observed. */
export class ObservedWorkClient extends WorkClient {
  readonly #observer: CallObserver;
  readonly #now: () => number;

  constructor(options: WorkClientOptions, observer: CallObserver, now: () => number = () => performance.now()) {
    super(options);
    this.#observer = observer;
    this.#now = now;
  }

  override poll(params: PollParams, options?: CallOptions): Promise<Work | null> {
    return this.#observe('poll', () => super.poll(params, options));
  }

  override ack(workId: string, options?: CallOptions): Promise<Work> {
    return this.#observe('ack', () => super.ack(workId, options));
  }

  override get(workId: string, options?: CallOptions): Promise<Work> {
    return this.#observe('get', () => super.get(workId, options));
  }

  override heartbeat(workId: string, params?: HeartbeatParams, options?: CallOptions): Promise<HeartbeatResponse> {
    return this.#observe('heartbeat', () => super.heartbeat(workId, params, options));
  }

  override stop(workId: string, params?: StopParams, options?: CallOptions): Promise<Work> {
    return this.#observe('stop', () => super.stop(workId, params, options));
  }

  async #observe<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const began = this.#now();
    try {
      const result = await call();
      this.#observer.answered(operation, this.#now() - began);
      return result;
    } catch (error) {
      if (error instanceof WorkApiError && error.type !== ABORTED) {
        if (error.status !== null) this.#observer.answered(operation, this.#now() - began);
        this.#observer.failed(operation, error.status);
      }
      throw error;
    }
  }
}
