/**
 * The options that say which Work API to talk to and as whom, shared by every command that calls
 * one. They read the same variables as `ant beta:worker` and the `--on-work` contract.
 */
import { LOG_FORMATS, LOG_LEVELS } from '@envworker/core';
import { environmentId, headerToken, httpUrl, oneOf } from './option-spec.js';
import { option } from './resolve-options.js';

/** The hosted Work API, the default of `--base-url` (as in the official SDK). */
export const DEFAULT_BASE_URL = 'https://api.anthropic.com';

export const CONNECTION_OPTIONS = {
  environmentId: option({
    key: 'environment-id',
    kind: 'value',
    placeholder: '<id>',
    description: 'the environment whose work to serve (env_…)',
    env: 'ANTHROPIC_ENVIRONMENT_ID',
    parse: environmentId,
  }),
  environmentKey: option({
    key: 'environment-key',
    kind: 'value',
    placeholder: '<key>',
    description: "the environment key (prefer the variable: a flag's value shows in the process list)",
    env: 'ANTHROPIC_ENVIRONMENT_KEY',
    secret: true,
    parse: headerToken('an environment key'),
  }),
  baseUrl: option({
    key: 'base-url',
    kind: 'value',
    placeholder: '<url>',
    description: 'base URL of the Work API (the local control plane prints its url)',
    env: 'ANTHROPIC_BASE_URL',
    parse: httpUrl,
    defaultValue: DEFAULT_BASE_URL,
  }),
} as const;

export const LOG_OPTIONS = {
  logFormat: option({
    key: 'log-format',
    kind: 'value',
    placeholder: '<format>',
    description: 'log lines as json (one object a line) or text',
    env: 'ENVWORKER_LOG_FORMAT',
    parse: oneOf(LOG_FORMATS),
    defaultValue: 'json' as (typeof LOG_FORMATS)[number],
  }),
  logLevel: option({
    key: 'log-level',
    kind: 'value',
    placeholder: '<level>',
    description: `lowest level logged: ${LOG_LEVELS.join(', ')} (debug also prints stack traces of errors)`,
    env: 'ENVWORKER_LOG_LEVEL',
    parse: oneOf(LOG_LEVELS),
    defaultValue: 'info' as (typeof LOG_LEVELS)[number],
  }),
} as const;

/** The message for a missing environment id. */
export const MISSING_ENVIRONMENT_ID = 'missing the environment id: set --environment-id or ANTHROPIC_ENVIRONMENT_ID';
/** The message for a missing environment key. */
export const MISSING_ENVIRONMENT_KEY = 'missing the environment key: set --environment-key or ANTHROPIC_ENVIRONMENT_KEY';
