/**
 * The Docker runtime against core's shared adapter suite: each sandbox a busybox container whose
 * `sh` runs the conformance program (fixtures/conformance-program.sh) on the item's `metadata.conformance`.
 */
import { afterAll } from 'vitest';
import { runtimeConformance } from '@envworker/core/conformance';
import { dockerRuntime, type DockerRuntime } from '../src/index.js';
import { describeDocker, TEST_IMAGE } from './support/docker-available.js';
import { CONFORMANCE_SCRIPT, inspectContainer, testClient } from './support/harness.js';

const client = testClient();
const runtimes: DockerRuntime[] = [];

afterAll(async () => {
  await Promise.all(runtimes.map((runtime) => runtime.close()));
  await client.close();
});

describeDocker('docker runtime', () => {
  runtimeConformance({
    name: 'docker',
    makeRuntime: () => {
      const runtime = dockerRuntime({ image: TEST_IMAGE, imagePolicy: 'never', command: ['sh', '-c', CONFORMANCE_SCRIPT], network: 'none' });
      runtimes.push(runtime);
      return runtime;
    },
    // Nothing of a sandbox may be left: not a running container, not a stopped one.
    isRunning: async (sandbox) => (await inspectContainer(client, sandbox.id)) !== null,
    timeoutMs: 10_000,
  });
});
