/**
 * Which credential each call carries (contract §1). A call sends either `authorization: Bearer`
 * or `x-api-key`, never both, and a call with no usable credential fails before any I/O.
 */

/**
 * The credential rule of a call:
 * - `environment`: the environment key (poll, ack);
 * - `lease`: the item's sessions token, else the environment key (heartbeat);
 * - `operator`: the sessions token if given, else the environment key, else the operator API key
 *   (get, list, update, stats, stop);
 * - `admin`: the operator API key (the local control plane's admin endpoints).
 * An explicit per-call credential is sent as the bearer credential under every rule.
 */
export type CredentialRule = 'environment' | 'lease' | 'operator' | 'admin';

/** The client's configured credentials. */
export interface Credentials {
  readonly environmentKey: string | null;
  readonly apiKey: string | null;
}

/** The auth headers of one call. */
export type AuthHeaders = { authorization: string } | { 'x-api-key': string };

/** Picks the auth header of a call, or throws an error naming the missing credential (never its value). */
export function authHeaders(
  operation: string,
  rule: CredentialRule,
  credentials: Credentials,
  override: string | undefined,
): AuthHeaders {
  if (override !== undefined) return { authorization: `Bearer ${override}` };
  const { environmentKey, apiKey } = credentials;
  switch (rule) {
    case 'environment':
      if (environmentKey !== null) return { authorization: `Bearer ${environmentKey}` };
      throw new Error(`WorkClient.${operation} needs the environment key: set options.environmentKey`);
    case 'lease':
      if (environmentKey !== null) return { authorization: `Bearer ${environmentKey}` };
      throw new Error(
        `WorkClient.${operation} needs a credential: pass the item's sessions token as callOptions.credential, or set options.environmentKey`,
      );
    case 'operator':
      if (environmentKey !== null) return { authorization: `Bearer ${environmentKey}` };
      if (apiKey !== null) return { 'x-api-key': apiKey };
      throw new Error(`WorkClient.${operation} needs a credential: set options.environmentKey or options.apiKey`);
    case 'admin':
      if (apiKey !== null) return { 'x-api-key': apiKey };
      throw new Error(`WorkClient.${operation} needs the admin key: set options.apiKey`);
  }
}
