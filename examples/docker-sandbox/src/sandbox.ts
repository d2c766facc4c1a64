/**
 * The container each work item runs in: what it runs and the limits it runs under. Kept apart from
 * the launcher so that the README and the test can point at one place for "what runs in the box".
 */
import { dockerRuntime, type DockerRuntime } from '@envworker/runtime-docker';

/** The image built by scripts/build-test-image.sh from busybox-static (there is no registry to pull it from). */
export const TEST_IMAGE = 'envworker-test/busybox:latest';

export const MEMORY_BYTES = 64 * 1024 * 1024;
export const PIDS_LIMIT = 32;

/**
 * The on-work script, for busybox `sh`: it reads the work item JSON from standard input (one line,
 * then EOF), takes `metadata.n` out of it, and prints one line with what the container sees: its
 * work id (from the `--on-work` environment), its network interfaces (only `lo` with network
 * `none`), and its memory and process limits as the kernel enforces them (cgroup v2, else v1).
 */
export const SCRIPT = [
  'read -r item',
  `n=$(printf '%s' "$item" | sed -n 's/.*"n":"\\([0-9]*\\)".*/\\1/p')`,
  'memory=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes)',
  'pids=$(cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max)',
  'echo "item n=$n work=$ANTHROPIC_WORK_ID bytes=${#item} network=[$(echo $(ls /sys/class/net))] memory=$memory pids=$pids cwd=$(pwd)"',
].join('\n');

/**
 * The Docker runtime of the launcher: one container of `image` per item running {@link SCRIPT},
 * with no network, 64 MiB of memory (swap included), 32 processes, half a CPU and a read-only root
 * file system (the work directory at /work stays writable). The test image is never pulled (it
 * exists only where it was built); another image is pulled if the daemon lacks it.
 */
export function sandboxRuntime(image: string): DockerRuntime {
  return dockerRuntime({
    image,
    imagePolicy: image === TEST_IMAGE ? 'never' : 'if-not-present',
    command: ['sh', '-c', SCRIPT],
    network: 'none',
    memoryBytes: MEMORY_BYTES,
    pidsLimit: PIDS_LIMIT,
    cpus: 0.5,
    readOnlyRootfs: true,
  });
}
