/**
 * The configuration of `envworker poll`: the options resolved (flags > environment > file >
 * defaults), then checked as a whole: the credentials are there, and the runtime has what it
 * needs and nothing meant for the other one.
 */
import { CliError } from '../cli-error.js';
import { loadConfigFile, type ConfigFile } from './config-file.js';
import { MISSING_ENVIRONMENT_ID, MISSING_ENVIRONMENT_KEY } from './connection-options.js';
import { pollOptions, type PollOptionTable } from './poll-options.js';
import { fileKeys, flagName, resolveOptions, type Resolved } from './resolve-options.js';
import type { LogFormat, LogLevel } from '@envworker/core';

/** How each item runs. */
export type RuntimeConfig =
  | {
      readonly kind: 'process';
      /** The argv of each item's process. */
      readonly command: readonly string[];
      /** Which option gave the command, for messages. */
      readonly commandFrom: '--on-work' | 'the command after --';
      readonly inheritEnv: readonly string[];
      /** Niceness of each item's process and its scheduling group. */
      readonly nice: number;
    }
  | {
      readonly kind: 'docker';
      readonly image: string;
      /** The container's command; `null`: the image's own. */
      readonly command: readonly string[] | null;
      readonly imagePolicy?: 'never' | 'if-not-present' | 'always';
      readonly memoryBytes?: number;
      readonly cpus?: number;
      readonly pidsLimit?: number;
      readonly network?: string;
      readonly user?: string;
      readonly readOnlyRootfs: boolean;
      readonly capAdd?: readonly string[];
      readonly dockerHost?: string;
    }
  | {
      /** Each item's agent session served in this process. */
      readonly kind: 'session';
      readonly maxIdleMs: number;
      /** Host variables each session's bash tool gets. */
      readonly inheritEnv: readonly string[];
      /** Niceness of each session's bash tool. */
      readonly nice: number;
    };

/** Everything `poll` runs with. */
export interface PollConfig {
  readonly baseUrl: string;
  readonly environmentId: string;
  readonly environmentKey: string;
  readonly runtime: RuntimeConfig;
  readonly maxConcurrency: number;
  readonly workdir: string | undefined;
  readonly leaseTtlSeconds: number | undefined;
  readonly stopGraceMs: number;
  readonly shutdownGraceMs: number;
  readonly pollIdleDelayMs: readonly [number, number];
  readonly workerId: string | undefined;
  readonly logFormat: LogFormat;
  readonly logLevel: LogLevel;
  /** Where the status server listens; `null`: no status server. */
  readonly status: { readonly host: string; readonly port: number } | null;
  readonly live: boolean;
}

/** The configuration and where each value came from (for tests and `--log-level debug`). */
export interface ResolvedPollConfig {
  readonly config: PollConfig;
  readonly origins: Resolved<PollOptionTable>['origins'];
}

