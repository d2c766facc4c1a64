/**
 * `processRuntime`: each work item runs as a child process, the way the official
 * `worker poll --on-work <script>` runs a script per item, so existing on-work scripts run
 * unchanged: the `--on-work` environment, the work item JSON on standard input, a fresh work
 * directory as the working directory, and the polite signal then `SIGKILL` to stop it.
 */
import { chown } from 'node:fs/promises';
import { createWorkdir, decodeWorkSecret, errorCode, removeWorkdir, type SandboxRuntime, type SandboxSpec } from '@envworker/core';
import { OutputFile } from './output-file.js';
import { launchProcessSandbox } from './process-sandbox.js';
import { reapWorker } from './reap.js';
import { resolveProcessOptions, type ProcessRuntimeOptions } from './runtime-options.js';
import type { ProcessUser } from './run-as-user.js';
import { ensurePrivateDir, workerStateDir } from './state-files.js';

/** A process runtime; unlike the interface, `reap` is always there. */
export interface ProcessRuntime extends SandboxRuntime {
  /**
   * Kills the process groups that a crashed worker with this id left running (checking each
   * one's start time, so that a recycled pid is never killed), removes their work directories and
   * state files, and resolves with how many sandboxes it cleaned up. Sandboxes this runtime is
   * running itself are left alone. Linux only (it reads `/proc`); elsewhere there is nothing to reap.
   */
  reap(workerId: string): Promise<number>;
}

/**
 * A runtime that runs each work item as a child process group. Throws a `TypeError` or
 * `RangeError` naming the option when an option is wrong or cannot be applied on this host (the
 * command not found, `user` without root, `limits` without `prlimit` or refused by the kernel).
 *
 * Each sandbox: `command` spawned in its own process group, in the item's fresh work directory,
 * with only the `--on-work` variables and `inheritEnv`, the item JSON on standard input then EOF;
 * stdout and stderr passed to the log sink line by line, bounded; `stop(graceMs)` sends
 * `stopSignal` to the group, then `SIGKILL` to it after the grace (the group keeps the grace even
 * once the command has exited); `kill()` sends `SIGKILL` at once. When the command exits by itself,
 * whatever it left running in its group is killed. Once no process of the group runs, the work
 * directory is removed and `exit` resolves with the command's code or signal, the duration and
 * the reason.
 *
 * @example
 * ```ts
 * const runtime = processRuntime({ command: ['./on-work.sh'], inheritEnv: ['PATH'], maxRunMs: 3_600_000 });
 * const worker = createWorker({ baseUrl, environmentId, environmentKey, workerId: 'host-1', runtime });
 * await runtime.reap('host-1'); // end what an earlier, crashed run of this worker left behind
 * await worker.start();
 * ```
 */
export function processRuntime(options: ProcessRuntimeOptions): ProcessRuntime {
  const settings = resolveProcessOptions(options);
  const running = new Map<number, string>();
  return {
    name: settings.name,
    async start(spec, signal) {
      signal.throwIfAborted();
      const stateDir = workerStateDir(settings.stateDir, spec.workerId);
      await ensurePrivateDir(settings.stateDir);
      await ensurePrivateDir(stateDir);
      await createWorkdir(spec.workdir);
      let output: OutputFile | null = null;
      try {
        if (settings.user !== null) await giveWorkdir(spec.workdir, settings.user);
        if (settings.outputDir !== null) output = await OutputFile.open(settings.outputDir, spec.work.id, secretsOf(spec));
        signal.throwIfAborted();
        const sandbox = await launchProcessSandbox({ spec, settings, stateDir, output, running });
        if (signal.aborted) {
          await sandbox.kill();
          signal.throwIfAborted();
        }
        return sandbox;
      } catch (error) {
        output?.close();
        await removeWorkdir(spec.workdir);
        throw error;
      }
    },
    reap: (workerId) => reapWorker({ stateDir: settings.stateDir, workerId, keepWorkdir: settings.keepWorkdir, running }),
  };
}

async function giveWorkdir(workdir: string, user: ProcessUser): Promise<void> {
  try {
    await chown(workdir, user.uid, user.gid);
  } catch (error) {
    throw new Error(`workdir ${workdir} could not be given to uid ${user.uid} (${errorCode(error)})`, { cause: error });
  }
}

/** The credentials a sandbox holds, scrubbed from its output file. */
function secretsOf(spec: SandboxSpec): string[] {
  const secrets = [spec.env.ANTHROPIC_ENVIRONMENT_KEY];
  if (spec.work.secret !== null) {
    secrets.push(spec.work.secret);
    const token = decodeWorkSecret(spec.work.secret).secret?.sessions_token;
    if (token !== undefined) secrets.push(token);
  }
  return secrets;
}
