/**
 * What every command of the model-based property shares: the store under test and the step
 * wrapper that compares the whole environment after a step and adds the run's trace to a mismatch.
 */
import type fc from 'fast-check';
import type { VirtualClock } from '@envworker/core';
import type { EnvironmentRecord, WorkStore } from '../../src/store/work-store.js';
import type { Coverage } from './coverage.js';
import { ModelMismatch } from './model-mismatch.js';
import type { ModelItem, ReferenceModel } from './reference-model.js';
import { checkEnvironment } from './store-checks.js';

/** The store under test and what the commands share about it during one run. */
export interface StoreUnderTest {
  readonly store: WorkStore;
  readonly clock: VirtualClock;
  readonly environment: EnvironmentRecord;
  /** A queued item of another environment: every call naming it in `environment` is a 404. */
  readonly foreign: { readonly environmentId: string; readonly workId: string };
  /** The `Anthropic-Worker-ID`s that poll in this run. */
  readonly workerIds: readonly string[];
  readonly coverage: Coverage;
  /** What each step did, resolved against the model; printed with a mismatch. */
  readonly trace: string[];
}

/** A command of the property. */
export type StoreCmd = fc.AsyncCommand<ReferenceModel, StoreUnderTest>;

/** How the trace names an item: its place in enqueue order. */
export function label(m: ReferenceModel, item: ModelItem): string {
  return `#${m.items().indexOf(item)}`;
}

/** A step: runs `exec`, then (when `observe`) compares every item, the stats and every token with the model. */
export abstract class StoreCommand implements StoreCmd {
  /** Whether the environment is compared with the model after this step. */
  protected observe = true;

  abstract check(m: Readonly<ReferenceModel>): boolean;
  protected abstract exec(m: ReferenceModel, r: StoreUnderTest): Promise<void>;
  abstract toString(): string;

  async run(m: ReferenceModel, r: StoreUnderTest): Promise<void> {
    try {
      await this.exec(m, r);
      if (this.observe) await checkEnvironment(m, r.store, r.environment, `after ${this.toString()}`);
    } catch (error) {
      if (!(error instanceof ModelMismatch)) throw error;
      const items = m.items().map((item, index) => `#${index}=${item.id}`).join(' ');
      throw new ModelMismatch(`${error.message}\n  steps run:\n    ${r.trace.join('\n    ')}\n  items: ${items}`);
    }
  }
}

/** `check` of the commands that act on an item: fast-check skips them until one exists. */
export const needsItem = (m: Readonly<ReferenceModel>): boolean => m.items().length > 0;
