/**
 * Whether this host can run the Docker tests: a daemon answering on `DOCKER_HOST` (or the local
 * socket) and the test image `envworker-test/busybox:latest` (built by scripts/build-test-image.sh;
 * there is no registry to pull it from). Every Docker test file declares its tests with
 * {@link describeDocker}: without Docker they are skipped, and the reason is printed once (per
 * test file), unless ENVWORKER_REQUIRE_DOCKER=1 (as .ci/run sets), which makes the file fail instead.
 */
import { describe } from 'vitest';
import { DockerApiError, DockerClient } from '../../src/docker-client.js';
import { resolveDockerEndpoint } from '../../src/docker-host.js';

/** The image the tests run: busybox, imported from busybox-static by scripts/build-test-image.sh. */
export const TEST_IMAGE = 'envworker-test/busybox:latest';

/** Why Docker cannot be used here, or `null` when it can. */
async function unavailableReason(): Promise<string | null> {
  let client: DockerClient;
  try {
    client = new DockerClient(resolveDockerEndpoint(undefined));
  } catch (error) {
    return (error as Error).message;
  }
  try {
    try {
      await client.call('GET', '/_ping', { unversioned: true, timeoutMs: 5000 });
    } catch (error) {
      return `no Docker daemon answers at ${client.endpoint.display} (${(error as Error).message})`;
    }
    try {
      await client.call('GET', `/images/${TEST_IMAGE}/json`);
    } catch (error) {
      if (error instanceof DockerApiError && error.status === 404) return `the image ${TEST_IMAGE} is missing; build it with scripts/build-test-image.sh`;
      return `the image ${TEST_IMAGE} could not be inspected (${(error as Error).message})`;
    }
    return null;
  } finally {
    await client.close();
  }
}

const reason = await unavailableReason();
if (reason !== null) {
  if (process.env['ENVWORKER_REQUIRE_DOCKER'] === '1') throw new Error(`ENVWORKER_REQUIRE_DOCKER=1, but ${reason}`);
  console.warn(`@envworker/runtime-docker: Docker tests skipped: ${reason}`);
}

/** Whether Docker and the test image are there. */
export const dockerReady = reason === null;

/** `describe` for tests that need Docker: skipped (with the reason printed above) when it is absent. */
export function describeDocker(name: string, tests: () => void): void {
  describe.runIf(dockerReady)(name, tests);
}
