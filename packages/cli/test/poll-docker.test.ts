/**
 * `envworker poll --runtime docker`: a daemon that is not there is one line naming it, exit 2,
 * before anything is claimed; and with Docker and the test image (`envworker-test/busybox:latest`,
 * built by packages/runtime-docker/scripts/build-test-image.sh) an item runs in a container of it.
 * Without Docker the second test is skipped with the reason printed, unless
 * ENVWORKER_REQUIRE_DOCKER=1 (as CI sets), which makes it fail instead.
 */
import { startControlPlane, type ControlPlane } from '@envworker/control-plane';
import { dockerRuntime } from '@envworker/runtime-docker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, runInProcess, within } from './support/harness.js';

const TEST_IMAGE = 'envworker-test/busybox:latest';

/** Why Docker cannot be used here (asked the way `poll` asks: the runtime's own check), or `null`. */
async function dockerUnavailable(): Promise<string | null> {
  const runtime = dockerRuntime({ image: TEST_IMAGE, imagePolicy: 'never' });
  try {
    await runtime.prepare();
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await runtime.close();
  }
}

const unavailable = await dockerUnavailable();
if (unavailable !== null) {
  if (process.env['ENVWORKER_REQUIRE_DOCKER'] === '1') throw new Error(`ENVWORKER_REQUIRE_DOCKER=1, but ${unavailable}`);
  console.warn(`@envworker/cli: the Docker test of poll is skipped: ${unavailable}`);
}

let cp: ControlPlane;
let env: Record<string, string>;

beforeAll(async () => {
  cp = await startControlPlane();
  const environment = cp.environments[0];
  if (environment === undefined) throw new Error('no environment');
  env = { ANTHROPIC_BASE_URL: cp.url, ANTHROPIC_ENVIRONMENT_ID: environment.id, ANTHROPIC_ENVIRONMENT_KEY: environment.key };
});

afterAll(() => cp.close());

describe('envworker poll --runtime docker', () => {
  it('names a daemon that is not there, exit 2, before claiming anything', async () => {
    const waiting = await cp.enqueue();
    const run = runInProcess(['poll', '--runtime', 'docker', '--image', TEST_IMAGE, '--docker-host', 'unix:///nonexistent/docker.sock'], env);
    expect(await run.exit).toBe(2);
    const lines = run.stderr.text.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^envworker poll: --runtime docker: docker: the daemon at unix:\/\/\/nonexistent\/docker\.sock is not answering/);
    const environmentId = cp.environments[0]?.id as string;
    expect(await cp.store.stats(environmentId)).toMatchObject({ depth: 1, pending: 0 });
    await cp.store.stop(environmentId, waiting.id, { force: true });
  });

  it.runIf(unavailable === null)('runs an item in a container of the image, with its limits, and drains on SIGTERM', async () => {
    const item = await cp.enqueue();
    const cli = new CliProcess(
      [
        'poll', '--runtime', 'docker', '--image', TEST_IMAGE, '--docker-image-policy', 'never', '--docker-memory', '64m', '--docker-network', 'none',
        '--poll-idle-delay', '0-0', '--', 'sh', '-c',
        // The memory limit as cgroup v2 shows it, else v1.
        'read -r item; echo "in a container for $ANTHROPIC_WORK_ID, memory limit $(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"',
      ],
      { env },
    );
    const stopped = await cli.record('the item to end', (record) => record['msg'] === 'stopped' && record['work_id'] === item.id);
    expect(stopped).toMatchObject({ outcome: 'completed', exit_code: 0 });
    const said = cli.records().find((record) => record['sandbox_stream'] === 'stdout');
    expect(said?.['msg']).toBe(`in a container for ${item.id}, memory limit 67108864`);
    cli.kill('SIGTERM');
    expect((await within(cli.exit, 15_000, 'the exit')).code).toBe(0);
  });
});
