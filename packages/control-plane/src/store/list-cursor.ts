/**
 * The `next_page` cursor of `list`: the position (created_at, id) of the last item of a page,
 * encoded as opaque base64url. Pages are keyset-paginated on that position, newest first, so an
 * item added while a client pages is never skipped or repeated (it sorts before every cursor).
 *
 * A cursor carries a check digest over its environment and position, so an altered, truncated
 * or other environment's cursor is refused rather than silently listing from somewhere else. The
 * digest is not keyed: a forged position would only list the caller's own environment, so there
 * is nothing to protect beyond catching mistakes, and any replica can check any cursor.
 */
import { createHash } from 'node:crypto';
import { ID_PREFIXES } from '@envworker/core';
import { isId } from '../ids.js';
import { StoreError } from './store-error.js';

/** A position in the newest-first order of a list. */
export interface ListPosition {
  /** `created_at` in microseconds since the epoch. */
  readonly createdAtMicros: number;
  readonly id: string;
}

const CURSOR_TEXT = /^v1:(\d{1,16}):([^:]+):([A-Za-z0-9_-]{11})$/;

export function encodeListCursor(environmentId: string, position: ListPosition): string {
  const text = `v1:${position.createdAtMicros}:${position.id}:${check(environmentId, position)}`;
  return Buffer.from(text, 'utf8').toString('base64url');
}

/**
 * Decodes a cursor that `encodeListCursor` made for this environment. Anything else is a 400
 * naming `page` (the message never repeats the input).
 */
export function decodeListCursor(environmentId: string, cursor: string): ListPosition {
  const invalid = StoreError.invalid('page: not a cursor from this list; pass next_page from an earlier list response');
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw invalid;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  // A changed last character can decode to the same bytes; only the canonical form is accepted.
  if (Buffer.from(text, 'utf8').toString('base64url') !== cursor) throw invalid;
  const match = CURSOR_TEXT.exec(text);
  if (match === null) throw invalid;
  const position = { createdAtMicros: Number(match[1]), id: match[2] as string };
  if (!Number.isSafeInteger(position.createdAtMicros) || !isId(ID_PREFIXES.work, position.id)) throw invalid;
  if (match[3] !== check(environmentId, position)) throw invalid;
  return position;
}

/** Orders positions newest first: negative when `a` comes before `b` in a list. */
export function compareNewestFirst(a: ListPosition, b: ListPosition): number {
  if (a.createdAtMicros !== b.createdAtMicros) return b.createdAtMicros - a.createdAtMicros;
  if (a.id === b.id) return 0;
  return a.id < b.id ? 1 : -1;
}

function check(environmentId: string, position: ListPosition): string {
  return createHash('sha256')
    .update(`${environmentId}\n${position.createdAtMicros}\n${position.id}`)
    .digest('base64url')
    .slice(0, 11);
}
