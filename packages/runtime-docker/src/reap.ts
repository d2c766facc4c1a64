/**
 * `reap`: after a worker crashed, its containers run on (the daemon owns them) and its work
 * directories stay. The next worker with its id finds them by the `envworker.worker_id` label and
 * removes them; with `reapOrphans`, also the containers of any other worker that provably no longer
 * runs (see `worker-process.ts`). Containers whose worker cannot be judged from here are left alone.
 */
import { stat } from 'node:fs/promises';
import { removeWorkdir } from '@envworker/core';
import { containersLabelled, removeContainer, signalContainer } from './container-calls.js';
import { LABELS } from './container-config.js';
import type { DockerClient } from './docker-client.js';
import type { ContainerSummary } from './docker-schemas.js';
import type { DockerSettings } from './runtime-options.js';
import { workerProcessGone } from './worker-process.js';

/** What {@link reapWorker} needs. */
export interface ReapInput {
  readonly client: DockerClient;
  readonly settings: DockerSettings;
  readonly workerId: string;
  /** The runtime's own containers (id → worker id): never reaped, they are not left behind. */
  readonly running: ReadonlyMap<string, string>;
  /** This worker process's label value, or `null` (then no orphan can be judged). */
  readonly ownProcess: string | null;
}

/**
 * Reaps what the worker `workerId` left behind (and, with `reapOrphans`, what gone workers left);
 * resolves with how many containers it killed or removed or whose work directory it removed.
 * Throws after trying them all if some could not be cleaned up, naming them.
 */
export async function reapWorker(input: ReapInput): Promise<number> {
  const { client, workerId, running } = input;
  const own = await containersLabelled(client, `${LABELS.workerId}=${workerId}`);
  const targets = own.filter((container) => !running.has(container.Id));
  if (input.settings.reapOrphans) {
    for (const container of await containersLabelled(client, LABELS.workerId)) {
      if (running.has(container.Id) || container.Labels?.[LABELS.workerId] === workerId) continue;
      const maker = container.Labels?.[LABELS.workerProcess];
      if (maker !== undefined && (await workerProcessGone(maker, input.ownProcess)) === true) targets.push(container);
    }
  }
  let reaped = 0;
  const failures: string[] = [];
  for (const container of targets) {
    try {
      if (await reapContainer(client, input.settings, container)) reaped += 1;
    } catch (error) {
      failures.push(`${container.Id.slice(0, 12)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (failures.length > 0) throw new Error(`reap: ${failures.length} container(s) could not be cleaned up: ${failures.join('; ')}`);
  return reaped;
}

/** Removes (or, with `keepContainers`, only kills) one left-behind container and removes its work directory; whether anything was left. */
async function reapContainer(client: DockerClient, settings: DockerSettings, container: ContainerSummary): Promise<boolean> {
  let acted = false;
  if (!settings.keepContainers) {
    await removeContainer(client, container.Id);
    acted = true;
  } else if (container.State === 'running' || container.State === 'paused' || container.State === 'restarting') {
    await signalContainer(client, container.Id, 'SIGKILL');
    acted = true;
  }
  const workdir = mountedWorkdir(container);
  if (!settings.keepWorkdir && workdir !== null && (await exists(workdir))) {
    await removeWorkdir(workdir);
    acted = true;
  }
  return acted;
}

/**
 * The work directory the container's label names, if it is really what the container has mounted:
 * a label alone is not trusted to name a host directory to delete.
 */
function mountedWorkdir(container: ContainerSummary): string | null {
  const labelled = container.Labels?.[LABELS.workdir];
  if (labelled === undefined) return null;
  const mounted = (container.Mounts ?? []).some((mount) => mount.Type === 'bind' && mount.Source === labelled);
  return mounted ? labelled : null;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
