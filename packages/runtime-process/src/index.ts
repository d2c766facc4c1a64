/**
 * @envworker/runtime-process: envworker's child-process runtime. Each work item runs as a child
 * process group, the way `worker poll --on-work <script>` runs a script per item.
 */
export { processRuntime, type ProcessRuntime } from './process-runtime.js';
export type { ProcessRuntimeOptions } from './runtime-options.js';
export type { ProcessLimits } from './resource-limits.js';
export type { ProcessUser } from './run-as-user.js';
export { TRUNCATED_MARK } from '@envworker/core';
