/**
 * What each served session is doing, for the live view: the number of tool calls it made and
 * its latest one (`bash ok 12ms`), fed by the session runtime's `toolCalls$`. Items are
 * forgotten once they leave the worker's status, so a long-running worker holds no history.
 */
import type { ToolCallRecord } from '@envworker/runtime-session';
import type { Observable, Subscription } from 'rxjs';

/** One item's tool calls so far. */
export interface ItemActivity {
  readonly calls: number;
  readonly last: ToolCallRecord;
}

/** The latest tool call of each item, kept while the item is in the worker's status. */
export class ToolActivity {
  readonly #items = new Map<string, ItemActivity>();
  readonly #subscription: Subscription;

  constructor(toolCalls$: Observable<ToolCallRecord>) {
    this.#subscription = toolCalls$.subscribe((record) => {
      const calls = (this.#items.get(record.workId)?.calls ?? 0) + 1;
      this.#items.set(record.workId, { calls, last: record });
    });
  }

  /** The activity of the items in `workIds`; every other item is forgotten. */
  snapshot(workIds: readonly string[]): ReadonlyMap<string, ItemActivity> {
    const current = new Set(workIds);
    for (const workId of this.#items.keys()) if (!current.has(workId)) this.#items.delete(workId);
    return new Map(this.#items);
  }

  stop(): void {
    this.#subscription.unsubscribe();
  }
}

/** `#3 bash ok 12ms`: the number of the call and how the latest one ended. */
export function activityText(activity: ItemActivity | undefined): string {
  if (activity === undefined) return '-';
  const { last } = activity;
  return `#${activity.calls} ${last.name} ${last.ending} ${Math.round(last.durationMs)}ms`;
}
