/**
 * Enqueueing with a session: the session record is made first and the item then enqueued for
 * it; if the enqueue fails the record goes again, so nothing half-done is left. An item for a
 * session id that exists reuses that session unless it brings a script of its own (409).
 */
import { SessionSpecSchema, type SessionSpec, type Work } from '@envworker/core';
import { newId } from '../ids.js';
import { ApiError } from '../server/api-error.js';
import type { EnqueueInput, WorkStore } from '../store/work-store.js';
import type { MemorySessionStore } from './session-store.js';

/** The enqueue body's `session`, checked; a 400 names the first bad field (`session.script[2].input: …`). */
export function parseSessionSpec(raw: unknown): SessionSpec {
  const parsed = SessionSpecSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const { path, message } = innermost(parsed.error.issues[0]);
  const field = ['session', ...path].map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`)).join('');
  throw ApiError.invalid(`${field}: ${message}`);
}

type Issue = { readonly path: readonly PropertyKey[]; readonly message: string; readonly code?: string; readonly errors?: readonly (readonly Issue[])[] };

/**
 * The issue to report. A step matches none of the step shapes: the shape it was meant as is the
 * one whose keys it has (fewest unknown or missing keys), and that shape's first problem is named.
 */
function innermost(issue: Issue | undefined): { path: readonly PropertyKey[]; message: string } {
  if (issue === undefined) return { path: [], message: 'invalid' };
  if (issue.code !== 'invalid_union' || issue.errors === undefined || issue.errors.length === 0) return { path: issue.path, message: issue.message };
  const misfit = (branch: readonly Issue[]): number => branch.filter((inner) => inner.code === 'unrecognized_keys' || (inner.path.length === 1 && /received undefined/.test(inner.message))).length;
  const best = [...issue.errors].sort((a, b) => misfit(a) - misfit(b))[0] ?? [];
  const inner = innermost(best[0]);
  return { path: [...issue.path, ...inner.path], message: inner.message };
}

/** Enqueues `input`, making (or reusing) the session of a session item. */
export async function enqueueWithSession(store: WorkStore, sessions: MemorySessionStore, environmentId: string, input: EnqueueInput, spec: SessionSpec | undefined): Promise<Work> {
  const type = input.data?.type ?? 'session';
  if (type !== 'session') {
    if (spec !== undefined) throw ApiError.invalid('session: only a session item has a session');
    return store.enqueue(environmentId, input);
  }
  const sessionId = input.data?.id ?? newId('sesn_');
  const existing = sessions.get(sessionId);
  if (existing !== undefined) {
    if (spec !== undefined) throw new ApiError(409, 'invalid_request_error', `session: ${sessionId} exists already; enqueue without a session to reuse it`);
    if (existing.environmentId !== environmentId) throw new ApiError(409, 'invalid_request_error', `data.id: ${sessionId} is a session of another environment`);
    const work = await store.enqueue(environmentId, { ...input, data: { type: 'session', id: sessionId } });
    existing.workId = work.id;
    return work;
  }
  const session = sessions.create(sessionId, environmentId, spec ?? {});
  try {
    const work = await store.enqueue(environmentId, { ...input, data: { type: 'session', id: sessionId } });
    session.workId = work.id;
    return work;
  } catch (error) {
    sessions.remove(sessionId);
    throw error;
  }
}
