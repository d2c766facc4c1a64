/**
 * What is decided without a daemon: the option checks (each error names its option), the daemon's
 * address, the pull parameters of an image reference, the container's create body, which limits a
 * daemon's `/info` rules out, and the worker-process label that orphan reaping reads.
 */
import { describe, expect, it } from 'vitest';
import { makeSpec } from '@envworker/core/conformance';
import { containerConfig, LABELS } from '../src/container-config.js';
import { compareVersions, unsupported } from '../src/daemon-check.js';
import { resolveDockerEndpoint } from '../src/docker-host.js';
import { pullParameters } from '../src/image-policy.js';
import { dockerRuntime, type DockerRuntimeOptions } from '../src/index.js';
import { resolveDockerOptions } from '../src/runtime-options.js';
import { ownWorkerProcess, parseWorkerProcess, workerProcessGone } from '../src/worker-process.js';

const IMAGE = 'envworker-test/busybox:latest';

describe('dockerRuntime options', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['no image', {}, /^dockerRuntime: image must name an image/],
    ['an image with spaces', { image: 'busy box' }, /^dockerRuntime: image "busy box" is not an image reference/],
    ['an unknown option', { image: IMAGE, memory: 1 }, /^dockerRuntime: unknown options: memory$/],
    ['an unknown image policy', { image: IMAGE, imagePolicy: 'sometimes' }, /^dockerRuntime: imagePolicy must be one of never, if-not-present, always/],
    ['an empty command', { image: IMAGE, command: [] }, /^dockerRuntime: command must be a non-empty array/],
    ['a command with NUL', { image: IMAGE, command: ['sh', 'a\0b'] }, /^dockerRuntime: command\[1\] must be a string without NUL/],
    ['an on-work variable in env', { image: IMAGE, env: { ANTHROPIC_WORK_ID: 'x' } }, /^dockerRuntime: env: ANTHROPIC_WORK_ID is given to each container/],
    ['a bad variable name in env', { image: IMAGE, env: { 'A-B': 'x' } }, /^dockerRuntime: env: "A-B" is not a variable name/],
    ['a relative mount path', { image: IMAGE, mountPath: 'work' }, /^dockerRuntime: mountPath must be an absolute path/],
    ['the root as mount path', { image: IMAGE, mountPath: '/' }, /^dockerRuntime: mountPath must not be the root directory/],
    ['a user name', { image: IMAGE, user: 'nobody' }, /^dockerRuntime: user must be a numeric uid or uid:gid/],
    ['too little memory', { image: IMAGE, memoryBytes: 1024 }, /^dockerRuntime: memoryBytes must be a whole number between 6291456 and/],
    ['no CPU', { image: IMAGE, cpus: 0 }, /^dockerRuntime: cpus must be a number of CPUs between 0.01 and 1024/],
    ['a fractional pids limit', { image: IMAGE, pidsLimit: 1.5 }, /^dockerRuntime: pidsLimit must be a whole number/],
    ['joining another container', { image: IMAGE, network: 'container:abc' }, /^dockerRuntime: network must be none, bridge, host or the name of a network/],
    ['capability ALL', { image: IMAGE, capAdd: ['ALL'] }, /^dockerRuntime: capAdd\[0\]: ALL is refused/],
    ['a lowercase capability', { image: IMAGE, capAdd: ['chown'] }, /^dockerRuntime: capAdd\[0\] must be a capability name/],
    ['SIGKILL as the polite signal', { image: IMAGE, stopSignal: 'SIGKILL' }, /^dockerRuntime: stopSignal must be a signal a program can handle/],
    ['an unknown signal', { image: IMAGE, stopSignal: 'SIGNOPE' }, /^dockerRuntime: stopSignal must be a signal name/],
    ['a non-boolean flag', { image: IMAGE, keepContainers: 'yes' }, /^dockerRuntime: keepContainers must be a boolean/],
    ['a tiny line limit', { image: IMAGE, maxLineBytes: 10 }, /^dockerRuntime: maxLineBytes must be a whole number between 256 and/],
    ['an ssh daemon address', { image: IMAGE, dockerHost: 'ssh://host' }, /^dockerRuntime: dockerHost must start with unix:\/\/ or tcp:\/\//],
  ])('refuses %s, naming the option', (_, options, message) => {
    expect(() => dockerRuntime(options as unknown as DockerRuntimeOptions)).toThrow(message);
  });

  it('applies the defaults: pull if not present, image CMD, /work, bridge, init, SIGTERM, nothing kept', () => {
    const settings = resolveDockerOptions({ image: IMAGE }, {});
    expect(settings).toMatchObject({
      name: 'docker',
      endpoint: { kind: 'unix', socketPath: '/var/run/docker.sock' },
      imagePolicy: 'if-not-present',
      command: null,
      env: {},
      mountPath: '/work',
      user: null,
      memoryBytes: null,
      cpus: null,
      pidsLimit: null,
      network: 'bridge',
      readOnlyRootfs: false,
      capAdd: [],
      init: true,
      stopSignal: 'SIGTERM',
      keepContainers: false,
      keepWorkdir: false,
      daemonLogs: false,
      maxLineBytes: 16 * 1024,
      maxOutputBytes: null,
      reapOrphans: false,
    });
  });

  it('reads user as uid or uid:gid, and capabilities with or without CAP_', () => {
    expect(resolveDockerOptions({ image: IMAGE, user: '1000' }, {}).user).toEqual({ uid: 1000, gid: null });
    expect(resolveDockerOptions({ image: IMAGE, user: '1000:50' }, {}).user).toEqual({ uid: 1000, gid: 50 });
    expect(resolveDockerOptions({ image: IMAGE, capAdd: ['CAP_CHOWN', 'CHOWN', 'NET_RAW'] }, {}).capAdd).toEqual(['CHOWN', 'NET_RAW']);
    expect(resolveDockerOptions({ image: IMAGE, mountPath: '/srv//item/' }, {}).mountPath).toBe('/srv/item');
  });
});

