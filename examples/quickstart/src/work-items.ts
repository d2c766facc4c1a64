/**
 * What the quickstart enqueues: one item per short text, each to be counted by the sample program
 * in a few steps. One item, the one the operator will stop, is a slow one (many steps), so that it
 * is surely still running when the worker's next heartbeat brings the stop request.
 */

/** Steps (200 ms each) of an ordinary item: about 1.2 s of visible work. */
export const ITEM_STEPS = 6;
/**
 * Steps of the item the operator stops: 60 s if nothing stopped it. The worker learns of the
 * stop at its next heartbeat (at most a third of the lease TTL later), well within that.
 */
export const SLOW_ITEM_STEPS = 300;

const TEXTS: readonly string[] = [
  'A journey of a thousand miles begins with a single step.',
  'The quick brown fox jumps over the lazy dog.',
  'All that glitters is not gold; all who wander are not lost.',
  'Where there is a will there is a way.',
  'The early bird catches the worm, but the second mouse gets the cheese.',
  'Many hands make light work.',
  'An idle worker polls again; a busy one keeps its lease alive.',
  'Still waters run deep.',
];

/** The metadata of the `index`-th item. */
export function itemMetadata(index: number, slow: boolean): Record<string, string> {
  const text = TEXTS[index % TEXTS.length] as string;
  return { n: String(index), text, steps: String(slow ? SLOW_ITEM_STEPS : ITEM_STEPS) };
}

/** Which item the operator stops: the third (so it starts in the first round), or the last of fewer. */
export function stoppedItemIndex(items: number): number {
  return Math.min(2, items - 1);
}
