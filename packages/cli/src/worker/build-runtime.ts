/**
 * The sandbox runtime `poll` runs items in, made from its configuration. An option the runtime
 * itself refuses (a command not found, a bad limit) is reported with the flag that set it, and
 * a Docker daemon that cannot serve (not there, no image, a limit it cannot apply) is found
 * before the worker claims anything.
 */
import type { SandboxRuntime } from '@envworker/core';
import { dockerRuntime, type DockerRuntimeOptions } from '@envworker/runtime-docker';
import { processRuntime } from '@envworker/runtime-process';
import { sessionRuntime, type ToolCallRecord } from '@envworker/runtime-session';
import type { Observable } from 'rxjs';
import { CliError } from '../cli-error.js';
import type { RuntimeConfig } from '../config/poll-config.js';

/** A runtime with what `poll` does around it. */
export interface BuiltRuntime {
  readonly runtime: SandboxRuntime;
  /** Checks what can only be checked by trying (the Docker daemon and image); throws a {@link CliError}. */
  prepare(): Promise<void>;
  /** Releases what the runtime holds, once the worker has shut down. */
  close(): Promise<void>;
  /** Each tool call as it ends, when the runtime serves sessions; `null` otherwise. */
  readonly toolCalls$: Observable<ToolCallRecord> | null;
}

/** The flag of each `dockerRuntime` option the CLI sets. */
const DOCKER_FLAGS: Readonly<Record<string, string>> = {
  image: '--image',
  imagePolicy: '--docker-image-policy',
  command: 'the command after --',
  memoryBytes: '--docker-memory',
  cpus: '--docker-cpus',
  pidsLimit: '--docker-pids-limit',
  network: '--docker-network',
  user: '--docker-user',
  capAdd: '--docker-cap-add',
  dockerHost: '--docker-host',
};

/** Makes the runtime; throws a {@link CliError} naming the flag of an option the runtime refused. */
export function buildRuntime(config: RuntimeConfig): BuiltRuntime {
  switch (config.kind) {
    case 'docker':
      return buildDocker(config);
    case 'process':
      return buildProcess(config);
    case 'session':
      return buildSession(config);
  }
}

function buildSession(config: Extract<RuntimeConfig, { kind: 'session' }>): BuiltRuntime {
  // The options were checked flag by flag; what the runtime refuses still gets the flag named.
  try {
    const runtime = sessionRuntime({ maxIdleMs: config.maxIdleMs, inheritEnv: config.inheritEnv, bashNice: config.nice });
    return { runtime, prepare: () => Promise.resolve(), close: () => runtime.close(), toolCalls$: runtime.toolCalls$ };
  } catch (error) {
    if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
    const message = error.message.replace(/^sessionRuntime: /, '');
    if (message.startsWith('inheritEnv')) throw new CliError(`--inherit-env: ${message.replace(/^inheritEnv(\[\d+\])? /, '')}`);
    if (message.startsWith('maxIdleMs')) throw new CliError(`--max-idle: ${message.replace(/^maxIdleMs /, '')}`);
    if (message.startsWith('bashNice')) throw new CliError(`--nice: ${message.replace(/^bashNice /, '')}`);
    throw new CliError(`--runtime session: ${message}`);
  }
}

function buildProcess(config: Extract<RuntimeConfig, { kind: 'process' }>): BuiltRuntime {
  try {
    const runtime = processRuntime({ command: config.command, inheritEnv: config.inheritEnv, nice: config.nice });
    return { runtime, prepare: () => Promise.resolve(), close: () => Promise.resolve(), toolCalls$: null };
  } catch (error) {
    if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
    const message = error.message.replace(/^processRuntime: /, '');
    if (message.startsWith('command')) throw new CliError(`${config.commandFrom}: ${message.replace(/^command(\[0\])? /, '')}`);
    if (message.startsWith('inheritEnv')) throw new CliError(`--inherit-env: ${message.replace(/^inheritEnv(\[\d+\])? /, '')}`);
    if (message.startsWith('nice')) throw new CliError(`--nice: ${message.replace(/^nice /, '')}`);
    throw new CliError(`--runtime process: ${message}`);
  }
}

function buildDocker(config: Extract<RuntimeConfig, { kind: 'docker' }>): BuiltRuntime {
  const { kind: _kind, command, ...limits } = config;
  const options: DockerRuntimeOptions = { ...limits, ...(command === null ? {} : { command }) };
  let runtime;
  try {
    runtime = dockerRuntime(options);
  } catch (error) {
    if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
    const message = error.message.replace(/^dockerRuntime: /, '');
    const option = /^(\w+)/.exec(message)?.[1] ?? '';
    const flag = DOCKER_FLAGS[option];
    throw new CliError(flag === undefined ? `--runtime docker: ${message}` : `${flag}: ${message.replace(/^\w+(\[\d+\])?:? /, '')}`);
  }
  const built = runtime;
  return {
    runtime: built,
    prepare: async () => {
      try {
        await built.prepare();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // The runtime names its options; the person at the terminal knows the flags.
        throw new CliError(`--runtime docker: ${message.replace(/\bimagePolicy\b/g, '--docker-image-policy')}`);
      }
    },
    close: () => built.close(),
    toolCalls$: null,
  };
}
