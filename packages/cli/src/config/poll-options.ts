/**
 * The options of `envworker poll`: each one a flag, a variable and a config-file key. The values
 * are checked one by one here; how they fit together is `poll-config.ts`'s job.
 */
import { formatDuration, MAX_DURATION_MS } from './duration.js';
import { CONNECTION_OPTIONS, LOG_OPTIONS } from './connection-options.js';
import {
  boolean,
  byteSize,
  commandLine,
  decimal,
  duration,
  durationRange,
  headerToken,
  integer,
  oneOf,
  path,
  text,
  variableNames,
  wordList,
} from './option-spec.js';
import { option } from './resolve-options.js';

/** The runtimes `--runtime` names. */
export const RUNTIMES = ['process', 'docker', 'session'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

/** Variables an `--on-work` process or a session's bash tool is given from the host by default, besides its own item's. */
export const DEFAULT_INHERIT_ENV: readonly string[] = ['PATH', 'HOME', 'LANG', 'TZ'];

const HOUR_MS = 3_600_000;
const MAX_CONCURRENCY = 10_000;
const MAX_LEASE_TTL_MS = 24 * HOUR_MS;
const MAX_STOP_GRACE_MS = 24 * HOUR_MS;
const MAX_IDLE_DELAY_MS = 10 * 60_000;
const MAX_SESSION_IDLE_MS = 24 * HOUR_MS;
/** Docker refuses a smaller memory limit. */
const MIN_DOCKER_MEMORY_BYTES = 6 * 1024 * 1024;

/** The options of `poll`; relative paths are resolved against `cwd`. */
export function pollOptions(cwd: string) {
  return {
    config: option({
      key: 'config',
      kind: 'value',
      placeholder: '<file>',
      description: 'a YAML or JSON file of options, keyed by flag name without --',
      env: 'ENVWORKER_CONFIG',
      inFile: false,
      parse: path(cwd),
    }),
    ...CONNECTION_OPTIONS,
    runtime: option({
      key: 'runtime',
      kind: 'value',
      placeholder: '<name>',
      description: `where each item runs: ${RUNTIMES.join(', ')} (session: serve each item's agent session in this process)`,
      env: 'ENVWORKER_RUNTIME',
      parse: oneOf(RUNTIMES),
      defaultText: 'process with --on-work or a command, else session',
    }),
    onWork: option({
      key: 'on-work',
      kind: 'value',
      placeholder: '<script>',
      description: 'process runtime: the script to run for each item (as `ant beta:worker poll --on-work`)',
      env: 'ENVWORKER_ON_WORK',
      parse: text,
    }),
    command: option({
      key: 'command',
      kind: 'operands',
      description: 'the command after --: process runtime, the program to run for each item; docker, the container command',
      parse: commandLine,
    }),
    inheritEnv: option({
      key: 'inherit-env',
      kind: 'value',
      placeholder: '<names>',
      description: "process runtime: host variables passed on to each item; session: to each session's bash tool; comma-separated",
      env: 'ENVWORKER_INHERIT_ENV',
      parse: variableNames,
      defaultValue: DEFAULT_INHERIT_ENV,
      defaultText: DEFAULT_INHERIT_ENV.join(','),
    }),
    nice: option({
      key: 'nice',
      kind: 'value',
      placeholder: '<n>',
      description: "process runtime: niceness (0-19) of each item's process and its scheduling group; session: of each session's bash tool",
      env: 'ENVWORKER_NICE',
      parse: integer(0, 19),
      defaultValue: 19,
      defaultText: '19',
    }),
    maxIdle: option({
      key: 'max-idle',
      kind: 'value',
      placeholder: '<duration>',
      description: 'session runtime: how long a session is served once its turn ended and it stayed idle (0: until it ends)',
      env: 'ENVWORKER_MAX_IDLE',
      parse: duration(0, MAX_SESSION_IDLE_MS),
      defaultValue: 60_000,
      defaultText: '60s',
    }),
    image: option({
      key: 'image',
      kind: 'value',
      placeholder: '<image>',
      description: "docker runtime: the image of each item's container",
      env: 'ENVWORKER_IMAGE',
      parse: text,
    }),
    dockerImagePolicy: option({
      key: 'docker-image-policy',
      kind: 'value',
      placeholder: '<policy>',
      description: 'docker runtime: pull the image never, if-not-present or always',
      env: 'ENVWORKER_DOCKER_IMAGE_POLICY',
      parse: oneOf(['never', 'if-not-present', 'always']),
    }),
    dockerMemory: option({
      key: 'docker-memory',
      kind: 'value',
      placeholder: '<size>',
      description: 'docker runtime: memory limit of each container, e.g. 512m',
      env: 'ENVWORKER_DOCKER_MEMORY',
      parse: byteSize(MIN_DOCKER_MEMORY_BYTES),
    }),
    dockerCpus: option({
      key: 'docker-cpus',
      kind: 'value',
      placeholder: '<n>',
      description: 'docker runtime: CPU limit of each container, e.g. 0.5',
      env: 'ENVWORKER_DOCKER_CPUS',
      parse: decimal(0.01, 1024),
    }),
    dockerPidsLimit: option({
      key: 'docker-pids-limit',
      kind: 'value',
      placeholder: '<n>',
      description: 'docker runtime: most processes in each container',
      env: 'ENVWORKER_DOCKER_PIDS_LIMIT',
      parse: integer(1, 4_194_304),
    }),
    dockerNetwork: option({
      key: 'docker-network',
      kind: 'value',
      placeholder: '<mode>',
      description: 'docker runtime: none, bridge, host or a network name',
      env: 'ENVWORKER_DOCKER_NETWORK',
      parse: text,
    }),
    dockerUser: option({
      key: 'docker-user',
      kind: 'value',
      placeholder: '<uid[:gid]>',
      description: 'docker runtime: run each container as this numeric user',
      env: 'ENVWORKER_DOCKER_USER',
      parse: text,
    }),
    dockerReadOnly: option({
      key: 'docker-read-only',
      kind: 'switch',
      description: "docker runtime: mount the image's root filesystem read-only",
      env: 'ENVWORKER_DOCKER_READ_ONLY',
      parse: boolean,
      defaultValue: false,
    }),
    dockerCapAdd: option({
      key: 'docker-cap-add',
      kind: 'value',
      placeholder: '<caps>',
      description: 'docker runtime: capabilities given back after all are dropped, comma-separated',
      env: 'ENVWORKER_DOCKER_CAP_ADD',
      parse: wordList(/^(CAP_)?[A-Z][A-Z_]*$/, 'capability name'),
    }),
    dockerHost: option({
      key: 'docker-host',
      kind: 'value',
      placeholder: '<url>',
      description: 'docker runtime: the daemon (unix:///path or tcp://host:port); default DOCKER_HOST, else the local socket',
      env: 'ENVWORKER_DOCKER_HOST',
      parse: text,
    }),
    maxConcurrency: option({
      key: 'max-concurrency',
      kind: 'value',
      placeholder: '<n>',
      description: 'most items run at once',
      env: 'ENVWORKER_MAX_CONCURRENCY',
      parse: integer(1, MAX_CONCURRENCY),
      defaultValue: 1,
    }),
    workdir: option({
      key: 'workdir',
      kind: 'value',
      placeholder: '<dir>',
      description: "where each item's work directory is made",
      env: 'ENVWORKER_WORKDIR',
      parse: path(cwd),
      defaultText: '<tmpdir>/envworker/<worker id>',
    }),
    leaseTtl: option({
      key: 'lease-ttl',
      kind: 'value',
      placeholder: '<duration>',
      description: 'the lease TTL to ask for, whole seconds (the server clamps it)',
      env: 'ENVWORKER_LEASE_TTL',
      parse: duration(1000, MAX_LEASE_TTL_MS, true),
      defaultText: "the server's",
    }),
    stopGrace: option({
      key: 'stop-grace',
      kind: 'value',
      placeholder: '<duration>',
      description: 'how long a sandbox may take to stop before it is killed',
      env: 'ENVWORKER_STOP_GRACE',
      parse: duration(0, MAX_STOP_GRACE_MS),
      defaultValue: 10_000,
      defaultText: '10s',
    }),
    shutdownGrace: option({
      key: 'shutdown-grace',
      kind: 'value',
      placeholder: '<duration>',
      description: 'after the first signal, how long running items may finish before they are stopped',
      env: 'ENVWORKER_SHUTDOWN_GRACE',
      parse: duration(0, MAX_DURATION_MS),
      defaultValue: 30_000,
      defaultText: '30s',
    }),
    pollIdleDelay: option({
      key: 'poll-idle-delay',
      kind: 'value',
      placeholder: '<min>-<max>',
      description: `pause after an empty poll, jittered (at most ${formatDuration(MAX_IDLE_DELAY_MS)})`,
      env: 'ENVWORKER_POLL_IDLE_DELAY',
      parse: durationRange(MAX_IDLE_DELAY_MS),
      defaultValue: [1000, 3000] as readonly [number, number],
      defaultText: '1s-3s',
    }),
    workerId: option({
      key: 'worker-id',
      kind: 'value',
      placeholder: '<id>',
      description: 'this worker\'s id (Anthropic-Worker-ID), unique per worker',
      env: 'ENVWORKER_WORKER_ID',
      parse: headerToken('a worker id'),
      defaultText: '<hostname>-<uuid>',
    }),
    ...LOG_OPTIONS,
    statusPort: option({
      key: 'status-port',
      kind: 'value',
      placeholder: '<port>',
      description: 'serve /healthz, /readyz, /metrics and /status.json on this port (0: any free one)',
      env: 'ENVWORKER_STATUS_PORT',
      parse: integer(0, 65_535),
      defaultText: 'off',
    }),
    statusHost: option({
      key: 'status-host',
      kind: 'value',
      placeholder: '<address>',
      description: 'the interface the status server listens on',
      env: 'ENVWORKER_STATUS_HOST',
      parse: text,
      defaultValue: '127.0.0.1',
    }),
    live: option({
      key: 'live',
      kind: 'switch',
      description: 'no live view on a terminal: log lines instead',
      env: 'ENVWORKER_LIVE',
      parse: boolean,
      defaultValue: true,
    }),
  } as const;
}

/** The option table of `poll`. */
export type PollOptionTable = ReturnType<typeof pollOptions>;