/** Resolves `poll`'s configuration; throws a {@link CliError} naming the first thing to fix. */
export async function resolvePollConfig(
  flags: ReadonlyMap<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Promise<ResolvedPollConfig> {
  const table = pollOptions(cwd);
  const { config: configPath } = resolveOptions({ config: table.config }, { flags, env, file: null }).values;
  const file: ConfigFile | null = configPath === undefined ? null : await loadConfigFile(configPath, fileKeys(table));
  const { values, origins } = resolveOptions(table, { flags, env, file });
  if (values.environmentId === undefined) throw new CliError(MISSING_ENVIRONMENT_ID);
  if (values.environmentKey === undefined) throw new CliError(MISSING_ENVIRONMENT_KEY);
  return {
    config: {
      baseUrl: values.baseUrl,
      environmentId: values.environmentId,
      environmentKey: values.environmentKey,
      runtime: runtimeConfig(values, origins),
      maxConcurrency: values.maxConcurrency,
      workdir: values.workdir,
      leaseTtlSeconds: values.leaseTtl === undefined ? undefined : values.leaseTtl / 1000,
      stopGraceMs: values.stopGrace,
      shutdownGraceMs: values.shutdownGrace,
      pollIdleDelayMs: values.pollIdleDelay,
      workerId: values.workerId,
      logFormat: values.logFormat,
      logLevel: values.logLevel,
      status: values.statusPort === undefined ? null : { host: values.statusHost, port: values.statusPort },
      live: values.live,
    },
    origins,
  };
}

type Values = Resolved<PollOptionTable>['values'];
type Origins = Resolved<PollOptionTable>['origins'];

const PROCESS_ONLY = ['onWork', 'inheritEnv', 'nice'] as const;
const SESSION_ONLY = ['maxIdle'] as const;
const DOCKER_ONLY = [
  'image',
  'dockerImagePolicy',
  'dockerMemory',
  'dockerCpus',
  'dockerPidsLimit',
  'dockerNetwork',
  'dockerUser',
  'dockerReadOnly',
  'dockerCapAdd',
  'dockerHost',
] as const;

function runtimeConfig(values: Values, origins: Origins): RuntimeConfig {
  const table = pollOptions('/');
  // An option of the other runtime is a mistake unless it only holds its default.
  const misplaced = (names: readonly (keyof Values)[]): string | undefined => {
    const name = names.find((key) => origins[key] !== undefined && origins[key] !== 'default');
    return name === undefined ? undefined : flagName(table[name]);
  };
  // As `ant beta:worker poll`: nothing to run means serving the sessions themselves.
  const runtime = values.runtime ?? (values.onWork !== undefined || values.command !== undefined ? 'process' : 'session');
  if (runtime === 'session') {
    const foreign = misplaced(DOCKER_ONLY);
    if (foreign !== undefined) throw new CliError(`${foreign} applies to --runtime docker only (the runtime is session)`);
    if (values.onWork !== undefined || values.command !== undefined) {
      throw new CliError('--runtime session serves the session itself: drop --on-work and the command after --, or pick --runtime process');
    }
    return { kind: 'session', maxIdleMs: values.maxIdle, inheritEnv: values.inheritEnv, nice: values.nice };
  }
  const sessionOnly = misplaced(SESSION_ONLY);
  if (sessionOnly !== undefined) throw new CliError(`${sessionOnly} applies to --runtime session only (the runtime is ${runtime})`);
  if (runtime === 'process') {
    const foreign = misplaced(DOCKER_ONLY);
    if (foreign !== undefined) throw new CliError(`${foreign} applies to --runtime docker only (the runtime is process)`);
    if (values.onWork !== undefined && values.command !== undefined) {
      throw new CliError('--runtime process: give either --on-work <script> or a command after --, not both');
    }
    if (values.onWork !== undefined) return { kind: 'process', command: [values.onWork], commandFrom: '--on-work', inheritEnv: values.inheritEnv, nice: values.nice };
    if (values.command !== undefined) return { kind: 'process', command: values.command, commandFrom: 'the command after --', inheritEnv: values.inheritEnv, nice: values.nice };
    throw new CliError('--runtime process needs what to run: --on-work <script> or -- <command…>');
  }
  const foreign = misplaced(PROCESS_ONLY);
  if (foreign !== undefined) {
    const owners = foreign === flagName(table.inheritEnv) || foreign === flagName(table.nice) ? 'process or session' : 'process';
    throw new CliError(`${foreign} applies to --runtime ${owners} only (the runtime is docker)`);
  }
  if (values.image === undefined) throw new CliError('--runtime docker needs --image <image>');
  return {
    kind: 'docker',
    image: values.image,
    command: values.command ?? null,
    readOnlyRootfs: values.dockerReadOnly,
    ...(values.dockerImagePolicy === undefined ? {} : { imagePolicy: values.dockerImagePolicy }),
    ...(values.dockerMemory === undefined ? {} : { memoryBytes: values.dockerMemory }),
    ...(values.dockerCpus === undefined ? {} : { cpus: values.dockerCpus }),
    ...(values.dockerPidsLimit === undefined ? {} : { pidsLimit: values.dockerPidsLimit }),
    ...(values.dockerNetwork === undefined ? {} : { network: values.dockerNetwork }),
    ...(values.dockerUser === undefined ? {} : { user: values.dockerUser }),
    ...(values.dockerCapAdd === undefined ? {} : { capAdd: values.dockerCapAdd }),
    ...(values.dockerHost === undefined ? {} : { dockerHost: values.dockerHost }),
  };
}
