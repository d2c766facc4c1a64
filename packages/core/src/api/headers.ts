/**
 * The fixed request headers of the Work API (contract §1): the API version, the beta flags and
 * the user agent. Credentials are chosen per call in `auth.ts`.
 */
import { PACKAGE_NAME, VERSION } from '../version.js';

/** The `anthropic-version` the client sends: what `@anthropic-ai/sdk` 1.14.0 sends. */
export const ANTHROPIC_VERSION = '2026-10-21';

/** The beta flag that enables the Work API; always sent, after any betas the caller adds. */
export const MANAGED_AGENTS_BETA = 'managed-agents-2026-04-01';

/** The default `user-agent`: `@envworker/core/<version>`. */
export const DEFAULT_USER_AGENT = `${PACKAGE_NAME}/${VERSION}`;

/**
 * The `anthropic-beta` value: the caller's betas in their order, then {@link MANAGED_AGENTS_BETA},
 * each once.
 */
export function betaHeaderValue(betas: readonly string[]): string {
  return [...new Set([...betas, MANAGED_AGENTS_BETA])].join(',');
}
