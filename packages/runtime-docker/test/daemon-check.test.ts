/**
 * What the worker learns at its start, before it claims anything: a daemon that does not answer, a
 * missing image, an image policy that cannot be met, a limit the daemon cannot apply. Each one is a
 * clear error from `worker.start()` (the worker reaps at its start, and `reap` checks the daemon
 * first), with no item claimed.
 *
 * There is no image registry here, so `always` and a pull are tested on their error path: the test
 * image is also tagged under a registry at 127.0.0.1:9, where nothing listens. `never` and
 * `if-not-present` run that tag without pulling; `always` must pull it, and fails saying why.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createWorker, type SandboxExit } from '@envworker/core';
import { startControlPlane, type ControlPlane } from '@envworker/control-plane';
import { dockerRuntime, type DockerRuntime, type DockerRuntimeOptions } from '../src/index.js';
import { describeDocker, TEST_IMAGE } from './support/docker-available.js';
import { TempRoot, containersOfWorker, testClient, within } from './support/harness.js';

/** The test image under a registry nobody serves (port 9, discard, is closed here). */
const UNREACHABLE_REPOSITORY = '127.0.0.1:9/envworker-test/busybox';
const UNREACHABLE_TAG = `pid-${process.pid}`;
const UNREACHABLE_IMAGE = `${UNREACHABLE_REPOSITORY}:${UNREACHABLE_TAG}`;

const root = new TempRoot();
const client = testClient();
const runtimes: DockerRuntime[] = [];
let cp: ControlPlane;

beforeAll(async () => {
  await root.create('docker-daemon-check');
  cp = await startControlPlane();
  // Work is waiting: a worker whose start failed must not have claimed it.
  await cp.enqueue();
});

afterAll(async () => {
  await Promise.all(runtimes.map((runtime) => runtime.close()));
  await client.close();
  await cp.close();
  await root.remove();
});

function runtime(options: DockerRuntimeOptions): DockerRuntime {
  const made = dockerRuntime(options);
  runtimes.push(made);
  return made;
}

/** Starts a worker with `made` against the control plane (one item queued); resolves with how its start ended. */
async function workerStart(made: DockerRuntime, workerId: string): Promise<{ error: Error | null; claimed: boolean }> {
  const environment = cp.environments[0];
  if (environment === undefined) throw new Error('no environment');
  const worker = createWorker({
    baseUrl: cp.url,
    environmentId: environment.id,
    environmentKey: environment.key,
    workerId,
    runtime: made,
    pollIdleDelayMs: [0, 0],
    logger: { level: 'silent' },
    workdirRoot: root.path('workdirs'),
  });
  let claimed = false;
  worker.events$.subscribe((event) => {
    if (event.type === 'claimed') claimed = true;
  });
  try {
    await within(worker.start(), 20_000, 'worker.start()');
    return { error: null, claimed };
  } catch (error) {
    return { error: error as Error, claimed };
  } finally {
    await worker.shutdown({ mode: 'stop' });
  }
}

describeDocker('at worker start', () => {
  beforeAll(async () => {
    await client.call('POST', `/images/${TEST_IMAGE}/tag`, { query: { repo: UNREACHABLE_REPOSITORY, tag: UNREACHABLE_TAG } });
  });

  afterAll(async () => {
    await client.call('DELETE', `/images/${UNREACHABLE_IMAGE}`);
  });

  it('a daemon that does not answer fails the start, naming its address', async () => {
    const { error, claimed } = await workerStart(runtime({ image: TEST_IMAGE, dockerHost: `unix://${root.path('no-daemon')}.sock` }), 'check-no-daemon');
    expect(error?.message).toMatch(/docker: the daemon at unix:\/\/\S+no-daemon-\d+\.sock is not answering; is dockerd running, and may this user use its socket\?/);
    expect(claimed).toBe(false);
  });

  it('imagePolicy never: a missing image fails the start, saying what to do', async () => {
    const { error, claimed } = await workerStart(runtime({ image: 'envworker-test/absent:latest', imagePolicy: 'never' }), 'check-never');
    expect(error?.message).toMatch(/docker: image envworker-test\/absent:latest is not on the daemon at unix:\/\/\S+ and imagePolicy is never: load or build it there first/);
    expect(claimed).toBe(false);
  });

  it('imagePolicy if-not-present: a missing image is pulled, and a pull that fails fails the start with the daemon\'s reason', async () => {
    const { error, claimed } = await workerStart(runtime({ image: '127.0.0.1:9/envworker-test/absent:latest' }), 'check-if-not-present');
    expect(error?.message).toMatch(/docker: pulling image 127\.0\.0\.1:9\/envworker-test\/absent:latest failed \(imagePolicy if-not-present\): .*127\.0\.0\.1:9.*connection refused/);
    expect(claimed).toBe(false);
  });

  it('imagePolicy always pulls even an image the daemon has; never and if-not-present use it as it is', async () => {
    const always = await workerStart(runtime({ image: UNREACHABLE_IMAGE, imagePolicy: 'always' }), 'check-always');
    expect(always.error?.message).toMatch(/docker: pulling image 127\.0\.0\.1:9\/envworker-test\/busybox:pid-\d+ failed \(imagePolicy always\): .*connection refused/);
    for (const imagePolicy of ['never', 'if-not-present'] as const) {
      const made = runtime({ image: UNREACHABLE_IMAGE, imagePolicy, command: ['sh', '-c', 'echo ran'], network: 'none' });
      await made.prepare();
      const spec = root.spec();
      const sandbox = await within(made.start(spec, new AbortController().signal), 10_000, 'start()');
      expect(await within(sandbox.exit, 10_000, 'exit')).toMatchObject<Partial<SandboxExit>>({ code: 0, reason: 'exited' });
      expect(spec.log.lines).toEqual([{ stream: 'stdout', text: 'ran' }]);
    }
  });

  it('a limit the daemon cannot apply fails the start, naming the option', async () => {
    const { error } = await workerStart(runtime({ image: TEST_IMAGE, imagePolicy: 'never', cpus: 1000 }), 'check-cpus');
    expect(error?.message).toMatch(/docker: the daemon at \S+ cannot apply cpus: 1000 is more than its \d+ CPUs/);
  });

  it('a check that failed is made again at the next call, and succeeds once the image is there', async () => {
    const tag = `later-${process.pid}`;
    const made = runtime({ image: `envworker-test/busybox:${tag}`, imagePolicy: 'never' });
    await expect(made.prepare()).rejects.toThrow(/is not on the daemon/);
    await client.call('POST', `/images/${TEST_IMAGE}/tag`, { query: { repo: 'envworker-test/busybox', tag } });
    try {
      await expect(made.prepare()).resolves.toBeUndefined();
      expect(await made.reap('check-later')).toBe(0);
      expect(await containersOfWorker(client, 'check-later')).toEqual([]);
    } finally {
      await client.call('DELETE', `/images/envworker-test/busybox:${tag}`);
    }
  });
});
