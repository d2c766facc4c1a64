/**
 * The model-based property of a `WorkStore`: random interleavings of every operation and of clock
 * moves, each step held to the reference model of contract §4. Any store implementation runs it
 * unchanged by passing a factory; the factory must build the store on the given clock with the
 * given lease policy.
 *
 * @example
 * ```ts
 * it('follows the contract', async () => {
 *   await checkStoreAgainstModel(async (clock) => new MemoryWorkStore({ clock, lease }), { lease });
 * });
 * ```
 */
import fc from 'fast-check';
import { VirtualClock } from '@envworker/core';
import type { LeasePolicy, WorkStore } from '../../src/store/work-store.js';
import { Coverage } from './coverage.js';
import { ModelMismatch } from './model-mismatch.js';
import { ReferenceModel } from './reference-model.js';
import { checkEnvironment } from './store-checks.js';
import { storeCommands } from './command-arbitraries.js';
import type { StoreUnderTest } from './store-command.js';

/** Where every run's clock starts (integer milliseconds, as every clock move keeps it). */
export const MODEL_START_MS = Date.parse('2026-11-28T17:00:00.000Z');

export interface StoreModelOptions {
  /** The lease policy the factory gives the store. */
  readonly lease: LeasePolicy;
  /** Sequences to try; default 200. */
  readonly numRuns?: number;
  /** Longest sequence of operations; default 60. */
  readonly maxCommands?: number;
  /** Replays a reported failure (with `path`). */
  readonly seed?: number;
  readonly path?: string;
  /** Stop at the first failure without shrinking it. */
  readonly endOnFailure?: boolean;
  /** Fail when some row of the lifecycle table was never exercised; default true. */
  readonly requireCoverage?: boolean;
}

/**
 * Runs the property; rejects with fast-check's report (the shrunk sequence of operations and the
 * first difference from the model) when the store departs from the contract. Resolves to how often
 * each row of the lifecycle table was exercised.
 */
export async function checkStoreAgainstModel(
  makeStore: (clock: VirtualClock) => Promise<WorkStore>,
  options: StoreModelOptions,
): Promise<ReadonlyMap<string, number>> {
  const coverage = new Coverage();
  const property = fc.asyncProperty(fc.integer({ min: 2, max: 4 }), storeCommands(options.lease, options.maxCommands ?? 100), async (workers, commands) => {
    const clock = new VirtualClock(MODEL_START_MS);
    const store = await makeStore(clock);
    try {
      const environment = await store.createEnvironment({ name: 'model' });
      const elsewhere = await store.createEnvironment({ name: 'elsewhere' });
      const foreignWork = await store.enqueue(elsewhere.id, {});
      const principal = await store.resolveBearer(environment.key);
      if (principal?.kind !== 'environment' || principal.environmentId !== environment.id) {
        throw new ModelMismatch(`the environment key resolves to ${JSON.stringify(principal)}`);
      }
      const model = new ReferenceModel(options.lease, MODEL_START_MS);
      const real: StoreUnderTest = {
        store,
        clock,
        environment,
        foreign: { environmentId: elsewhere.id, workId: foreignWork.id },
        workerIds: ['worker-a', 'worker-b', 'worker-c', 'worker-d'].slice(0, workers),
        coverage,
        trace: [],
      };
      await fc.asyncModelRun(() => ({ model, real }), commands);
      await checkEnvironment(model, store, environment, 'at the end of the run');
    } finally {
      await store.close();
    }
  });
  await fc.assert(property, {
    numRuns: options.numRuns ?? 200,
    // The report then carries the model's explanation, not only the failing sequence.
    includeErrorInReport: true,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.path === undefined ? {} : { path: options.path }),
    ...(options.endOnFailure === undefined ? {} : { endOnFailure: options.endOnFailure }),
  });
  const missing = coverage.missing();
  if ((options.requireCoverage ?? true) && missing.length > 0) {
    throw new Error(`the property never exercised these rows of the lifecycle table: ${missing.join('; ')}`);
  }
  return coverage.counts();
}
