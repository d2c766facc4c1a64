/**
 * What the worker checks once, when it starts, before it claims any work item: the daemon
 * answers, speaks API 1.41 or later and runs Linux containers, can enforce every limit the
 * runtime was given, has an init when one is asked for, and has the image (after the image
 * policy). A mistake is then a clear error at start instead of one failed item after another.
 */
import { DOCKER_API_VERSION, DockerConnectionError, type DockerClient } from './docker-client.js';
import { InfoAnswer, VersionAnswer } from './docker-schemas.js';
import { ensureImage } from './image-policy.js';
import type { DockerSettings } from './runtime-options.js';

/** Checks the daemon against `settings`; resolves with the id of the image to run, or throws saying what to fix. */
export async function checkDaemon(client: DockerClient, settings: DockerSettings): Promise<string> {
  try {
    await client.call('GET', '/_ping', { unversioned: true, timeoutMs: 10_000 });
  } catch (error) {
    if (error instanceof DockerConnectionError) {
      throw new Error(
        `docker: the daemon at ${client.endpoint.display} is not answering; is dockerd running, and may this user use its socket? (${error.message})`,
        { cause: error },
      );
    }
    throw error;
  }
  const version = await client.call('GET', '/version', { unversioned: true, schema: VersionAnswer });
  if (compareVersions(version.ApiVersion, DOCKER_API_VERSION) < 0) {
    throw new Error(
      `docker: the daemon at ${client.endpoint.display} speaks API ${version.ApiVersion} (Docker ${version.Version}); ` +
        `API ${DOCKER_API_VERSION} (Docker 20.10) or later is needed`,
    );
  }
  if (version.Os !== 'linux') {
    throw new Error(`docker: the daemon at ${client.endpoint.display} runs ${version.Os} containers; only linux containers are supported`);
  }
  const problems = unsupported(await client.call('GET', '/info', { schema: InfoAnswer }), settings);
  if (problems.length > 0) throw new Error(`docker: the daemon at ${client.endpoint.display} cannot apply ${problems.join('; ')}`);
  return ensureImage(client, settings.image, settings.imagePolicy);
}

/**
 * The options the daemon cannot apply. Docker itself would only warn and run the container
 * without the limit; a sandbox without its limit is worse than no sandbox.
 */
export function unsupported(info: InfoAnswer, settings: DockerSettings): string[] {
  const problems: string[] = [];
  if (settings.memoryBytes !== null && !info.MemoryLimit) problems.push('memoryBytes: its kernel has no memory cgroup');
  if (settings.memoryBytes !== null && !info.SwapLimit) {
    problems.push('memoryBytes: its kernel cannot limit swap, so the limit would not hold (enable swap accounting)');
  }
  if (settings.pidsLimit !== null && !info.PidsLimit) problems.push('pidsLimit: its kernel has no pids cgroup');
  if (settings.cpus !== null && !info.CpuCfsQuota) problems.push('cpus: its kernel has no CFS quota');
  if (settings.cpus !== null && settings.cpus > info.NCPU) problems.push(`cpus: ${settings.cpus} is more than its ${info.NCPU} CPUs`);
  if (settings.init && info.InitBinary === '') problems.push('init: it has no init binary (docker-init); install tini or set init: false');
  return problems;
}

/** Compares two `major.minor` API versions. */
export function compareVersions(left: string, right: string): number {
  const [leftMajor = 0, leftMinor = 0] = left.split('.').map(Number);
  const [rightMajor = 0, rightMinor = 0] = right.split('.').map(Number);
  return leftMajor === rightMajor ? leftMinor - rightMinor : leftMajor - rightMajor;
}
