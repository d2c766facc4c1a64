/**
 * The worker with the Docker runtime, end to end: `createWorker` against the local control plane
 * over real HTTP, four items at a time, each item a busybox container whose `sh` reads its item
 * from standard input, checks it is its own, and says where it runs.
 */
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createWorker, WorkClient, type WorkerEvent } from '@envworker/core';
import { startControlPlane, type ControlPlane } from '@envworker/control-plane';
import { dockerRuntime, type DockerRuntime } from '../src/index.js';
import { describeDocker, TEST_IMAGE } from './support/docker-available.js';
import { TempRoot, containersOfWorker, testClient, within } from './support/harness.js';

/** An on-work script as one would write it for `worker poll --on-work`: the item JSON on stdin, its ids in the environment. */
const ON_WORK_SCRIPT = `
IFS= read -r item
case "$item" in *"\\"id\\":\\"$ANTHROPIC_WORK_ID\\""*) ;; *) echo "the item on stdin is not $ANTHROPIC_WORK_ID" >&2; exit 4 ;; esac
echo "serving $ANTHROPIC_WORK_ID in $(pwd) as $(id -u)"
sleep 0.3
`;

const ITEMS = 20;
const CONCURRENCY = 4;

const root = new TempRoot();
const client = testClient();
let cp: ControlPlane;
let runtime: DockerRuntime;

beforeAll(async () => {
  await root.create('docker-e2e');
  cp = await startControlPlane();
});

afterAll(async () => {
  await runtime?.close();
  await client.close();
  await cp.close();
  await root.remove();
});

describeDocker('the worker with the Docker runtime', () => {
  it(`completes ${ITEMS} items, ${CONCURRENCY} at a time, each in its own container, and leaves nothing behind`, async () => {
    const environment = cp.environments[0];
    if (environment === undefined) throw new Error('no environment');
    const items = await Promise.all(Array.from({ length: ITEMS }, (_, index) => cp.enqueue({ metadata: { n: String(index) } })));
    const workdirRoot = root.path('workdirs');
    const logLines: Array<Record<string, unknown>> = [];
    const events: WorkerEvent[] = [];
    let inFlight = 0;
    let mostInFlight = 0;

    runtime = dockerRuntime({ image: TEST_IMAGE, imagePolicy: 'never', command: ['sh', '-c', ON_WORK_SCRIPT], network: 'none', user: '1000:1000', memoryBytes: 64 * 1024 * 1024 });
    const worker = createWorker({
      baseUrl: cp.url,
      environmentId: environment.id,
      environmentKey: environment.key,
      workerId: `docker-e2e-${process.pid}`,
      runtime,
      maxConcurrency: CONCURRENCY,
      pollIdleDelayMs: [0, 0],
      workdirRoot,
      logger: { level: 'info', destination: { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) } },
    });
    const allStopped = new Promise<void>((resolve) => {
      worker.events$.subscribe((event) => {
        events.push(event);
        if (event.type === 'started') mostInFlight = Math.max(mostInFlight, ++inFlight);
        if (event.type === 'stopped') inFlight -= 1;
        if (events.filter((seen) => seen.type === 'stopped').length === ITEMS) resolve();
      });
    });

    const admin = new WorkClient({ baseUrl: cp.url, environmentId: environment.id, apiKey: cp.adminKey });
    try {
      await worker.start();
      await within(allStopped, 60_000, `${ITEMS} items stopped`);
      for (const work of items) expect((await admin.get(work.id)).state, work.id).toBe('stopped');
    } finally {
      await worker.shutdown({ mode: 'stop' });
      await admin.close();
    }

    const stopped = events.filter((event): event is Extract<WorkerEvent, { type: 'stopped' }> => event.type === 'stopped');
    for (const work of items) {
      expect(stopped.find((event) => event.work_id === work.id), work.id).toMatchObject({ outcome: 'completed', exit: { code: 0, reason: 'exited' } });
    }
    expect(mostInFlight).toBe(CONCURRENCY);
    // Every item ran in its own container.
    const containers = new Set(events.flatMap((event) => (event.type === 'started' ? [event.sandbox_id] : [])));
    expect(containers.size).toBe(ITEMS);

    // Each script's line is logged under its own item, from its own work directory mount, as the configured user.
    const serving = logLines.filter((record) => typeof record['msg'] === 'string' && record['msg'].startsWith('serving '));
    expect(serving).toHaveLength(ITEMS);
    for (const record of serving) expect(record['msg']).toBe(`serving ${String(record['work_id'])} in /work as 1000`);
    expect(logLines.some((record) => record['sandbox_stream'] === 'stderr')).toBe(false);

    // Nothing is left: no container of this worker, no work directory.
    expect(await containersOfWorker(client, `docker-e2e-${process.pid}`)).toEqual([]);
    expect(await readdir(workdirRoot)).toEqual([]);
  });
});
