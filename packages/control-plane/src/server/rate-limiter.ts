/**
 * An optional per-credential request limit: a token bucket per principal, refilled on the
 * injected clock, so tests can drive it in virtual time.
 */
import type { Clock } from '@envworker/core';

/** The limit: a steady rate, and a burst (the bucket's size; the rate by default). */
export interface RateLimitOptions {
  readonly requestsPerSecond: number;
  readonly burst?: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Buckets kept before full (idle) ones are forgotten. */
const MAX_IDLE_BUCKETS = 10_000;

export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #clock: Clock;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RateLimitOptions, clock: Clock) {
    this.#rate = options.requestsPerSecond;
    this.#burst = options.burst ?? options.requestsPerSecond;
    this.#clock = clock;
  }

  /** Takes one token for `key`: `0` when allowed, else how many seconds to wait (≥ 1) before retrying. */
  take(key: string): number {
    const now = this.#clock.now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= MAX_IDLE_BUCKETS) this.#forgetFullBuckets(now);
      bucket = { tokens: this.#burst, updatedAt: now };
      this.#buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.#rate);
    bucket.updatedAt = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate));
  }

  /** A full bucket is the same as no bucket: dropping it bounds memory when credentials come and go. */
  #forgetFullBuckets(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1000) * this.#rate >= this.#burst) this.#buckets.delete(key);
    }
  }
}
