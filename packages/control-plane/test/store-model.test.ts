/**
 * The memory store against the reference model of the Work API lifecycle (contract §4): random
 * interleavings of every store operation and of clock moves, compared step by step.
 */
import { describe, expect, it } from 'vitest';
import { MemoryWorkStore } from '../src/store/memory-store.js';
import type { LeasePolicy } from '../src/store/work-store.js';
import { REQUIRED_ROWS } from './model/coverage.js';
import { checkStoreAgainstModel } from './model/check-store.js';
import { FAULTY_STORES } from './model/faulty-stores.js';

/** Short TTLs, so that random clock moves end leases often; bounds that differ from the defaults. */
const lease: LeasePolicy = { minTtlSeconds: 10, maxTtlSeconds: 90, defaultTtlSeconds: 30 };

describe('MemoryWorkStore against the reference model', () => {
  it('answers every interleaving of operations and clock moves as contract §4 says', async () => {
    const coverage = await checkStoreAgainstModel(async (clock) => new MemoryWorkStore({ clock, lease }), { lease });
    for (const row of REQUIRED_ROWS) expect(coverage.get(row), row).toBeGreaterThan(0);
  });
});

describe('the model-based property', () => {
  it.each(FAULTY_STORES)('notices a store where $fault', async ({ wrap, noticedAs }) => {
    const check = checkStoreAgainstModel(async (clock) => wrap(new MemoryWorkStore({ clock, lease })), {
      lease,
      endOnFailure: true,
      requireCoverage: false,
    });
    await expect(check).rejects.toThrow(noticedAs);
  });
});
