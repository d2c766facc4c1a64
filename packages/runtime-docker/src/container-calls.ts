/**
 * The container calls that more than one part makes (the sandbox, `reap`), with the answers that
 * mean "already done" taken as success.
 */
import { DockerApiError, type DockerClient } from './docker-client.js';
import { ContainerListAnswer, type ContainerSummary } from './docker-schemas.js';

/** Removes a container, killing it first if it runs; one already gone (or being removed) is fine. */
export async function removeContainer(client: DockerClient, idOrName: string): Promise<void> {
  try {
    await client.call('DELETE', `/containers/${encodeURIComponent(idOrName)}`, { query: { force: true, v: true } });
  } catch (error) {
    if (error instanceof DockerApiError && (error.status === 404 || error.status === 409)) return;
    throw error;
  }
}

/** Sends `signal` to a container's main process; one that no longer runs (or is gone) is fine. */
export async function signalContainer(client: DockerClient, id: string, signal: string): Promise<void> {
  try {
    await client.call('POST', `/containers/${encodeURIComponent(id)}/kill`, { query: { signal } });
  } catch (error) {
    if (error instanceof DockerApiError && (error.status === 404 || error.status === 409)) return;
    throw error;
  }
}

/** Every container (running or not) that carries `label` (`name` or `name=value`). */
export async function containersLabelled(client: DockerClient, label: string): Promise<ContainerSummary[]> {
  return client.call('GET', '/containers/json', {
    query: { all: true, filters: JSON.stringify({ label: [label] }) },
    schema: ContainerListAnswer,
  });
}
