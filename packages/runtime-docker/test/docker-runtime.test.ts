/**
 * The Docker runtime against a real daemon and the busybox test image: exit codes, stop with
 * grace and kill, limits and isolation as the daemon applies them, the environment and standard
 * input, labels, output, and that no container and no work directory outlive any outcome.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { VirtualClock, type Sandbox, type SandboxExit } from '@envworker/core';
import type { TestSandboxSpec } from '@envworker/core/conformance';
import { dockerRuntime, LABELS, TRUNCATED_MARK, type DockerRuntime, type DockerRuntimeOptions } from '../src/index.js';
import { describeDocker, TEST_IMAGE } from './support/docker-available.js';
import { TempRoot, containersOfWork, exists, inspectContainer, testClient, within } from './support/harness.js';

const root = new TempRoot();
const client = testClient();
const runtimes: DockerRuntime[] = [];
/** Every spec a test started, checked after it: no container, no work directory left. */
let specs: TestSandboxSpec[] = [];
/** Every sandbox a test started: a test that failed half-way may have left one running. */
let sandboxes: Sandbox[] = [];

beforeAll(async () => {
  await root.create('docker-runtime');
});

afterAll(async () => {
  await Promise.all(runtimes.map((runtime) => runtime.close()));
  await client.close();
  await root.remove();
});

afterEach(async () => {
  const started = specs;
  specs = [];
  await Promise.all(sandboxes.splice(0).map((sandbox) => within(sandbox.kill(), 10_000, 'kill() in clean-up')));
  for (const spec of started) {
    expect(await containersOfWork(client, spec.work.id), `containers of ${spec.work.id}`).toEqual([]);
    expect(await exists(spec.workdir), `workdir ${spec.workdir}`).toBe(false);
  }
});

/** A runtime that runs `script` with the image's `sh`; no network unless asked. */
function shell(script: string, options: Omit<DockerRuntimeOptions, 'image' | 'command'> = {}): DockerRuntime {
  const runtime = dockerRuntime({ image: TEST_IMAGE, imagePolicy: 'never', command: ['sh', '-c', script], network: 'none', ...options });
  runtimes.push(runtime);
  return runtime;
}

async function run(runtime: DockerRuntime, spec: TestSandboxSpec = root.spec()): Promise<{ spec: TestSandboxSpec; sandbox: Sandbox }> {
  specs.push(spec);
  const sandbox = await within(runtime.start(spec, new AbortController().signal), 10_000, 'start()');
  sandboxes.push(sandbox);
  return { spec, sandbox };
}

function stdout(spec: TestSandboxSpec): string[] {
  return spec.log.lines.filter((line) => line.stream === 'stdout').map((line) => line.text);
}

function stderr(spec: TestSandboxSpec): string[] {
  return spec.log.lines.filter((line) => line.stream === 'stderr').map((line) => line.text);
}

function ready(spec: TestSandboxSpec, text = 'ready'): Promise<unknown> {
  return spec.log.waitFor((line) => line.text === text, 10_000, text);
}

function exitOf(sandbox: Sandbox): Promise<SandboxExit> {
  return within(sandbox.exit, 15_000, 'exit');
}

/** Runs `script` to its end; resolves with the spec (its lines) and the exit. */
async function runToEnd(script: string, options: Omit<DockerRuntimeOptions, 'image' | 'command'> = {}): Promise<{ spec: TestSandboxSpec; exit: SandboxExit }> {
  const { spec, sandbox } = await run(shell(script, options));
  return { spec, exit: await exitOf(sandbox) };
}

