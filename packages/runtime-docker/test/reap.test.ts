/**
 * `reap`, first after a real crash: a worker process running containers is SIGKILLed, which leaves
 * them running (the daemon owns them); the next worker process with its id reaps them at its
 * start, and with `reapOrphans` a worker with another id reaps them too. Then case by case: a
 * second runtime with the same worker id stands for the next worker process (it runs none of the
 * first one's containers); containers made here by hand with envworker's labels stand for what
 * other workers left (a crashed create, a gone or a live worker, another boot).
 *
 * Everything that makes or reaps orphans is in this one file, whose tests run one after another:
 * a test elsewhere reaping orphans could take this file's crashed workers' containers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Sandbox } from '@envworker/core';
import { startControlPlane, type ControlPlane } from '@envworker/control-plane';
import { LABELS } from '../src/container-config.js';
import { CreateAnswer } from '../src/docker-schemas.js';
import { dockerRuntime, type DockerRuntime, type DockerRuntimeOptions } from '../src/index.js';
import { ownWorkerProcess, parseWorkerProcess } from '../src/worker-process.js';
import { describeDocker, TEST_IMAGE } from './support/docker-available.js';
import { TempRoot, containersOfWorker, exists, inspectContainer, testClient, within } from './support/harness.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CRASH_WORKER = fileURLToPath(new URL('./fixtures/crash-worker.ts', import.meta.url));

const root = new TempRoot();
const client = testClient();
const workerProcesses: ChildProcess[] = [];
const runtimes: DockerRuntime[] = [];
const sandboxes: Sandbox[] = [];
/** Containers made by hand, removed after each test whatever happened. */
const handMade: string[] = [];
let count = 0;

beforeAll(async () => {
  await root.create('docker-reap');
});

