/**
 * @envworker/runtime-docker: envworker's Docker runtime. Each work item runs in its own container
 * through the Docker Engine API, on the local socket or `DOCKER_HOST`.
 */
export { dockerRuntime, type DockerRuntime } from './docker-runtime.js';
export type { DockerRuntimeOptions, ImagePolicy } from './runtime-options.js';
export { LABELS } from './container-config.js';
export { TRUNCATED_MARK } from '@envworker/core';
