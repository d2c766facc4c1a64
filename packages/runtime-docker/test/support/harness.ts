/**
 * What the Docker runtime's tests share: temporary directories, specs built the way the worker
 * builds them, a client to look at the daemon with (what containers exist, how one is configured),
 * and waits with deadlines (never a fixed sleep).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { makeSpec, type MakeSpecOptions, type TestSandboxSpec } from '@envworker/core/conformance';
import { containersLabelled } from '../../src/container-calls.js';
import { LABELS } from '../../src/container-config.js';
import { DockerApiError, DockerClient } from '../../src/docker-client.js';
import { resolveDockerEndpoint } from '../../src/docker-host.js';

export { within } from '@envworker/core/conformance';

/** The conformance program (see fixtures/conformance-program.sh), as the text a container's `sh -c` runs. */
export const CONFORMANCE_SCRIPT = readFileSync(new URL('../fixtures/conformance-program.sh', import.meta.url), 'utf8');

/** A client of the daemon the tests run against, for looking at what the runtime did. */
export function testClient(): DockerClient {
  return new DockerClient(resolveDockerEndpoint(undefined));
}

/** The parts of `GET /containers/{id}/json` the tests look at. */
const ContainerDetails = z.object({
  Id: z.string(),
  Name: z.string(),
  Config: z.object({
    Image: z.string(),
    User: z.string(),
    WorkingDir: z.string(),
    Env: z.array(z.string()),
    Labels: z.record(z.string(), z.string()),
    OpenStdin: z.boolean(),
    StdinOnce: z.boolean(),
    Tty: z.boolean(),
  }),
  HostConfig: z.object({
    Memory: z.number(),
    MemorySwap: z.number(),
    NanoCpus: z.number(),
    PidsLimit: z.number().nullable(),
    NetworkMode: z.string(),
    ReadonlyRootfs: z.boolean(),
    CapDrop: z.array(z.string()).nullable(),
    CapAdd: z.array(z.string()).nullable(),
    Privileged: z.boolean(),
    SecurityOpt: z.array(z.string()).nullable(),
    Init: z.boolean().nullable(),
    LogConfig: z.object({ Type: z.string() }),
    Mounts: z.array(z.object({ Type: z.string(), Source: z.string(), Target: z.string(), ReadOnly: z.boolean().optional() })).nullable(),
  }),
  State: z.object({ Status: z.string(), Running: z.boolean(), OOMKilled: z.boolean(), ExitCode: z.number() }),
});
export type ContainerDetails = z.infer<typeof ContainerDetails>;

/** The container's configuration and state; `null` when there is no such container. */
export async function inspectContainer(client: DockerClient, id: string): Promise<ContainerDetails | null> {
  try {
    return await client.call('GET', `/containers/${id}/json`, { schema: ContainerDetails });
  } catch (error) {
    if (error instanceof DockerApiError && error.status === 404) return null;
    throw error;
  }
}

/** The ids of every container (running or not) of a work item. */
export async function containersOfWork(client: DockerClient, workId: string): Promise<string[]> {
  return (await containersLabelled(client, `${LABELS.workId}=${workId}`)).map((container) => container.Id);
}

/** The ids of every container (running or not) of a worker. */
export async function containersOfWorker(client: DockerClient, workerId: string): Promise<string[]> {
  return (await containersLabelled(client, `${LABELS.workerId}=${workerId}`)).map((container) => container.Id);
}

/** A temporary directory for one test file, with work directories below it. */
export class TempRoot {
  #root = '';
  #count = 0;

  async create(prefix: string): Promise<void> {
    this.#root = await mkdtemp(join(tmpdir(), `envworker-${prefix}-`));
  }

  async remove(): Promise<void> {
    await rm(this.#root, { recursive: true, force: true });
  }

  /** A fresh path below the root (not created). */
  path(name: string): string {
    this.#count += 1;
    return join(this.#root, `${name}-${this.#count}`);
  }

  /** A spec whose work directory is a fresh path below the root. */
  spec(options: Omit<MakeSpecOptions, 'workdir'> = {}): TestSandboxSpec {
    return makeSpec({ ...options, workdir: this.path('item') });
  }
}


/**
 * Resolves once `check` holds, looking again every few tens of milliseconds; rejects naming `what`
 * after `deadlineMs`. For the daemon's state, which offers no event to wait on here.
 */
export async function until(what: string, check: () => Promise<boolean> | boolean, deadlineMs = 5000): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
