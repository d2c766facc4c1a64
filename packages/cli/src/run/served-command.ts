/**
 * `run -- <command…>`: the command as a child with the terminal's standard streams and the
 * environment `run` was given (the item's ANTHROPIC_* variables included: it is the item's own).
 */
import { spawn } from 'node:child_process';
import type { Logger } from '@envworker/core';
import type { CliContext } from '../cli-context.js';
import { signalExitCode } from '../worker/shutdown-signals.js';
import type { Served } from './served.js';

/** Starts `command`; a program that cannot be started ends with status 127 and one line on standard error. */
export function serveCommand(command: readonly string[], context: CliContext, logger: Logger): Served {
  const [program, ...args] = command as [string, ...string[]];
  const child = spawn(program, args, { stdio: 'inherit', env: { ...context.env } });
  logger.info({ command: program, pid: child.pid }, 'serving the work item');
  const ended = new Promise<number>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      context.stderr.write(`envworker run: cannot run ${JSON.stringify(program)}: ${error.code ?? error.message}\n`);
      resolve(127);
    });
    child.once('exit', (code, signal) => {
      logger.info({ exit_code: code, signal }, 'the command ended');
      resolve(code ?? signalExitCode(signal ?? 'SIGKILL'));
    });
  });
  return {
    stop: (signal) => void child.kill(signal),
    kill: () => void child.kill('SIGKILL'),
    ended,
  };
}
