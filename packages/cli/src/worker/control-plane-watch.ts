/**
 * What the worker has seen of the control plane lately: when it last answered, and how fast its
 * recent answers came. Polls are left out of the latency: a long poll waits on purpose.
 */
import type { CallObserver } from './observed-client.js';

/** How many recent latencies the summary is taken over. */
const WINDOW = 50;

/** A summary of recent latencies, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly last: number;
  readonly p50: number;
  readonly max: number;
}

export class ControlPlaneWatch implements CallObserver {
  readonly #now: () => number;
  readonly #onFailure: (operation: string, status: number | null) => void;
  readonly #latencies: number[] = [];
  #lastAnswerAt: number | null = null;

  /**
   * @param now the clock answers are timed on (milliseconds).
   * @param onFailure told of each failed call, e.g. to count it in a metric.
   */
  constructor(now: () => number, onFailure: (operation: string, status: number | null) => void = () => undefined) {
    this.#now = now;
    this.#onFailure = onFailure;
  }

  answered(operation: string, latencyMs: number): void {
    this.#lastAnswerAt = this.#now();
    if (operation === 'poll') return;
    this.#latencies.push(latencyMs);
    if (this.#latencies.length > WINDOW) this.#latencies.shift();
  }

  failed(operation: string, status: number | null): void {
    this.#onFailure(operation, status);
  }

  /** Clock time of the last answer, or `null` before the first. */
  get lastAnswerAt(): number | null {
    return this.#lastAnswerAt;
  }

  /** The latencies of the last answers to calls other than polls; `null` before the first. */
  latency(): LatencySummary | null {
    const count = this.#latencies.length;
    if (count === 0) return null;
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    return {
      count,
      last: this.#latencies[count - 1] as number,
      p50: sorted[Math.floor((count - 1) / 2)] as number,
      max: sorted[count - 1] as number,
    };
  }
}
