/**
 * Who is calling, and may they call this. Credentials (contract §1): `Authorization: Bearer
 * <environment key | sessions token>`, or `x-api-key: <admin key>`, never both. Messages name
 * the header at fault and never repeat a credential.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { BearerPrincipal, WorkStore } from '../store/work-store.js';
import { ApiError } from './api-error.js';

/** The caller of a request: the admin key, or what a bearer credential resolved to. */
export type Principal = { readonly kind: 'admin' } | BearerPrincipal;

/** Which kinds of credential an endpoint accepts. */
export interface AccessRule {
  readonly environmentKey: boolean;
  readonly sessionsToken: boolean;
  readonly admin: boolean;
}

/** The path parameters that scope a request. */
export interface Scope {
  readonly environmentId?: string;
  readonly workId?: string;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** Compares the admin key in constant time (a hash first, so lengths leak nothing either). */
export function adminKeyMatcher(adminKey: string): (candidate: string) => boolean {
  const expected = createHash('sha256').update(adminKey).digest();
  return (candidate) => timingSafeEqual(createHash('sha256').update(candidate).digest(), expected);
}

/** Resolves the request's credential; 400 when both headers are sent, 401 when none or an unknown one. */
export async function authenticate(
  headers: IncomingHttpHeaders,
  store: WorkStore,
  isAdminKey: (candidate: string) => boolean,
): Promise<Principal> {
  const authorization = headers.authorization;
  const apiKey = headers['x-api-key'];
  if (authorization !== undefined && apiKey !== undefined) {
    throw ApiError.invalid('authorization, x-api-key: send one credential, not both headers');
  }
  if (apiKey !== undefined) {
    if (typeof apiKey !== 'string' || !isAdminKey(apiKey)) throw ApiError.authentication('x-api-key: unknown key');
    return { kind: 'admin' };
  }
  if (authorization === undefined) {
    throw ApiError.authentication('missing credential: send Authorization: Bearer <key>, or x-api-key for operator calls');
  }
  const match = BEARER.exec(authorization);
  if (match === null) throw ApiError.authentication('authorization: must be "Bearer <credential>"');
  const principal = await store.resolveBearer(match[1] as string);
  if (principal === null) throw ApiError.authentication('authorization: unknown or revoked credential');
  return principal;
}

/** Refuses (403) a principal that this endpoint does not accept, or that belongs elsewhere. */
export function authorize(principal: Principal, rule: AccessRule, scope: Scope): void {
  switch (principal.kind) {
    case 'admin':
      if (!rule.admin) throw ApiError.permission('this endpoint does not accept the admin key');
      return;
    case 'environment':
      if (!rule.environmentKey) throw ApiError.permission('this endpoint does not accept an environment key');
      if (principal.environmentId !== scope.environmentId) {
        throw ApiError.permission('the environment key belongs to another environment');
      }
      return;
    case 'session':
      if (!rule.sessionsToken) throw ApiError.permission('this endpoint does not accept a sessions token');
      if (principal.environmentId !== scope.environmentId || principal.workId !== scope.workId) {
        throw ApiError.permission('the sessions token belongs to another work item');
      }
      return;
  }
}

/** A stable name of a principal, safe to use as a map key or in a log (it holds no secret). */
export function principalId(principal: Principal): string {
  switch (principal.kind) {
    case 'admin':
      return 'admin';
    case 'environment':
      return `environment:${principal.environmentId}`;
    case 'session':
      return `session:${principal.environmentId}/${principal.workId}`;
  }
}