describeDocker('exit', () => {
  it.each([
    ['exit 0', 0],
    ['exit 3', 3],
    ['exit 255', 255],
  ])('`%s` ends as exited with code %i and a duration', async (script, code) => {
    const { exit } = await runToEnd(script);
    expect(exit).toEqual({ code, signal: null, reason: 'exited', durationMs: expect.any(Number) });
    expect(exit.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('a signal the runtime did not send is reported as Docker reports it: the status 128 + N as the code', async () => {
    // Docker cannot tell a death by SIGUSR1 (10) from `exit 138`; the runtime never claims a signal it did not send.
    const { exit } = await runToEnd('kill -USR1 $$');
    expect(exit).toMatchObject({ code: 138, signal: null, reason: 'exited' });
  });

  it('the sandbox id is the container id, and the container is named after the work item', async () => {
    const { spec, sandbox } = await run(shell(`echo ready; sleep 30 & wait`));
    await ready(spec);
    expect(sandbox.id).toMatch(/^[0-9a-f]{64}$/);
    const details = await inspectContainer(client, sandbox.id);
    expect(details?.Name).toMatch(new RegExp(`^/envworker-${spec.work.id}-[0-9a-f]{8}$`));
    expect(details?.State.Running).toBe(true);
    await within(sandbox.kill(), 10_000, 'kill()');
  });

  it('start rejects when the command cannot be executed (without init), leaving no container and no work directory', async () => {
    const runtime = dockerRuntime({ image: TEST_IMAGE, imagePolicy: 'never', command: ['/no/such/program'], network: 'none', init: false });
    runtimes.push(runtime);
    const spec = root.spec();
    specs.push(spec);
    await expect(runtime.start(spec, new AbortController().signal)).rejects.toThrow(/^the container could not be started \(.*no such file or directory/);
    expect(await runtime.reap(spec.workerId)).toBe(0);
  });

  it('with init, a command that cannot be executed is init failing to run it: exited 127, said on stderr', async () => {
    const runtime = dockerRuntime({ image: TEST_IMAGE, imagePolicy: 'never', command: ['/no/such/program'], network: 'none' });
    runtimes.push(runtime);
    const { spec, sandbox } = await run(runtime);
    expect(await exitOf(sandbox)).toMatchObject({ code: 127, signal: null, reason: 'exited' });
    expect(stderr(spec).join('\n')).toMatch(/exec \/no\/such\/program failed/);
  });
});

describeDocker('stop and kill', () => {
  it('stop(): a command that traps the polite signal exits cleanly within the grace, as stopped with its code', async () => {
    const { spec, sandbox } = await run(shell(`trap 'echo "saw SIGTERM"; exit 0' TERM; echo ready; sleep 300 & wait`));
    await ready(spec);
    const exit = await within(sandbox.stop(10_000), 10_000, 'stop()');
    expect(exit).toMatchObject({ code: 0, signal: null, reason: 'stopped' });
    expect(stdout(spec)).toContain('saw SIGTERM');
  });

  it('stop(): a command that keeps the default action of SIGTERM ends by it, as stopped with the signal', async () => {
    const { spec, sandbox } = await run(shell(`echo ready; sleep 300 & wait`));
    await ready(spec);
    expect(await within(sandbox.stop(10_000), 10_000, 'stop()')).toMatchObject({ code: null, signal: 'SIGTERM', reason: 'stopped' });
  });

  it('stop(): a command that ignores the polite signal runs on through the grace and is killed when it runs out', async () => {
    // Virtual time: the grace ends when the test says so, so "not before the grace" is exact.
    const clock = new VirtualClock(1_000_000);
    const { spec, sandbox } = await run(shell(`trap 'echo "saw SIGTERM"' TERM; echo ready; while :; do sleep 300 & wait; done`, { clock }));
    await ready(spec);
    let settled = false;
    void sandbox.exit.then(() => (settled = true));
    const stopping = sandbox.stop(60_000);
    await spec.log.waitFor((line) => line.text === 'saw SIGTERM', 10_000, 'saw SIGTERM');
    clock.advance(59_999);
    expect((await inspectContainer(client, sandbox.id))?.State.Running).toBe(true);
    expect(settled).toBe(false);
    clock.advance(1);
    expect(await within(stopping, 10_000, 'stop()')).toMatchObject({ code: null, signal: 'SIGKILL', reason: 'killed' });
  });

  it('stopSignal: the polite signal can be another one (SIGINT here)', async () => {
    const script = `trap 'echo "saw SIGINT"; exit 0' INT; trap 'echo "saw SIGTERM"; exit 9' TERM; echo ready; sleep 300 & wait`;
    const { spec, sandbox } = await run(shell(script, { stopSignal: 'SIGINT' }));
    await ready(spec);
    expect(await within(sandbox.stop(10_000), 10_000, 'stop()')).toMatchObject({ code: 0, reason: 'stopped' });
    expect(stdout(spec)).toContain('saw SIGINT');
    expect(stdout(spec)).not.toContain('saw SIGTERM');
  });

  it('kill(): ends at once a command that ignores the polite signal, and the container is gone when exit resolves', async () => {
    const { spec, sandbox } = await run(shell(`trap '' TERM; echo ready; while :; do sleep 300 & wait; done`));
    await ready(spec);
    expect(await within(sandbox.kill(), 10_000, 'kill()')).toMatchObject({ code: null, signal: 'SIGKILL', reason: 'killed' });
    expect(await inspectContainer(client, sandbox.id)).toBeNull();
  });

  it('init: false makes the command PID 1, which the kernel shields from a polite signal it has no handler for', async () => {
    const clock = new VirtualClock(1_000_000);
    const { spec, sandbox } = await run(shell(`echo "pid $$"; echo ready; sleep 300 & wait`, { init: false, clock }));
    await ready(spec);
    expect(stdout(spec)).toContain('pid 1');
    const stopping = sandbox.stop(5000);
    // The daemon has delivered SIGTERM once its kill call returns; the shell is still there.
    await within(client.call('POST', `/containers/${sandbox.id}/kill`, { query: { signal: 'SIGTERM' } }), 5000, 'a second SIGTERM');
    expect((await inspectContainer(client, sandbox.id))?.State.Running).toBe(true);
    clock.advance(5000);
    expect(await within(stopping, 10_000, 'stop()')).toMatchObject({ signal: 'SIGKILL', reason: 'killed' });
  });
});

describeDocker('limits and isolation', () => {
  it('applies the limits and the security settings to the container, and labels it', async () => {
    const runtime = shell(`echo ready; sleep 300 & wait`, {
      memoryBytes: 32 * 1024 * 1024,
      cpus: 0.5,
      pidsLimit: 64,
      readOnlyRootfs: true,
      capAdd: ['CHOWN', 'CAP_NET_BIND_SERVICE'],
      user: '1000:1000',
      mountPath: '/srv/item',
    });
    const { spec, sandbox } = await run(runtime);
    await ready(spec);
    const details = await inspectContainer(client, sandbox.id);
    expect(details?.HostConfig).toMatchObject({
      Memory: 32 * 1024 * 1024,
      MemorySwap: 32 * 1024 * 1024,
      NanoCpus: 500_000_000,
      PidsLimit: 64,
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      Privileged: false,
      SecurityOpt: ['no-new-privileges'],
      Init: true,
      LogConfig: { Type: 'none' },
      Mounts: [{ Type: 'bind', Source: spec.workdir, Target: '/srv/item' }],
    });
    expect(details?.HostConfig.Mounts?.[0]?.ReadOnly ?? false).toBe(false);
    expect(details?.HostConfig.CapAdd?.map((name) => name.replace(/^CAP_/, '')).sort()).toEqual(['CHOWN', 'NET_BIND_SERVICE']);
    expect(details?.Config).toMatchObject({ User: '1000:1000', WorkingDir: '/srv/item', OpenStdin: true, StdinOnce: true, Tty: false });
    expect(details?.Config.Labels).toMatchObject({
      [LABELS.workerId]: spec.workerId,
      [LABELS.workId]: spec.work.id,
      [LABELS.environmentId]: spec.work.environment_id,
      [LABELS.workdir]: spec.workdir,
    });
    await within(sandbox.kill(), 10_000, 'kill()');
  });

  it('an allocation over the memory limit ends the sandbox as limit: out of memory', async () => {
    // `tail` keeps the last line, which /dev/zero never ends: 64 MiB held in a 16 MiB container.
    const { exit } = await runToEnd('head -c 64m /dev/zero | tail', { memoryBytes: 16 * 1024 * 1024 });
    expect(exit).toMatchObject({ code: null, signal: 'SIGKILL', reason: 'limit' });
    expect(exit.detail).toMatch(/^out of memory: the kernel killed a process of the container at its memory limit \(16777216 bytes\)/);
  });

  it('the same allocation within the memory limit completes', async () => {
    const { exit } = await runToEnd('head -c 8m /dev/zero | tail | wc -c', { memoryBytes: 64 * 1024 * 1024 });
    expect(exit).toMatchObject({ code: 0, reason: 'exited' });
  });

  it('network none leaves only the loopback interface; the default bridge has one more', async () => {
    const isolated = await runToEnd('ls /sys/class/net', { network: 'none' });
    expect(stdout(isolated.spec)).toEqual(['lo']);
    const bridged = await runToEnd('ls /sys/class/net', { network: 'bridge' });
    expect(stdout(bridged.spec)).toEqual(['eth0', 'lo']);
  });

  it('readOnlyRootfs: the image cannot be written, the work directory can', async () => {
    const { spec, exit } = await runToEnd('touch /probe || echo "root read-only"; touch /work/probe && echo "work writable"', { readOnlyRootfs: true });
    expect(exit).toMatchObject({ code: 0, reason: 'exited' });
    expect(stdout(spec)).toEqual(['root read-only', 'work writable']);
  });

  it('every capability is dropped: root in the container cannot chown, unless CHOWN is given back', async () => {
    const script = 'touch /work/f && chown 1234 /work/f && echo chowned';
    const dropped = await runToEnd(script);
    expect(dropped.exit.code).not.toBe(0);
    expect(stdout(dropped.spec)).toEqual([]);
    const given = await runToEnd(script, { capAdd: ['CHOWN'] });
    expect(given.exit).toMatchObject({ code: 0, reason: 'exited' });
    expect(stdout(given.spec)).toEqual(['chowned']);
  });

  it('user: the command runs as that uid and gid, and can write the work directory, which is removed after', async () => {
    const { spec, exit } = await runToEnd('id -u; id -g; echo data > /work/owned && ls -n /work/owned | awk "{ print \\$3 }"', { user: '1000:1000' });
    expect(exit).toMatchObject({ code: 0, reason: 'exited' });
    expect(stdout(spec)).toEqual(['1000', '1000', '1000']);
  });

  it('delivers the on-work environment and the fixed env, and the work item JSON on standard input, then EOF', async () => {
    const runtime = shell('cat > /work/stdin; echo "stdin $(wc -c < /work/stdin) bytes"; env', { env: { EXTRA_SETTING: 'on' } });
    const spec = root.spec({ secret: { sessions_token: 'sesstok-docker-0123456789' } });
    const { sandbox } = await run(runtime, spec);
    await exitOf(sandbox);
    expect(stdout(spec)).toContain(`stdin ${Buffer.byteLength(spec.stdin)} bytes`);
    for (const [name, value] of Object.entries(spec.env)) expect(stdout(spec)).toContain(`${name}=${value}`);
    expect(stdout(spec)).toContain('EXTRA_SETTING=on');
    expect(stdout(spec).filter((line) => line.startsWith('ANTHROPIC_'))).toHaveLength(Object.keys(spec.env).length);
  });

  it('standard input arrives whole: the item JSON as the worker built it', async () => {
    const spec = root.spec({ work: { metadata: { note: 'ünïcödé "quoted" \\ back' } } });
    const { sandbox } = await run(shell('cat'), spec);
    await exitOf(sandbox);
    expect(`${stdout(spec).join('\n')}\n`).toBe(spec.stdin);
  });
});

describeDocker('output', () => {
  it('stdout and stderr reach the log sink apart, line by line, in order within each', async () => {
    const { spec } = await runToEnd('for i in 1 2 3; do echo "out $i"; echo "err $i" >&2; done; printf "no newline"');
    expect(stdout(spec)).toEqual(['out 1', 'out 2', 'out 3', 'no newline']);
    expect(stderr(spec)).toEqual(['err 1', 'err 2', 'err 3']);
  });

  it('much output arrives whole, across many frames', async () => {
    const { spec, exit } = await runToEnd('seq 1 50000');
    expect(exit.code).toBe(0);
    const lines = stdout(spec);
    expect(lines).toHaveLength(50_000);
    expect(lines[0]).toBe('1');
    expect(lines[49_999]).toBe('50000');
  });

  it('maxLineBytes: a longer line is cut and marked, and the next line comes whole', async () => {
    const { spec } = await runToEnd('head -c 2000 /dev/zero | tr "\\0" a; echo; echo next', { maxLineBytes: 256 });
    expect(stdout(spec)).toEqual([`${'a'.repeat(256)}${TRUNCATED_MARK}`, 'next']);
  });

  it('maxOutputBytes: a container that prints without end is killed, as limit', async () => {
    const { exit } = await runToEnd('yes', { maxOutputBytes: 100_000 });
    expect(exit).toMatchObject({ code: null, signal: 'SIGKILL', reason: 'limit' });
    expect(exit.detail).toMatch(/^printed more than maxOutputBytes \(100000 bytes\)/);
  });
});

describeDocker('what is left', () => {
  it('no container and no work directory after any outcome: exits, stop, kill, out of memory, a failed start', async () => {
    const outcomes: string[] = [];
    const natural = await runToEnd('echo data > /work/file; exit 0');
    const failing = await runToEnd('echo data > /work/file; exit 5');
    const oom = await runToEnd('head -c 64m /dev/zero | tail', { memoryBytes: 16 * 1024 * 1024 });
    outcomes.push(natural.exit.reason, failing.exit.reason, oom.exit.reason);
    for (const end of ['stop', 'kill'] as const) {
      const { spec, sandbox } = await run(shell('echo data > /work/file; echo ready; sleep 300 & wait'));
      await ready(spec);
      outcomes.push((await within(end === 'stop' ? sandbox.stop(5000) : sandbox.kill(), 10_000, end)).reason);
    }
    const broken = dockerRuntime({ image: TEST_IMAGE, imagePolicy: 'never', command: ['/no/such/program'], network: 'none', init: false });
    runtimes.push(broken);
    const spec = root.spec();
    specs.push(spec);
    await expect(broken.start(spec, new AbortController().signal)).rejects.toThrow(/could not be started/);
    expect(outcomes).toEqual(['exited', 'exited', 'limit', 'stopped', 'killed']);
    for (const started of specs) {
      expect(await containersOfWork(client, started.work.id)).toEqual([]);
      expect(await exists(started.workdir)).toBe(false);
    }
  });

  it('keepContainers and keepWorkdir keep the exited container and the files, which reap then leaves alone', async () => {
    const runtime = shell('echo kept > /work/file; exit 4', { keepContainers: true, keepWorkdir: true });
    const spec = root.spec();
    const sandbox = await within(runtime.start(spec, new AbortController().signal), 10_000, 'start()');
    expect(await exitOf(sandbox)).toMatchObject({ code: 4, reason: 'exited' });
    try {
      expect((await inspectContainer(client, sandbox.id))?.State).toMatchObject({ Status: 'exited', ExitCode: 4 });
      expect(await readFile(join(spec.workdir, 'file'), 'utf8')).toBe('kept\n');
      expect(await runtime.reap(spec.workerId)).toBe(0);
      expect(await containersOfWork(client, spec.work.id)).toEqual([sandbox.id]);
    } finally {
      await client.call('DELETE', `/containers/${sandbox.id}`, { query: { force: true } });
    }
  });

  it('refuses a work directory that already holds files, and leaves them alone', async () => {
    const spec = root.spec();
    await mkdir(spec.workdir, { recursive: true });
    await writeFile(join(spec.workdir, 'keep.txt'), 'not yours');
    await expect(shell('exit 0').start(spec, new AbortController().signal)).rejects.toThrow(/already exists and is not empty/);
    expect(await readdir(spec.workdir)).toEqual(['keep.txt']);
    expect((await stat(join(spec.workdir, 'keep.txt'))).isFile()).toBe(true);
    expect(await containersOfWork(client, spec.work.id)).toEqual([]);
  });
});
