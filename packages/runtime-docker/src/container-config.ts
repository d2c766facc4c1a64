/**
 * The container of one work item, as the body of `POST /containers/create`: the image and command,
 * the item's environment, its work directory mounted read-write, standard input open for the work
 * item JSON (and closed after it), the limits, and the labels that `reap` finds it by. The
 * security settings are not options: every capability dropped but the ones asked for, never
 * privileged, no privilege gained through setuid files.
 */
import type { SandboxSpec } from '@envworker/core';
import type { DockerSettings } from './runtime-options.js';

/** The labels on every container of envworker. */
export const LABELS = {
  workerId: 'envworker.worker_id',
  workId: 'envworker.work_id',
  environmentId: 'envworker.environment_id',
  /** The host path of the item's work directory, for `reap` to remove. */
  workdir: 'envworker.workdir',
  /** The worker process that made it (see `worker-process.ts`), for reaping orphans. */
  workerProcess: 'envworker.worker_process',
} as const;

/** Docker's CPU quota unit: a billionth of a CPU. */
const NANO_CPUS_PER_CPU = 1e9;

/** The body of `POST /containers/create` for one item. */
export function containerConfig(settings: DockerSettings, spec: SandboxSpec, imageId: string, workerProcess: string | null): Record<string, unknown> {
  const env = [...Object.entries(settings.env), ...Object.entries(spec.env)]
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([name, value]) => `${name}=${value}`);
  const labels: Record<string, string> = {
    [LABELS.workerId]: spec.workerId,
    [LABELS.workId]: spec.work.id,
    [LABELS.environmentId]: spec.work.environment_id,
    [LABELS.workdir]: spec.workdir,
  };
  if (workerProcess !== null) labels[LABELS.workerProcess] = workerProcess;
  const user = settings.user === null ? undefined : settings.user.gid === null ? `${settings.user.uid}` : `${settings.user.uid}:${settings.user.gid}`;
  return {
    Image: imageId,
    ...(settings.command === null ? {} : { Cmd: settings.command }),
    Env: env,
    WorkingDir: settings.mountPath,
    ...(user === undefined ? {} : { User: user }),
    Labels: labels,
    // Standard input is attached once, takes the work item JSON, and is closed: the command sees EOF.
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    StdinOnce: true,
    Tty: false,
    HostConfig: {
      // A mount rather than a bind string: a host path holding ':' or ',' cannot be misread.
      Mounts: [{ Type: 'bind', Source: spec.workdir, Target: settings.mountPath, ReadOnly: false }],
      ...(settings.memoryBytes === null ? {} : { Memory: settings.memoryBytes, MemorySwap: settings.memoryBytes }),
      ...(settings.cpus === null ? {} : { NanoCpus: Math.round(settings.cpus * NANO_CPUS_PER_CPU) }),
      ...(settings.pidsLimit === null ? {} : { PidsLimit: settings.pidsLimit }),
      NetworkMode: settings.network,
      ReadonlyRootfs: settings.readOnlyRootfs,
      CapDrop: ['ALL'],
      CapAdd: settings.capAdd,
      Privileged: false,
      SecurityOpt: ['no-new-privileges'],
      Init: settings.init,
      // The worker reads the output from the attach connection; the daemon need not keep a copy.
      ...(settings.daemonLogs ? {} : { LogConfig: { Type: 'none', Config: {} } }),
      AutoRemove: false,
      RestartPolicy: { Name: 'no' },
    },
  };
}
