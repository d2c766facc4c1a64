/**
 * Walking a cursor-paginated listing. The cursor is opaque, so the only sanity check a client can
 * make is that it never comes back: a repeated cursor means the walk would loop forever.
 */
import { INVALID_RESPONSE, WorkApiError } from './errors.js';

/** One fetched page: its items and the cursor of the next page (`null` on the last). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly next: string | null;
}

/**
 * Yields every item of every page, fetching each page only when the previous one is consumed.
 * Throws a `WorkApiError` of type `invalid_response` when the server repeats a cursor.
 */
export async function* paginate<T>(
  operation: string,
  fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
): AsyncGenerator<T, void, undefined> {
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    yield* page.items;
    if (page.next === null) return;
    if (seen.has(page.next)) {
      throw new WorkApiError({
        operation,
        status: 200,
        type: INVALID_RESPONSE,
        message: `response of ${operation}: next_page repeats an earlier cursor, so the listing would never end`,
      });
    }
    seen.add(page.next);
    cursor = page.next;
  }
}
