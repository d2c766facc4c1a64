/**
 * One run of the official loop: the SDK's `WorkPoller` in this process, used as its documentation
 * shows (one item at a time: poll, ack, the loop body, stop). The body holds the item `holdMs`;
 * the run ends when the loop has left after the last item, whose stop the poller posts on `break`.
 */
import { performance } from 'node:perf_hooks';
import Anthropic from '@anthropic-ai/sdk';
import type { Target } from './envworker-run.js';
import { sleep } from './wait.js';

export interface OfficialRunOptions {
  readonly target: Target;
  readonly items: number;
  readonly holdMs: number;
  readonly deadlineMs: number;
}

/** Items per second from the first poll to the stop of the last item. */
export async function officialItemsPerSecond(options: OfficialRunOptions): Promise<number> {
  const { url, environmentId, environmentKey } = options.target;
  const client = new Anthropic({ baseURL: url, authToken: environmentKey, logLevel: 'error' });
  const poller = client.beta.environments.work.poller({
    environmentId,
    environmentKey,
    workerId: 'bench-official-poller',
  });
  // The poller sleeps 1–3 s after an empty poll; every item is queued before it starts, so an
  // empty poll means the run has gone wrong, and the deadline ends it.
  const timer = setTimeout(() => poller.abort(), options.deadlineMs);
  let served = 0;
  const startedAt = performance.now();
  try {
    for await (const _work of poller) {
      if (options.holdMs > 0) await sleep(options.holdMs);
      served += 1;
      if (served === options.items) break;
    }
  } finally {
    clearTimeout(timer);
  }
  const endedAt = performance.now();
  if (served !== options.items) throw new Error(`official run: ${served} of ${options.items} items served within ${options.deadlineMs} ms`);
  return options.items / ((endedAt - startedAt) / 1000);
}
