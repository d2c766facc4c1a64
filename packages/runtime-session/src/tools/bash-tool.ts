/**
 * `bash`: the session's persistent shell (cwd and variables persist across calls, as in the
 * official tool), one call at a time. A non-zero exit is an error result with the output; a
 * timeout (`timeout_ms`, default 120 s) or a cancel kills the shell's whole process group and the
 * next call starts a fresh shell.
 */
import { z } from 'zod';
import { BashShell } from './bash-shell.js';
import { ToolError, type SessionTool } from './session-tool.js';
import type { ShellSpawner } from './shell-spawner.js';
import { BASH_DEFAULT_TIMEOUT_MS } from './tool-limits.js';
import { parseToolInput } from './tool-input.js';

const Input = z.object({
  command: z.string().optional(),
  restart: z.boolean().optional(),
  timeout_ms: z.number().int().min(1).max(24 * 60 * 60 * 1000).optional(),
});
type BashInput = z.infer<typeof Input>;

/** Why a call ended early, for its error result. */
class BashTimeout extends Error {}

export function bashTool(workdir: string, env: Readonly<Record<string, string>>, nice: number, spawner: ShellSpawner): SessionTool<BashInput> {
  let shell: BashShell | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  const discard = async (): Promise<void> => {
    const current = shell;
    shell = null;
    await current?.close();
  };
  const call = async (input: BashInput, signal: AbortSignal): Promise<string> => {
    if (input.restart === true) await discard();
    if (input.command === undefined || input.command === '') {
      if (input.restart === true) return 'bash session restarted';
      throw new ToolError('bash: command is required');
    }
    const timeoutMs = input.timeout_ms ?? BASH_DEFAULT_TIMEOUT_MS;
    const ends = new AbortController();
    const timer = setTimeout(() => ends.abort(new BashTimeout(`bash command timed out after ${timeoutMs}ms`)), timeoutMs);
    const onAbort = (): void => ends.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    try {
      if (shell === null || shell.closed) shell = await BashShell.start(spawner, workdir, env, nice, ends.signal);
      const end = await shell.exec(input.command, ends.signal);
      if (end.kind === 'shell_died') {
        await discard();
        throw new ToolError('bash: bash session terminated');
      }
      if (end.exitCode !== 0) throw new ToolError(end.output || `exit ${end.exitCode}`);
      return end.output;
    } catch (error) {
      if (error instanceof ToolError) throw error;
      shell = null;
      if (!ends.signal.aborted) throw new ToolError(`bash: cannot start the shell: ${error instanceof Error ? error.message : String(error)}`);
      if (error instanceof BashTimeout) throw new ToolError(`bash: ${error.message}`);
      throw new ToolError(`bash: cancelled: ${error instanceof Error ? error.message : 'the call was cancelled'}`);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  };
  return {
    name: 'bash',
    description: 'Run a bash command in a persistent shell. State (cwd, env vars) persists across calls.',
    inputSchema: {
      type: 'object',
      properties: {
        command: { type: 'string', description: 'The command to run' },
        restart: { type: 'boolean', description: 'Restart the persistent shell before running' },
        timeout_ms: { type: 'integer', description: 'Per-call timeout in milliseconds' },
      },
    },
    // The call's own timeout_ms governs; the runner's per-call timeout only backs it up.
    timeoutMs: 24 * 60 * 60 * 1000 + 60_000,
    parse: (input) => parseToolInput('bash', Input, input),
    run(input, ctx) {
      const result = queue.then(() => call(input, ctx.signal));
      queue = result.catch(() => undefined);
      return result;
    },
    close: () => discard(),
  };
}