describe('the daemon address', () => {
  it('is the local socket by default, DOCKER_HOST when set, and the option above both', () => {
    expect(resolveDockerEndpoint(undefined, {})).toEqual({ kind: 'unix', socketPath: '/var/run/docker.sock', display: 'unix:///var/run/docker.sock' });
    expect(resolveDockerEndpoint(undefined, { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toMatchObject({ socketPath: '/run/user/1000/docker.sock' });
    expect(resolveDockerEndpoint(undefined, { DOCKER_HOST: 'tcp://127.0.0.1:2375' })).toEqual({ kind: 'tcp', origin: 'http://127.0.0.1:2375', display: 'tcp://127.0.0.1:2375' });
    expect(resolveDockerEndpoint('unix:///tmp/d.sock', { DOCKER_HOST: 'tcp://127.0.0.1:2375' })).toMatchObject({ kind: 'unix', socketPath: '/tmp/d.sock' });
  });

  it('refuses TLS, a relative socket and a tcp address without a port, naming where it came from', () => {
    expect(() => resolveDockerEndpoint(undefined, { DOCKER_HOST: 'tcp://10.0.0.1:2376', DOCKER_TLS_VERIFY: '1' })).toThrow(/DOCKER_TLS_VERIFY is set, but TLS/);
    expect(() => resolveDockerEndpoint(undefined, { DOCKER_HOST: 'unix://docker.sock' })).toThrow(/the DOCKER_HOST variable must name an absolute socket path/);
    expect(() => resolveDockerEndpoint('tcp://10.0.0.1', {})).toThrow(/dockerHost must be tcp:\/\/host:port/);
  });
});

describe('pullParameters', () => {
  it.each([
    ['busybox', { fromImage: 'busybox', tag: 'latest' }],
    ['busybox:1.36', { fromImage: 'busybox', tag: '1.36' }],
    ['registry.local:5000/team/agent', { fromImage: 'registry.local:5000/team/agent', tag: 'latest' }],
    ['registry.local:5000/team/agent:v2', { fromImage: 'registry.local:5000/team/agent', tag: 'v2' }],
    [`agent@sha256:${'a'.repeat(64)}`, { fromImage: `agent@sha256:${'a'.repeat(64)}`, tag: undefined }],
  ])('%s pulls %j (a tag always named, so a pull never fetches every tag)', (reference, expected) => {
    expect(pullParameters(reference)).toEqual(expected);
  });
});

describe('containerConfig', () => {
  const spec = makeSpec({ workdir: '/var/lib/envworker/item-1', secret: { sessions_token: 'sesstok-config-0123456789' }, workerId: 'host-1' });

  it('holds the on-work environment, the labels, stdin once, and the security settings whatever the options', () => {
    const config = containerConfig(resolveDockerOptions({ image: IMAGE, env: { MODE: 'x' } }, {}), spec, 'sha256:abc', 'boot/1/2/3');
    expect(config['Image']).toBe('sha256:abc');
    expect(config['Cmd']).toBeUndefined();
    expect(config['Env']).toEqual(['MODE=x', ...Object.entries(spec.env).map(([name, value]) => `${name}=${value}`)]);
    expect(config['Labels']).toEqual({
      [LABELS.workerId]: 'host-1',
      [LABELS.workId]: spec.work.id,
      [LABELS.environmentId]: spec.work.environment_id,
      [LABELS.workdir]: spec.workdir,
      [LABELS.workerProcess]: 'boot/1/2/3',
    });
    expect(config).toMatchObject({ OpenStdin: true, StdinOnce: true, AttachStdin: true, Tty: false, WorkingDir: '/work' });
    expect(config['HostConfig']).toMatchObject({
      Mounts: [{ Type: 'bind', Source: spec.workdir, Target: '/work', ReadOnly: false }],
      NetworkMode: 'bridge',
      CapDrop: ['ALL'],
      CapAdd: [],
      Privileged: false,
      SecurityOpt: ['no-new-privileges'],
      Init: true,
      LogConfig: { Type: 'none', Config: {} },
    });
    expect(config['HostConfig']).not.toHaveProperty('Memory');
  });

  it('sets swap to the memory limit, CPUs in billionths, and the user as given', () => {
    const settings = resolveDockerOptions({ image: IMAGE, memoryBytes: 64 * 2 ** 20, cpus: 1.5, pidsLimit: 100, user: '1000:1000', daemonLogs: true }, {});
    const config = containerConfig(settings, spec, 'sha256:abc', null);
    expect(config['User']).toBe('1000:1000');
    expect(config['Labels']).not.toHaveProperty(LABELS.workerProcess);
    expect(config['HostConfig']).toMatchObject({ Memory: 64 * 2 ** 20, MemorySwap: 64 * 2 ** 20, NanoCpus: 1_500_000_000, PidsLimit: 100 });
    expect(config['HostConfig']).not.toHaveProperty('LogConfig');
  });
});

describe('what the daemon can apply', () => {
  const info = { MemoryLimit: true, SwapLimit: true, PidsLimit: true, CpuCfsQuota: true, NCPU: 2, InitBinary: 'docker-init' };

  it('names every limit a daemon cannot enforce, and nothing when it can', () => {
    const settings = resolveDockerOptions({ image: IMAGE, memoryBytes: 2 ** 30, cpus: 4, pidsLimit: 10 }, {});
    expect(unsupported(info, resolveDockerOptions({ image: IMAGE, memoryBytes: 2 ** 30, cpus: 2, pidsLimit: 10 }, {}))).toEqual([]);
    expect(unsupported({ ...info, SwapLimit: false, PidsLimit: false, InitBinary: '' }, settings)).toEqual([
      'memoryBytes: its kernel cannot limit swap, so the limit would not hold (enable swap accounting)',
      'pidsLimit: its kernel has no pids cgroup',
      'cpus: 4 is more than its 2 CPUs',
      'init: it has no init binary (docker-init); install tini or set init: false',
    ]);
    expect(unsupported({ ...info, MemoryLimit: false, CpuCfsQuota: false }, resolveDockerOptions({ image: IMAGE }, {}))).toEqual([]);
  });

  it('compares API versions numerically', () => {
    expect(compareVersions('1.41', '1.41')).toBe(0);
    expect(compareVersions('1.9', '1.41')).toBeLessThan(0);
    expect(compareVersions('1.50', '1.41')).toBeGreaterThan(0);
    expect(compareVersions('2.0', '1.41')).toBeGreaterThan(0);
  });
});

describe('the worker-process label', () => {
  it('names this process, which runs', async () => {
    const own = ownWorkerProcess();
    expect(own).not.toBeNull();
    expect(parseWorkerProcess(own as string)?.pid).toBe(process.pid);
    expect(await workerProcessGone(own as string, own)).toBe(false);
  });

  it('is gone when the start time differs (a recycled pid) or no process has the pid', async () => {
    const own = parseWorkerProcess(ownWorkerProcess() as string);
    if (own === null) throw new Error('no label');
    const self = `${own.bootId}/${own.pidNamespace}/${own.pid}/${own.startTime}`;
    expect(await workerProcessGone(`${own.bootId}/${own.pidNamespace}/${own.pid}/${own.startTime + 1}`, self)).toBe(true);
    expect(await workerProcessGone(`${own.bootId}/${own.pidNamespace}/4194305/1`, self)).toBe(true);
  });

  it('cannot be judged from another boot, another pid namespace, or garbage', async () => {
    const own = parseWorkerProcess(ownWorkerProcess() as string);
    if (own === null) throw new Error('no label');
    const self = `${own.bootId}/${own.pidNamespace}/${own.pid}/${own.startTime}`;
    expect(await workerProcessGone(`00000000-0000-0000-0000-000000000000/${own.pidNamespace}/1/1`, self)).toBeNull();
    expect(await workerProcessGone(`${own.bootId}/1/4194305/1`, self)).toBeNull();
    expect(await workerProcessGone('not a label', self)).toBeNull();
    expect(await workerProcessGone(self, null)).toBeNull();
  });
});
