/**
 * The agent toolset of one session (`agent_toolset_20260401`): bash, read, write, edit, glob and
 * grep, confined to the session's work directory, with the official runner's names, inputs,
 * result texts and limits. Each session gets its own instances (the bash tool holds its shell).
 */
import { bashTool } from './bash-tool.js';
import { editTool } from './edit-tool.js';
import { globTool } from './glob-tool.js';
import { grepTool } from './grep-tool.js';
import { inProcessShellSpawner } from './in-process-shell-spawner.js';
import { readTool } from './read-tool.js';
import type { SessionTool } from './session-tool.js';
import type { ShellSpawner } from './shell-spawner.js';
import { DEFAULT_MAX_FILE_BYTES } from './tool-limits.js';
import { writeTool } from './write-tool.js';

/** The names of the toolset's tools, which a host's own tools may not take. */
export const AGENT_TOOL_NAMES = ['bash', 'read', 'write', 'edit', 'glob', 'grep'] as const;

/** Host variables the shell gets by default. */
const DEFAULT_INHERIT_ENV = ['PATH', 'HOME', 'LANG', 'TZ'] as const;
const DEFAULT_NICE = 19;

export interface AgentToolsetOptions {
  /** Absolute: the session's work directory. */
  readonly workdir: string;
  /** Host variables bash gets (ANTHROPIC_* never); default PATH, HOME, LANG, TZ. */
  readonly inheritEnv?: readonly string[];
  /** Size cap of read and edit; default 256 KiB; `null`: none. */
  readonly maxFileBytes?: number | null;
  /** Niceness of the shell and what it starts; default 19. */
  readonly bashNice?: number;
  /** What starts the bash shell; default {@link inProcessShellSpawner}. A host serving many sessions passes one `helperShellSpawner()` to them all. */
  readonly shells?: ShellSpawner;
}

/**
 * The six tools for one session.
 *
 * @example
 * ```ts
 * const tools = agentToolset({ workdir: '/srv/work/item-1' });
 * const bash = tools.find((tool) => tool.name === 'bash')!;
 * ```
 */
export function agentToolset(options: AgentToolsetOptions): SessionTool[] {
  const env: Record<string, string> = {};
  for (const name of options.inheritEnv ?? DEFAULT_INHERIT_ENV) {
    const value = process.env[name];
    if (value !== undefined && !name.startsWith('ANTHROPIC_')) env[name] = value;
  }
  const maxFileBytes = options.maxFileBytes === undefined ? DEFAULT_MAX_FILE_BYTES : options.maxFileBytes;
  return [
    bashTool(options.workdir, env, options.bashNice ?? DEFAULT_NICE, options.shells ?? inProcessShellSpawner),
    readTool(options.workdir, maxFileBytes),
    writeTool(options.workdir),
    editTool(options.workdir, maxFileBytes),
    globTool(options.workdir),
    grepTool(options.workdir),
  ] as SessionTool[];
}
