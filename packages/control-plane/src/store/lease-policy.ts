/** The lease TTL policy of a store: defaults from the contract, overridable, checked once. */
import { DEFAULT_LEASE } from '@envworker/core';
import type { LeasePolicy } from './work-store.js';

/**
 * Completes a partial policy with the contract's defaults (10, 600, 120 seconds) and checks it:
 * whole seconds, `1 ≤ min ≤ default ≤ max`. Throws a `RangeError` naming the field.
 */
export function resolveLeasePolicy(partial: Partial<LeasePolicy> = {}): LeasePolicy {
  const policy: LeasePolicy = {
    minTtlSeconds: partial.minTtlSeconds ?? DEFAULT_LEASE.minTtlSeconds,
    maxTtlSeconds: partial.maxTtlSeconds ?? DEFAULT_LEASE.maxTtlSeconds,
    defaultTtlSeconds: partial.defaultTtlSeconds ?? DEFAULT_LEASE.defaultTtlSeconds,
  };
  for (const [name, value] of Object.entries(policy)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`lease.${name}: must be an integer ≥ 1, got ${String(value)}`);
  }
  if (policy.minTtlSeconds > policy.maxTtlSeconds) {
    throw new RangeError(`lease.minTtlSeconds (${policy.minTtlSeconds}) must not exceed lease.maxTtlSeconds (${policy.maxTtlSeconds})`);
  }
  if (policy.defaultTtlSeconds < policy.minTtlSeconds || policy.defaultTtlSeconds > policy.maxTtlSeconds) {
    throw new RangeError(
      `lease.defaultTtlSeconds (${policy.defaultTtlSeconds}) must lie within [${policy.minTtlSeconds}, ${policy.maxTtlSeconds}]`,
    );
  }
  return policy;
}

/** The TTL a heartbeat gets: the desired one clamped to the policy, or the default when omitted. */
export function clampTtl(policy: LeasePolicy, desiredTtlSeconds: number | undefined): number {
  if (desiredTtlSeconds === undefined) return policy.defaultTtlSeconds;
  return Math.min(policy.maxTtlSeconds, Math.max(policy.minTtlSeconds, desiredTtlSeconds));
}
