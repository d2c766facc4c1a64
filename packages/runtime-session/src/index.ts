/**
 * @envworker/runtime-session: serves the agent session of each `session` work item in the
 * worker's own process: the session's events, the agent toolset (bash, read, write, edit, glob,
 * grep) plus the host's tools, and each call's result, many sessions at once.
 */
export { sessionRuntime, serveSession, type SessionRuntime, type SessionRuntimeOptions, type ServeSessionInput } from './session-runtime.js';
export { SessionRunner, type SessionRunnerOptions, type RunnerEnd, type ToolCallRecord } from './runner/session-runner.js';
export { ToolError, type SessionTool, type ToolContext, type ToolOutput, type ToolResultBlock, type ToolInputSchema } from './tools/session-tool.js';
export { agentToolset, AGENT_TOOL_NAMES, type AgentToolsetOptions } from './tools/agent-toolset.js';
export { DEFAULT_TOOL_TIMEOUT_MS } from './runner/call-execution.js';
export { helperShellSpawner } from './tools/helper-shell-spawner.js';
export { inProcessShellSpawner } from './tools/in-process-shell-spawner.js';
export type { ShellProcess, ShellRequest, ShellSpawner } from './tools/shell-spawner.js';
