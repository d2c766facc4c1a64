/**
 * `dockerRuntime`: each work item runs in its own container through the Docker Engine API, the
 * sandbox-per-session pattern: the `--on-work` environment, the work item JSON on standard input,
 * a fresh work directory mounted into the container, limits, no capabilities but the ones named,
 * and the polite signal then SIGKILL to stop it.
 */
import { chown } from 'node:fs/promises';
import { createWorkdir, errorCode, removeWorkdir, type SandboxRuntime } from '@envworker/core';
import { checkDaemon } from './daemon-check.js';
import { DockerClient } from './docker-client.js';
import { launchDockerSandbox } from './docker-sandbox.js';
import { reapWorker } from './reap.js';
import { resolveDockerOptions, type ContainerUser, type DockerRuntimeOptions } from './runtime-options.js';
import { ownWorkerProcess } from './worker-process.js';

/** A Docker runtime; unlike the interface, `reap` is always there. */
export interface DockerRuntime extends SandboxRuntime {
  /**
   * Checks the daemon once: it answers, speaks API 1.41 or later, can apply every limit given,
   * and has the image (after the image policy, which may pull it). Resolves when all is well;
   * throws saying what to fix. A success is remembered; a failure is tried again at the next call.
   * `reap` and `start` call it first, so a worker that reaps at its start (as `createWorker`
   * does) fails its start, not its first item.
   */
  prepare(): Promise<void>;
  /**
   * Removes the containers labelled with this worker id that this runtime is not running itself
   * (a crashed predecessor's) and their work directories; with `reapOrphans`, also those of every
   * worker that is provably gone. Resolves with how many it cleaned up. With `keepContainers`,
   * running ones are only killed.
   */
  reap(workerId: string): Promise<number>;
  /** Closes the connections to the daemon; call it once the worker has shut down. */
  close(): Promise<void>;
}

/**
 * A runtime that runs each work item in its own container. Throws a `TypeError` or `RangeError`
 * naming the option when an option is wrong; what only the daemon can tell is checked by
 * {@link DockerRuntime.prepare}.
 *
 * Each sandbox: a container of `image` labelled `envworker.worker_id`, `envworker.work_id` and
 * `envworker.environment_id`, with the item's `--on-work` variables (plus `env`), its fresh work
 * directory mounted at `mountPath` (also the working directory), every capability dropped but
 * `capAdd`, never privileged, `no-new-privileges`, the limits given; attached before it starts,
 * the work item JSON on standard input then EOF; stdout and stderr passed to the log sink line by
 * line, bounded. `stop(graceMs)` sends `stopSignal`, then SIGKILL after the grace; `kill()` SIGKILL
 * at once. Once it has exited, the container and the work directory are removed and `exit`
 * resolves with the code (or the signal this runtime or the OOM killer sent), the duration and the
 * reason (`limit` for an out-of-memory kill).
 *
 * @example
 * ```ts
 * const runtime = dockerRuntime({ image: 'my-agent:1.4', imagePolicy: 'never', memoryBytes: 2 ** 31, cpus: 1, network: 'bridge' });
 * const worker = createWorker({ baseUrl, environmentId, environmentKey, workerId: 'host-1', runtime });
 * await worker.start(); // reaps what a crashed 'host-1' left, after checking the daemon and the image
 * ```
 */
export function dockerRuntime(options: DockerRuntimeOptions): DockerRuntime {
  const settings = resolveDockerOptions(options);
  const client = new DockerClient(settings.endpoint);
  const running = new Map<string, string>();
  const ownProcess = ownWorkerProcess();
  let checking: Promise<string> | null = null;
  const imageId = (): Promise<string> => {
    if (checking === null) {
      const attempt = checkDaemon(client, settings);
      checking = attempt;
      attempt.catch(() => {
        if (checking === attempt) checking = null;
      });
    }
    return checking;
  };
  return {
    name: settings.name,
    prepare: async () => {
      await imageId();
    },
    async start(spec, signal) {
      signal.throwIfAborted();
      const image = await imageId();
      signal.throwIfAborted();
      await createWorkdir(spec.workdir);
      try {
        if (settings.user !== null) await giveWorkdir(spec.workdir, settings.user);
        return await launchDockerSandbox({ client, spec, settings, imageId: image, workerProcess: ownProcess, running, signal });
      } catch (error) {
        await removeWorkdir(spec.workdir).catch(() => undefined);
        throw error;
      }
    },
    async reap(workerId) {
      if (typeof workerId !== 'string' || workerId.length === 0) throw new TypeError('workerId must be a non-empty string');
      await imageId();
      return reapWorker({ client, settings, workerId, running, ownProcess });
    },
    close: () => client.close(),
  };
}

async function giveWorkdir(workdir: string, user: ContainerUser): Promise<void> {
  try {
    await chown(workdir, user.uid, user.gid ?? -1);
  } catch (error) {
    throw new Error(
      `workdir ${workdir} could not be given to uid ${user.uid} (${errorCode(error)}); a worker that is not root can only run containers as its own uid`,
      { cause: error },
    );
  }
}
