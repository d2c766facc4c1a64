/**
 * Whether this host can run the launcher's containers: the Docker runtime's own check (a daemon
 * answers on DOCKER_HOST or the local socket, and it has the test image, which
 * scripts/build-test-image.sh builds; there is no registry to pull it from). Without them the
 * tests that need Docker are skipped with one printed reason, unless ENVWORKER_REQUIRE_DOCKER=1
 * (as .ci/run sets), which fails the file instead.
 */
import { describe } from 'vitest';
import { TEST_IMAGE, sandboxRuntime } from '../../src/sandbox.js';

async function unavailableReason(): Promise<string | null> {
  const runtime = sandboxRuntime(TEST_IMAGE);
  try {
    await runtime.prepare();
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await runtime.close();
  }
}

const reason = await unavailableReason();
if (reason !== null) {
  if (process.env['ENVWORKER_REQUIRE_DOCKER'] === '1') throw new Error(`ENVWORKER_REQUIRE_DOCKER=1, but ${reason}`);
  console.warn(`@envworker/example-docker-sandbox: Docker tests skipped: ${reason}`);
}

/** `describe` for tests that need Docker and the test image: skipped (the reason printed above) without them. */
export function describeDocker(name: string, tests: () => void): void {
  describe.runIf(reason === null)(name, tests);
}
