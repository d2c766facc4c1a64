/**
 * The environment of the `--on-work` contract, built from a polled work item and the worker's own
 * settings. This is the only place that decides what a sandbox is told.
 */
import type { Work } from '../api/wire.js';
import type { OnWorkEnvironment } from './sandbox-runtime.js';

/** The names of the `--on-work` variables, in the order the contract lists them. */
export const ON_WORK_VARIABLES = [
  'ANTHROPIC_WORK_ID',
  'ANTHROPIC_ENVIRONMENT_ID',
  'ANTHROPIC_SESSION_ID',
  'ANTHROPIC_ENVIRONMENT_KEY',
  'ANTHROPIC_BASE_URL',
  'ANTHROPIC_WORK_SECRET',
] as const satisfies readonly (keyof OnWorkEnvironment)[];

/** What {@link buildOnWorkEnvironment} needs. */
export interface OnWorkEnvironmentInput {
  /** The work item as polled; its `secret`, when non-null, is passed on as is. */
  readonly work: Work;
  /** The environment the worker polls; must be the item's `environment_id`. */
  readonly environmentId: string;
  /** The environment key the worker holds. */
  readonly environmentKey: string;
  /** The Work API base URL the sandbox should call (`http` or `https`). */
  readonly baseUrl: string;
}

/**
 * Builds the `--on-work` environment of one session work item. `ANTHROPIC_WORK_SECRET` is present
 * only when the item carries a `secret`. Throws a `TypeError` naming the field when an input is
 * unusable; the environment key never appears in the message.
 */
export function buildOnWorkEnvironment(input: OnWorkEnvironmentInput): OnWorkEnvironment {
  const { work, environmentId, environmentKey, baseUrl } = input;
  if (typeof environmentId !== 'string' || environmentId.length === 0) {
    throw new TypeError('environmentId must be a non-empty string');
  }
  if (typeof environmentKey !== 'string' || environmentKey.length === 0) {
    throw new TypeError('environmentKey must be a non-empty string');
  }
  if (!isHttpUrl(baseUrl)) throw new TypeError(`baseUrl must be an http or https URL, got ${JSON.stringify(baseUrl)}`);
  if (work.environment_id !== environmentId) {
    throw new TypeError(
      `work.environment_id (${work.environment_id}) does not match environmentId (${environmentId}); the item belongs to another environment`,
    );
  }
  if (work.data.type !== 'session') {
    throw new TypeError(`work.data.type must be "session" to run in a sandbox, got "${work.data.type}"`);
  }
  const base = {
    ANTHROPIC_WORK_ID: work.id,
    ANTHROPIC_ENVIRONMENT_ID: environmentId,
    ANTHROPIC_SESSION_ID: work.data.id,
    ANTHROPIC_ENVIRONMENT_KEY: environmentKey,
    ANTHROPIC_BASE_URL: baseUrl,
  };
  return Object.freeze(work.secret === null ? base : { ...base, ANTHROPIC_WORK_SECRET: work.secret });
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
