/**
 * Which stop {force:true} ended each item, read from the recording proxies' exchanges: the
 * replicas' answers, not the workers' beliefs.
 *
 * An item is stopped by exactly one successful stop when the replicas answered exactly one of its
 * stops 200. When a replica died while serving a stop, the stop may have been applied without an
 * answer; then exactly one stop succeeded if no stop of the item was answered 200, one was left
 * unanswered (`cut` or `abandoned`), and a later stop of the same worker was answered 409 (already
 * stopped). That inference holds because in these runs nothing else stops an item: no operator
 * calls stop, workers never send stop {force:false} (so no item is ever `stopping`, and no lease
 * expiry can stop one), and a `stopped` item answers every further stop 409, never 200.
 */
import type { Exchange } from './recording-proxy.js';

/** The stop that ended an item, or why none or several did. */
export type ItemStop =
  | { readonly ok: true; readonly worker: string; readonly inferred: boolean }
  | { readonly ok: false; readonly problem: string };

/** The stop {force:true} calls of one item, answered or not. */
function stopsOf(exchanges: readonly Exchange[], workId: string): Exchange[] {
  return exchanges.filter((exchange) => exchange.op === 'stop' && exchange.force === true && exchange.workId === workId);
}

/** Decides, for one item, which single stop {force:true} ended it (see the file's comment). */
export function itemStop(exchanges: readonly Exchange[], workId: string): ItemStop {
  const stops = stopsOf(exchanges, workId);
  const succeeded = stops.filter((stop) => stop.status === 200);
  if (succeeded.length === 1) return { ok: true, worker: (succeeded[0] as Exchange).worker, inferred: false };
  if (succeeded.length > 1) return { ok: false, problem: `${workId}: ${succeeded.length} stops {force:true} answered 200 (by ${succeeded.map((stop) => stop.worker).join(', ')})` };
  const unanswered = stops.filter((stop) => stop.end === 'cut' || stop.end === 'abandoned');
  const confirmed = unanswered.find((lost) => stops.some((later) => later.worker === lost.worker && later.status === 409 && later.sentAt > lost.endedAt));
  if (confirmed !== undefined) return { ok: true, worker: confirmed.worker, inferred: true };
  const seen = stops.map((stop) => `${stop.worker}:${stop.status ?? stop.end}`).join(', ') || 'none';
  return { ok: false, problem: `${workId}: no stop {force:true} is known to have succeeded (stops seen: ${seen})` };
}