afterEach(async () => {
  for (const child of workerProcesses.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  await Promise.all(sandboxes.splice(0).map((sandbox) => within(sandbox.kill(), 10_000, 'kill() in clean-up')));
  await Promise.all(handMade.splice(0).map((id) => client.call('DELETE', `/containers/${id}`, { query: { force: true } }).catch(() => undefined)));
});

afterAll(async () => {
  await Promise.all(runtimes.map((runtime) => runtime.close()));
  await client.close();
  await root.remove();
});

function runtime(options: Omit<DockerRuntimeOptions, 'image'> = {}): DockerRuntime {
  const made = dockerRuntime({ image: TEST_IMAGE, imagePolicy: 'never', command: ['sh', '-c', 'echo ready; sleep 300 & wait'], network: 'none', ...options });
  runtimes.push(made);
  return made;
}

function workerId(name: string): string {
  count += 1;
  return `reap-${name}-${process.pid}-${count}`;
}

/** Starts a sandbox of `made` for `worker` and waits until it runs; resolves with it and its work directory. */
async function running(made: DockerRuntime, worker: string): Promise<{ sandbox: Sandbox; workdir: string }> {
  const spec = root.spec({ workerId: worker });
  const sandbox = await within(made.start(spec, new AbortController().signal), 10_000, 'start()');
  sandboxes.push(sandbox);
  await spec.log.waitFor((line) => line.text === 'ready', 10_000, 'ready');
  await writeFile(join(spec.workdir, 'left.txt'), 'left behind');
  return { sandbox, workdir: spec.workdir };
}

/** A container as another worker left it: envworker's labels, its work directory mounted, started unless `created`. */
async function leftBehind(labels: Record<string, string>, options: { created?: boolean; mountWorkdir?: boolean } = {}): Promise<{ id: string; workdir: string }> {
  const workdir = root.path('left-workdir');
  await mkdir(workdir);
  await writeFile(join(workdir, 'left.txt'), 'left behind');
  const { Id } = await client.call('POST', '/containers/create', {
    body: {
      Image: TEST_IMAGE,
      Cmd: ['sleep', '300'],
      Labels: { [LABELS.workdir]: workdir, ...labels },
      HostConfig: { NetworkMode: 'none', Init: true, ...(options.mountWorkdir === false ? {} : { Mounts: [{ Type: 'bind', Source: workdir, Target: '/work' }] }) },
    },
    schema: CreateAnswer,
  });
  handMade.push(Id);
  if (options.created !== true) await client.call('POST', `/containers/${Id}/start`);
  return { id: Id, workdir };
}

/** A worker-process label for a process of this boot and pid namespace that does not run. */
function goneProcess(): string {
  const own = parseWorkerProcess(ownWorkerProcess() as string);
  if (own === null) throw new Error('no worker-process label here');
  return `${own.bootId}/${own.pidNamespace}/${own.pid}/${own.startTime + 1}`;
}

/** A worker process (fixtures/crash-worker.ts) and the JSON events it printed. */
interface WorkerProcess {
  readonly child: ChildProcess;
  readonly events: Array<Record<string, unknown>>;
  /** Resolves with the first event (printed or to come) that matches; rejects after `ms`. */
  waitFor(what: string, match: (event: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startWorker(settings: Record<string, unknown>): WorkerProcess {
  const child = spawn(process.execPath, ['--conditions=@envworker/source', '--import', 'tsx', CRASH_WORKER], {
    cwd: REPO_ROOT,
    env: { ...process.env, ENVWORKER_CRASH_WORKER: JSON.stringify(settings) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  workerProcesses.push(child);
  const events: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    events.push(JSON.parse(line) as Record<string, unknown>);
    for (const waiter of [...waiters]) waiter();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    events,
    exited,
    waitFor(what, match, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the worker process printed no ${what} within ${ms} ms: ${JSON.stringify(events)}`));
        }, ms);
        const check = (): void => {
          const found = events.find(match);
          if (found === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

describeDocker('reap after a worker process was SIGKILLed mid-run', () => {
  let cp: ControlPlane;

  beforeEach(async () => {
    cp = await startControlPlane();
  });

  afterEach(async () => {
    await cp.close();
  });

  /** The settings of a worker process (see fixtures/crash-worker.ts) against this test's control plane. */
  function workerSettings(worker: string, workdirRoot: string, reapOrphans: boolean): Record<string, unknown> {
    const environment = cp.environments[0];
    if (environment === undefined) throw new Error('no environment');
    const { id: environmentId, key: environmentKey } = environment;
    return { baseUrl: cp.url, environmentId, environmentKey, workerId: worker, workdirRoot, image: TEST_IMAGE, reapOrphans };
  }

  /** Starts a worker process that takes `items` items, SIGKILLs it once their containers run; resolves with what it left. */
  async function crashedWorker(worker: string, items: number): Promise<{ containers: string[]; workdirs: string[] }> {
    const workdirRoot = root.path('workdirs');
    for (let index = 0; index < items; index += 1) await cp.enqueue();
    const first = startWorker(workerSettings(worker, workdirRoot, false));
    expect((await first.waitFor('reaped', (event) => event.type === 'reaped'))['count']).toBe(0);
    await first.waitFor(`${items} started items`, () => first.events.filter((event) => event.type === 'started').length === items);
    const containers = first.events.filter((event) => event.type === 'started').map((event) => String(event['sandbox_id']));
    first.child.kill('SIGKILL');
    expect(await within(first.exited, 5000, 'the worker exit')).toEqual({ code: null, signal: 'SIGKILL' });
    // The crash left them behind: every container still runs, with its work directory.
    for (const id of containers) expect((await inspectContainer(client, id))?.State.Running, `container ${id}`).toBe(true);
    const workdirs = (await readdir(workdirRoot)).map((name) => join(workdirRoot, name));
    expect(workdirs).toHaveLength(items);
    return { containers, workdirs };
  }

  it('the next worker process with its id reaps the containers and work directories at its start', async () => {
    const worker = workerId('crashed');
    const left = await crashedWorker(worker, 3);
    const second = startWorker(workerSettings(worker, root.path('workdirs'), false));
    expect((await second.waitFor('reaped', (event) => event.type === 'reaped'))['count']).toBe(3);
    for (const id of left.containers) expect(await inspectContainer(client, id), `container ${id}`).toBeNull();
    for (const workdir of left.workdirs) expect(await exists(workdir), workdir).toBe(false);
    expect(await containersOfWorker(client, worker)).toEqual([]);
    await second.waitFor('polling', (event) => event.type === 'polling');
    second.child.kill('SIGTERM');
    expect(await within(second.exited, 10_000, 'the second worker exit')).toEqual({ code: 0, signal: null });
  });

  it('reapOrphans: a worker with another id reaps them too, and spares the containers of a worker that runs', async () => {
    const left = await crashedWorker(workerId('orphaned'), 2);
    const live = await running(runtime(), workerId('alive'));
    const reaper = startWorker(workerSettings(workerId('reaper'), root.path('workdirs'), true));
    // At least the crashed worker's two: any other orphan on this host (an earlier run's) goes too, as it should.
    expect((await reaper.waitFor('reaped', (event) => event.type === 'reaped'))['count']).toBeGreaterThanOrEqual(2);
    for (const id of left.containers) expect(await inspectContainer(client, id), `container ${id}`).toBeNull();
    for (const workdir of left.workdirs) expect(await exists(workdir), workdir).toBe(false);
    expect((await inspectContainer(client, live.sandbox.id))?.State.Running).toBe(true);
    expect(await exists(live.workdir)).toBe(true);
    reaper.child.kill('SIGTERM');
    expect(await within(reaper.exited, 10_000, 'the reaper exit')).toEqual({ code: 0, signal: null });
  });
});

describeDocker('reap case by case', () => {
  it('removes the containers a predecessor with this worker id left, running or only created, and their work directories', async () => {
    const worker = workerId('predecessor');
    const first = await running(runtime(), worker);
    const second = await running(runtime(), worker);
    const created = await leftBehind({ [LABELS.workerId]: worker }, { created: true });
    expect(await runtime().reap(worker)).toBe(3);
    expect(await containersOfWorker(client, worker)).toEqual([]);
    for (const workdir of [first.workdir, second.workdir, created.workdir]) expect(await exists(workdir), workdir).toBe(false);
  });

  it('leaves alone the containers the runtime itself is running', async () => {
    const worker = workerId('own');
    const made = runtime();
    const { sandbox, workdir } = await running(made, worker);
    expect(await made.reap(worker)).toBe(0);
    expect((await inspectContainer(client, sandbox.id))?.State.Running).toBe(true);
    expect(await exists(workdir)).toBe(true);
    expect(await within(sandbox.kill(), 10_000, 'kill()')).toMatchObject({ reason: 'killed' });
    expect(await containersOfWorker(client, worker)).toEqual([]);
  });

  it('keepContainers: kills what still runs but keeps the containers; keepWorkdir keeps the files', async () => {
    const worker = workerId('keep');
    const left = await leftBehind({ [LABELS.workerId]: worker });
    expect(await runtime({ keepContainers: true, keepWorkdir: true }).reap(worker)).toBe(1);
    expect((await inspectContainer(client, left.id))?.State.Running).toBe(false);
    expect(await exists(join(left.workdir, 'left.txt'))).toBe(true);
    // Nothing runs any more: a second reap finds nothing to do.
    expect(await runtime({ keepContainers: true, keepWorkdir: true }).reap(worker)).toBe(0);
  });

  it('removes a directory only if the container really has it mounted, not because a label names it', async () => {
    const worker = workerId('label-only');
    const left = await leftBehind({ [LABELS.workerId]: worker }, { mountWorkdir: false });
    expect(await runtime().reap(worker)).toBe(1);
    expect(await inspectContainer(client, left.id)).toBeNull();
    expect(await exists(join(left.workdir, 'left.txt'))).toBe(true);
  });

  it("without reapOrphans, another worker's containers are left alone, whatever became of that worker", async () => {
    const gone = await leftBehind({ [LABELS.workerId]: workerId('gone'), [LABELS.workerProcess]: goneProcess() });
    expect(await runtime().reap(workerId('bystander'))).toBe(0);
    expect((await inspectContainer(client, gone.id))?.State.Running).toBe(true);
  });

  it('reapOrphans: also removes the containers of workers that are gone, and spares a live worker and one it cannot judge', async () => {
    const gone = await leftBehind({ [LABELS.workerId]: workerId('gone'), [LABELS.workerProcess]: goneProcess() });
    const otherBoot = await leftBehind({ [LABELS.workerId]: workerId('other-boot'), [LABELS.workerProcess]: `00000000-0000-0000-0000-000000000000/1/1/1` });
    const unlabelled = await leftBehind({ [LABELS.workerId]: workerId('no-process-label') });
    const live = await running(runtime(), workerId('live'));
    // At least the gone worker's one: any other orphan on this host (an earlier run's) goes too, as it should.
    expect(await runtime({ reapOrphans: true }).reap(workerId('reaper'))).toBeGreaterThanOrEqual(1);
    expect(await inspectContainer(client, gone.id)).toBeNull();
    expect(await exists(gone.workdir)).toBe(false);
    for (const spared of [otherBoot.id, unlabelled.id, live.sandbox.id]) expect((await inspectContainer(client, spared))?.State.Running, spared).toBe(true);
    expect(await exists(live.workdir)).toBe(true);
  });

  it('refuses an empty worker id', async () => {
    await expect(runtime().reap('')).rejects.toThrow(/^workerId must be a non-empty string$/);
  });
});
