/**
 * The options of `envworker run`: the `ant beta:worker run` contract's variables (a flag may
 * override each, except the item's secret, which is read from ANTHROPIC_WORK_SECRET only so that
 * it never shows in a process list), and how the session is served when no command is given.
 */
import { CONNECTION_OPTIONS, LOG_OPTIONS } from './connection-options.js';
import { duration, headerToken, httpUrl, integer, text, variableNames } from './option-spec.js';
import { DEFAULT_INHERIT_ENV } from './poll-options.js';
import { option } from './resolve-options.js';

const DAY_MS = 86_400_000;

export const RUN_OPTIONS = {
  workId: option({
    key: 'work-id',
    kind: 'value',
    placeholder: '<id>',
    description: 'the claimed work item to serve',
    env: 'ANTHROPIC_WORK_ID',
    parse: headerToken('a work id'),
  }),
  sessionId: option({
    key: 'session-id',
    kind: 'value',
    placeholder: '<id>',
    description: 'the session the item serves (for the log)',
    env: 'ANTHROPIC_SESSION_ID',
    parse: text,
  }),
  environmentId: CONNECTION_OPTIONS.environmentId,
  environmentKey: CONNECTION_OPTIONS.environmentKey,
  // No default here: the item's secret may name the API's URL before the hosted default applies.
  baseUrl: option({
    key: 'base-url',
    kind: 'value',
    placeholder: '<url>',
    description: 'base URL of the Work API',
    env: 'ANTHROPIC_BASE_URL',
    parse: httpUrl,
    defaultText: "the secret's api_base_url, else https://api.anthropic.com",
  }),
  leaseTtl: option({
    key: 'lease-ttl',
    kind: 'value',
    placeholder: '<duration>',
    description: 'the lease TTL to ask for, whole seconds (the server clamps it)',
    env: 'ENVWORKER_LEASE_TTL',
    parse: duration(1000, DAY_MS, true),
    defaultText: "the server's",
  }),
  stopGrace: option({
    key: 'stop-grace',
    kind: 'value',
    placeholder: '<duration>',
    description: 'after asking the command to stop (SIGTERM), how long before SIGKILL',
    env: 'ENVWORKER_STOP_GRACE',
    parse: duration(0, DAY_MS),
    defaultValue: 10_000,
    defaultText: '10s',
  }),
  maxIdle: option({
    key: 'max-idle',
    kind: 'value',
    placeholder: '<duration>',
    description: 'without a command: how long the session is served once its turn ended and it stayed idle (0: until it ends)',
    env: 'ENVWORKER_MAX_IDLE',
    parse: duration(0, DAY_MS),
    defaultValue: 60_000,
    defaultText: '60s',
  }),
  workdir: option({
    key: 'workdir',
    kind: 'value',
    placeholder: '<dir>',
    description: "without a command: the session's working directory, which must exist",
    env: 'ENVWORKER_WORKDIR',
    parse: text,
    defaultText: 'the current directory',
  }),
  inheritEnv: option({
    key: 'inherit-env',
    kind: 'value',
    placeholder: '<names>',
    description: "without a command: host variables the session's bash tool gets, comma-separated",
    env: 'ENVWORKER_INHERIT_ENV',
    parse: variableNames,
    defaultValue: DEFAULT_INHERIT_ENV,
    defaultText: DEFAULT_INHERIT_ENV.join(','),
  }),
  nice: option({
    key: 'nice',
    kind: 'value',
    placeholder: '<n>',
    description: "without a command: niceness (0-19) of the session's bash tool",
    env: 'ENVWORKER_NICE',
    parse: integer(0, 19),
    defaultValue: 19,
    defaultText: '19',
  }),
  ...LOG_OPTIONS,
} as const;

/** The options that apply only when `run` serves the session (no command). */
export const SESSION_RUN_OPTIONS = ['maxIdle', 'workdir', 'inheritEnv', 'nice'] as const;

/** The variable that carries the item's secret. */
export const WORK_SECRET_VARIABLE = 'ANTHROPIC_WORK_SECRET';
