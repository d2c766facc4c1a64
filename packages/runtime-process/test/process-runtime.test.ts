/**
 * The process runtime with real processes: exit codes and signals, stop with grace, the process
 * group, the environment and standard input, the work directory, output bounds and limits.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock, type Sandbox, type SandboxExit } from '@envworker/core';
import { parseConformanceEchoLine, type TestSandboxSpec } from '@envworker/core/conformance';
import { processRuntime, TRUNCATED_MARK, type ProcessRuntimeOptions } from '../src/index.js';
import { CONFORMANCE_PROGRAM, TempRoot, exists, numbersAfter, processRunning, within } from './support/harness.js';

const root = new TempRoot();
const HAS_AUTOGROUP = existsSync('/proc/self/autogroup');
if (!HAS_AUTOGROUP) console.warn('@envworker/runtime-process: the autogroup test is skipped: this kernel has no /proc/<pid>/autogroup');
let stateDir: string;
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAKE_RUNTIME = fileURLToPath(new URL('./fixtures/make-runtime.ts', import.meta.url));

beforeAll(async () => {
  await root.create('process-runtime');
  stateDir = root.path('state');
});

afterAll(async () => {
  await root.remove();
});

/** A runtime that runs `script` with /bin/sh, its state in this file's temporary root. */
function shell(script: string, options: Omit<ProcessRuntimeOptions, 'command' | 'shell'> = {}): ReturnType<typeof processRuntime> {
  return processRuntime({ command: [script], shell: true, stateDir, ...options });
}

async function run(
  runtime: ReturnType<typeof processRuntime>,
  spec: TestSandboxSpec = root.spec(),
): Promise<{ spec: TestSandboxSpec; sandbox: Sandbox }> {
  const sandbox = await within(runtime.start(spec, new AbortController().signal), 5000, 'start()');
  return { spec, sandbox };
}

function stdout(spec: TestSandboxSpec): string[] {
  return spec.log.lines.filter((line) => line.stream === 'stdout').map((line) => line.text);
}

function ready(spec: TestSandboxSpec, text = 'ready'): Promise<unknown> {
  return spec.log.waitFor((line) => line.text === text, 5000, text);
}

function exitOf(sandbox: Sandbox): Promise<SandboxExit> {
  return within(sandbox.exit, 10_000, 'exit');
}

describe('exit', () => {
  it.each([
    ['exit 0', { code: 0, signal: null, reason: 'exited' }],
    ['exit 3', { code: 3, signal: null, reason: 'exited' }],
    ['exit 255', { code: 255, signal: null, reason: 'exited' }],
    ['kill -USR1 $$', { code: null, signal: 'SIGUSR1', reason: 'exited' }],
    ['kill -SEGV $$', { code: null, signal: 'SIGSEGV', reason: 'exited' }],
  ])('`%s` ends with %j and a duration', async (script, expected) => {
    const { sandbox } = await run(shell(script));
    const exit = await exitOf(sandbox);
    expect(exit).toEqual({ ...expected, durationMs: expect.any(Number) });
    expect(exit.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('the sandbox id is the pid, and the pid leads its own process group', async () => {
    const { spec, sandbox } = await run(shell('echo "pid $$"; echo "pgid $(ps -o pgid= -p $$ | tr -d " ")"', { inheritEnv: ['PATH'] }));
    await exitOf(sandbox);
    expect(numbersAfter(spec, 'pid')).toEqual([Number(sandbox.id)]);
    expect(numbersAfter(spec, 'pgid')).toEqual([Number(sandbox.id)]);
    expect(Number(sandbox.id)).not.toBe(process.pid);
  });

  it('start rejects when the command cannot be executed, leaving no work directory and no state file', async () => {
    const program = root.path('program.sh');
    await writeFile(program, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const runtime = processRuntime({ command: [program], stateDir });
    await chmod(program, 0o644);
    const spec = root.spec();
    await expect(runtime.start(spec, new AbortController().signal)).rejects.toThrow(/the command could not be started \(EACCES/);
    expect(await exists(spec.workdir)).toBe(false);
    expect(await runtime.reap(spec.workerId)).toBe(0);
  });
});

describe('stop and kill', () => {
  it('stop(): a command that traps SIGTERM exits cleanly within the grace, as stopped with its code', async () => {
    const { spec, sandbox } = await run(shell(`trap 'echo "saw SIGTERM"; exit 0' TERM; echo ready; while :; do sleep 0.05; done`));
    await ready(spec);
    const began = performance.now();
    const exit = await within(sandbox.stop(5000), 6000, 'stop()');
    expect(exit).toMatchObject({ code: 0, signal: null, reason: 'stopped' });
    expect(performance.now() - began).toBeLessThan(5000);
    expect(stdout(spec)).toContain('saw SIGTERM');
  });

  it('stop(): a command that ignores SIGTERM is killed with SIGKILL once the grace has run out, not before', async () => {
    const { spec, sandbox } = await run(shell(`trap '' TERM; echo ready; while :; do sleep 0.05; done`));
    await ready(spec);
    const began = performance.now();
    const exit = await within(sandbox.stop(400), 5000, 'stop()');
    expect(exit).toMatchObject({ code: null, signal: 'SIGKILL', reason: 'killed' });
    expect(performance.now() - began).toBeGreaterThanOrEqual(375);
  });

  it('stopSignal: the polite signal can be another one (SIGINT here)', async () => {
    const { spec, sandbox } = await run(
      shell(`trap 'echo "saw SIGINT"; exit 0' INT; trap 'echo "saw SIGTERM"; exit 9' TERM; echo ready; while :; do sleep 0.05; done`, {
        stopSignal: 'SIGINT',
      }),
    );
    await ready(spec);
    expect(await within(sandbox.stop(5000), 6000, 'stop()')).toMatchObject({ code: 0, reason: 'stopped' });
    expect(stdout(spec)).toContain('saw SIGINT');
    expect(stdout(spec)).not.toContain('saw SIGTERM');
  });

  // The grandchild ignores SIGTERM and holds nothing but its place in the group: only a signal to
  // the group reaches it. It prints its pid once its trap is set.
  const grandchild = `sh -c 'trap "" TERM; echo "grandchild $$"; exec sleep 300' &`;

  /** Waits for the grandchild's line; resolves with its pid. */
  async function grandchildOf(spec: TestSandboxSpec): Promise<number> {
    await spec.log.waitFor((line) => line.text.startsWith('grandchild '), 5000, 'grandchild');
    return numbersAfter(spec, 'grandchild')[0] as number;
  }

  it('kill(): the whole group dies at once, grandchildren included, by the time exit resolves', async () => {
    const { spec, sandbox } = await run(shell(`${grandchild} trap '' TERM; echo ready; wait`));
    await ready(spec);
    const pid = await grandchildOf(spec);
    expect(await processRunning(pid)).toBe(true);
    expect(await within(sandbox.kill(), 5000, 'kill()')).toMatchObject({ signal: 'SIGKILL', reason: 'killed' });
    expect(await processRunning(pid)).toBe(false);
  });

  it('stop(): a grandchild that ignores the polite signal is killed when the grace runs out, though the command died at once', async () => {
    const { spec, sandbox } = await run(shell(`${grandchild} echo ready; wait`));
    await ready(spec);
    const pid = await grandchildOf(spec);
    const began = performance.now();
    expect(await within(sandbox.stop(400), 5000, 'stop()')).toMatchObject({ code: null, signal: 'SIGTERM', reason: 'stopped' });
    expect(performance.now() - began).toBeGreaterThanOrEqual(375);
    expect(await processRunning(pid)).toBe(false);
  });

  it('stop(): the group keeps its grace after the command died: a grandchild winding down on SIGTERM finishes', async () => {
    // A shell dies at SIGTERM while the program it runs (here another shell) takes its time to end cleanly.
    const windingDown = `sh -c 'trap "sleep 0.3; echo \\"grandchild finished\\"; exit 0" TERM; echo "grandchild $$"; while :; do sleep 0.05; done' &`;
    const { spec, sandbox } = await run(shell(`${windingDown} echo ready; wait`));
    await ready(spec);
    await grandchildOf(spec);
    expect(await within(sandbox.stop(5000), 6000, 'stop()')).toMatchObject({ signal: 'SIGTERM', reason: 'stopped' });
    expect(stdout(spec)).toContain('grandchild finished');
  });

  it('a command that exits by itself takes what it left running in its group with it, by the time exit resolves', async () => {
    // The command exits once the grandchild has written its pid file, so the grandchild surely runs by then.
    const leaver = `sh -c 'trap "" TERM; echo "grandchild $$"; echo $$ > pid; exec sleep 300' &`;
    const { spec, sandbox } = await run(shell(`${leaver} while ! [ -s pid ]; do sleep 0.01; done; exit 0`));
    expect(await exitOf(sandbox)).toMatchObject({ code: 0, reason: 'exited' });
    const pid = await grandchildOf(spec);
    expect(pid).toBeGreaterThan(1);
    expect(await processRunning(pid)).toBe(false);
  });

  it('stop() with a bad grace rejects naming graceMs and changes nothing', async () => {
    const { spec, sandbox } = await run(shell('echo ready; while :; do sleep 0.05; done'));
    await ready(spec);
    await expect(sandbox.stop(-1)).rejects.toThrow(/graceMs/);
    expect(await processRunning(Number(sandbox.id))).toBe(true);
    await sandbox.kill();
  });
});

describe('priority', () => {
  // The runtime renices before it writes standard input, so a command that first reads it to the
  // end reports the priority it was left with, and so does what it starts after.
  const REPORT = `cat >/dev/null; echo "nice $(cut -d' ' -f19 /proc/$$/stat)"; sh -c 'echo "child $(cut -d" " -f19 /proc/$$/stat)"'`;

  it('runs the command, and what it starts, at niceness 19 by default', async () => {
    const { spec, sandbox } = await run(shell(REPORT, { inheritEnv: ['PATH'] }));
    expect((await exitOf(sandbox)).code).toBe(0);
    expect(numbersAfter(spec, 'nice')).toEqual([19]);
    expect(numbersAfter(spec, 'child')).toEqual([19]);
  });

  it('nice sets another niceness; 0 leaves the command at the default priority', async () => {
    for (const nice of [7, 0]) {
      const { spec, sandbox } = await run(shell(REPORT, { inheritEnv: ['PATH'], nice }));
      expect((await exitOf(sandbox)).code).toBe(0);
      expect(numbersAfter(spec, 'nice')).toEqual([nice]);
      expect(numbersAfter(spec, 'child')).toEqual([nice]);
    }
  });

  it.skipIf(!HAS_AUTOGROUP)("gives the sandbox's own scheduling group (its session's autogroup) the niceness, and leaves the worker's alone", async () => {
    const workerGroup = readFileSync('/proc/self/autogroup', 'utf8');
    const { spec, sandbox } = await run(shell('cat >/dev/null; echo ready; exec sleep 30'));
    await ready(spec);
    expect(await readFile(`/proc/${sandbox.id}/autogroup`, 'utf8')).toMatch(/ nice 19\n$/);
    expect(await readFile(`/proc/${sandbox.id}/autogroup`, 'utf8')).not.toBe(workerGroup);
    expect(readFileSync('/proc/self/autogroup', 'utf8')).toBe(workerGroup);
    await within(sandbox.kill(), 10_000, 'kill()');
  });
});

describe('environment and standard input', () => {
  it('each item gets its own --on-work environment and item JSON exactly; a secret reaches only its own item', async () => {
    const runtime = processRuntime({ command: [process.execPath, CONFORMANCE_PROGRAM], stateDir });
    const specs = [
      root.spec({ conformance: 'echo', secret: { sessions_token: 'sesstok-first-item-000000000001' } }),
      root.spec({ conformance: 'echo', secret: { sessions_token: 'sesstok-second-item-00000000002' } }),
      root.spec({ conformance: 'echo' }),
    ];
    const sandboxes = await Promise.all(specs.map((spec) => runtime.start(spec, new AbortController().signal)));
    const exits = await Promise.all(sandboxes.map(exitOf));
    expect(exits.map((exit) => exit.code)).toEqual([0, 0, 0]);
    const secrets = specs.map((spec) => spec.work.secret);
    for (const [index, spec] of specs.entries()) {
      const line = spec.log.lines.find((candidate) => parseConformanceEchoLine(candidate.text) !== null);
      const echo = parseConformanceEchoLine(line?.text ?? '');
      expect(echo?.env).toEqual({ ...spec.env });
      expect(echo?.stdin).toBe(spec.stdin);
      expect(echo?.stdin).toBe(`${JSON.stringify(spec.work)}\n`);
      for (const [other, secret] of secrets.entries()) {
        if (other !== index && secret !== null) expect(line?.text).not.toContain(secret);
      }
    }
    expect(specs[2]?.env.ANTHROPIC_WORK_SECRET).toBeUndefined();
  });

  it('passes on no host variable except the ones named in inheritEnv', async () => {
    process.env['ENVWORKER_TEST_ALLOWED'] = 'allowed-value';
    process.env['ENVWORKER_TEST_PRIVATE'] = 'private-value';
    process.env['ANTHROPIC_API_KEY'] = 'sk-host-credential-never-in-a-sandbox';
    try {
      const print = [process.execPath, '-e', 'console.log("env " + JSON.stringify(process.env))'];
      const closed = await run(processRuntime({ command: print, stateDir }));
      const opened = await run(processRuntime({ command: print, stateDir, inheritEnv: ['ENVWORKER_TEST_ALLOWED', 'ENVWORKER_TEST_ABSENT'] }));
      await Promise.all([exitOf(closed.sandbox), exitOf(opened.sandbox)]);
      const envOf = (spec: TestSandboxSpec): Record<string, string> =>
        JSON.parse(stdout(spec).find((line) => line.startsWith('env '))?.slice(4) ?? '{}') as Record<string, string>;
      expect(envOf(closed.spec)).toEqual({ ...closed.spec.env });
      expect(envOf(opened.spec)).toEqual({ ...opened.spec.env, ENVWORKER_TEST_ALLOWED: 'allowed-value' });
    } finally {
      delete process.env['ENVWORKER_TEST_ALLOWED'];
      delete process.env['ENVWORKER_TEST_PRIVATE'];
      delete process.env['ANTHROPIC_API_KEY'];
    }
  });

  it('a command that never reads its standard input still runs and exits normally', async () => {
    const big = root.spec({ work: { metadata: { padding: 'x'.repeat(400) } } });
    const { sandbox } = await run(shell('exit 0'), big);
    expect(await exitOf(sandbox)).toMatchObject({ code: 0, reason: 'exited' });
  });
});

describe('work directory', () => {
  it('the command runs in a fresh work directory, which is gone by the time exit resolves', async () => {
    const { spec, sandbox } = await run(shell('echo "cwd $(pwd)"; echo data > made.txt; ls'));
    expect(await exitOf(sandbox)).toMatchObject({ code: 0 });
    expect(stdout(spec)).toEqual([`cwd ${spec.workdir}`, 'made.txt']);
    expect(await exists(spec.workdir)).toBe(false);
  });

  it('keepWorkdir leaves it and what the command wrote in it', async () => {
    const { spec, sandbox } = await run(shell('echo data > made.txt', { keepWorkdir: true }));
    await exitOf(sandbox);
    expect(await readFile(join(spec.workdir, 'made.txt'), 'utf8')).toBe('data\n');
  });
});

describe('output', () => {
  it('passes stdout and stderr on line by line, with CRLF endings and a last line without newline', async () => {
    const { spec, sandbox } = await run(shell(`printf 'one\\ntwo\\r\\n'; printf 'oops\\n' >&2; printf 'last'`));
    await exitOf(sandbox);
    expect(spec.log.lines.filter((line) => line.stream === 'stdout').map((line) => line.text)).toEqual(['one', 'two', 'last']);
    expect(spec.log.lines.filter((line) => line.stream === 'stderr').map((line) => line.text)).toEqual(['oops']);
  });

  it('cuts a line longer than maxLineBytes, marks it, and drops the rest of it', async () => {
    const script = 'process.stdout.write("x".repeat(3 * 1024 * 1024)); process.stdout.write("\\nshort\\n")';
    const { spec, sandbox } = await run(processRuntime({ command: [process.execPath, '-e', script], stateDir, maxLineBytes: 1024 }));
    expect(await exitOf(sandbox)).toMatchObject({ code: 0, reason: 'exited' });
    expect(stdout(spec)).toEqual([`${'x'.repeat(1024)}${TRUNCATED_MARK}`, 'short']);
  });

  it('maxOutputBytes: a command that floods its output is killed at once, exit reason limit', async () => {
    const { spec, sandbox } = await run(shell('while :; do echo "flood flood flood flood flood flood"; done', { maxOutputBytes: 64 * 1024 }));
    const exit = await exitOf(sandbox);
    expect(exit).toMatchObject({ code: null, signal: 'SIGKILL', reason: 'limit' });
    expect(exit.detail).toBe('printed more than maxOutputBytes (65536 bytes) on stdout and stderr');
    const passed = spec.log.lines.reduce((sum, line) => sum + Buffer.byteLength(line.text) + 1, 0);
    expect(passed).toBeLessThanOrEqual(64 * 1024 + 1);
    expect(passed).toBeGreaterThan(60 * 1024);
  });

  it('outputDir: each line also goes to <work id>.jsonl, with the item credentials scrubbed', async () => {
    const outputDir = root.path('output');
    const spec = root.spec({ secret: { sessions_token: 'sesstok-output-file-0123456789' } });
    const runtime = shell('echo "secret $ANTHROPIC_WORK_SECRET key $ANTHROPIC_ENVIRONMENT_KEY"; echo hello >&2', { outputDir });
    const { sandbox } = await run(runtime, spec);
    await exitOf(sandbox);
    const text = await readFile(join(outputDir, `${spec.work.id}.jsonl`), 'utf8');
    const lines = text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([
      { time: expect.any(String), pid: Number(sandbox.id), stream: 'stdout', text: 'secret [redacted] key [redacted]' },
      { time: expect.any(String), pid: Number(sandbox.id), stream: 'stderr', text: 'hello' },
    ]);
    expect(text).not.toContain(spec.env.ANTHROPIC_ENVIRONMENT_KEY);
    expect(text).not.toContain(spec.work.secret);
    expect((await stat(join(outputDir, `${spec.work.id}.jsonl`))).mode & 0o777).toBe(0o600);
  });

  it('a log sink that throws does not take the worker down; the exit says so', async () => {
    const spec = root.spec();
    const broken = { ...spec, log: { line: () => { throw new Error('sink is broken'); } } };
    const sandbox = await shell('echo one; echo two').start(broken, new AbortController().signal);
    const exit = await exitOf(sandbox);
    expect(exit).toMatchObject({ code: 0, reason: 'exited' });
    expect(exit.detail).toContain('the log sink threw (sink is broken)');
  });
});

describe('maxRunMs', () => {
  it('sends the polite signal at the limit and SIGKILL after limitGraceMs: exit reason limit', async () => {
    const clock = new VirtualClock(1_000_000);
    const runtime = shell(`trap 'echo "saw SIGTERM"' TERM; echo ready; while :; do sleep 0.05; done`, { clock, maxRunMs: 60_000, limitGraceMs: 5000 });
    const { spec, sandbox } = await run(runtime);
    await ready(spec);
    clock.advance(60_000);
    await spec.log.waitFor((line) => line.text === 'saw SIGTERM', 5000, 'saw SIGTERM');
    expect(await processRunning(Number(sandbox.id))).toBe(true);
    clock.advance(5000);
    expect(await exitOf(sandbox)).toEqual({
      code: null,
      signal: 'SIGKILL',
      reason: 'limit',
      durationMs: 65_000,
      detail: 'ran longer than maxRunMs (60000 ms)',
    });
  });

  it('a command that ends at the polite signal still exits with reason limit, with its code', async () => {
    const clock = new VirtualClock(0);
    const runtime = shell(`trap 'exit 4' TERM; echo ready; while :; do sleep 0.05; done`, { clock, maxRunMs: 1000 });
    const { spec, sandbox } = await run(runtime);
    await ready(spec);
    clock.advance(1000);
    expect(await exitOf(sandbox)).toMatchObject({ code: 4, signal: null, reason: 'limit', detail: 'ran longer than maxRunMs (1000 ms)' });
  });
});

describe('user', () => {
  it('runs the command as that uid and gid, in a work directory it owns (the worker is root); refused at creation otherwise', async () => {
    if (process.geteuid?.() !== 0) {
      expect(() => shell('id -u', { user: 'nobody' })).toThrow(/user needs the worker to run as root/);
      return;
    }
    const runtime = shell('echo "uid $(id -u)"; echo "gid $(id -g)"; echo "owner $(stat -c %u .)"; touch mine', { user: 'nobody', inheritEnv: ['PATH'] });
    const { spec, sandbox } = await run(runtime);
    expect(await exitOf(sandbox)).toMatchObject({ code: 0 });
    expect(numbersAfter(spec, 'uid')).toEqual([65534]);
    expect(numbersAfter(spec, 'gid')).toEqual([65534]);
    expect(numbersAfter(spec, 'owner')).toEqual([65534]);
    expect(await exists(spec.workdir)).toBe(false);
  });

  it('is refused at creation when the worker is not root (as root, the test makes the runtime in a process run as nobody)', async () => {
    const options = { command: ['/bin/sh'], user: 'nobody' };
    let message: string;
    if (process.geteuid?.() === 0) {
      const child = spawn(process.execPath, ['--conditions=@envworker/source', '--import', 'tsx', MAKE_RUNTIME, JSON.stringify(options)], {
        cwd: REPO_ROOT,
        uid: 65534,
        gid: 65534,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const chunks: Buffer[] = [];
      child.stdout?.on('data', (chunk: Buffer) => chunks.push(chunk));
      await within(new Promise((resolve) => child.once('close', resolve)), 10_000, 'the process as nobody');
      message = Buffer.concat(chunks).toString('utf8').trim();
    } else {
      message = (() => {
        try {
          processRuntime(options);
          return 'made';
        } catch (error) {
          return (error as Error).message;
        }
      })();
    }
    expect(message).toMatch(/^processRuntime: user needs the worker to run as root \(its effective uid is [1-9]\d*\)/);
  });

  it('takes { uid, gid } as well, and refuses a user name the host does not know', async () => {
    expect(() => shell('true', { user: 'no-such-user-here' })).toThrow(
      process.geteuid?.() === 0 ? /user "no-such-user-here" is not a user on this host/ : /user needs the worker to run as root/,
    );
    if (process.geteuid?.() !== 0) return;
    const { spec, sandbox } = await run(shell('echo "uid $(id -u)"', { user: { uid: 4321, gid: 4321 }, inheritEnv: ['PATH'] }));
    await exitOf(sandbox);
    expect(numbersAfter(spec, 'uid')).toEqual([4321]);
  });
});

describe('limits', () => {
  it('applies resource limits with prlimit', async () => {
    const { spec, sandbox } = await run(shell('echo "nofile $(ulimit -n)"; echo "fsize $(ulimit -f)"', { limits: { openFiles: 64, fileSizeBytes: 1024 * 1024 } }));
    await exitOf(sandbox);
    expect(numbersAfter(spec, 'nofile')).toEqual([64]);
    // dash's ulimit -f counts 512-byte blocks.
    expect(numbersAfter(spec, 'fsize')).toEqual([2048]);
  });

  it('a command over its CPU limit ends with SIGXCPU, exit reason limit', async () => {
    const { sandbox } = await run(shell('while :; do :; done', { limits: { cpuSeconds: 1 } }));
    expect(await exitOf(sandbox)).toMatchObject({
      code: null,
      signal: 'SIGXCPU',
      reason: 'limit',
      detail: 'used more than limits.cpuSeconds (1 s) of CPU time',
    });
  });

  it('a command writing a file over its size limit ends with SIGXFSZ, exit reason limit', async () => {
    // exec: the limit's signal must end the command itself (a shell would only report its child's death as 128 + n).
    const { sandbox } = await run(shell('exec head -c 100000 /dev/zero > big', { limits: { fileSizeBytes: 4096 }, inheritEnv: ['PATH'] }));
    expect(await exitOf(sandbox)).toMatchObject({ reason: 'limit', detail: 'wrote a file larger than limits.fileSizeBytes (4096 bytes)' });
  });

  it('refuses at creation limits the kernel will not apply, and limits without prlimit on PATH', () => {
    expect(() => shell('true', { limits: { openFiles: 1_000_000_000 } })).toThrow(/limits cannot be applied on this host: prlimit: .*NOFILE/);
    const path = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      expect(() => shell('true', { limits: { openFiles: 64 } })).toThrow(/limits need the prlimit command \(util-linux\), which was not found on PATH/);
    } finally {
      process.env['PATH'] = path;
    }
  });
});

describe('options', () => {
  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['no command', {}, /command must be a non-empty array/],
    ['empty command', { command: [] }, /command must be a non-empty array/],
    ['command element not a string', { command: ['sh', 3] }, /command\[1\] must be a string/],
    ['unknown program', { command: ['no-such-program-envworker'] }, /command\[0\] "no-such-program-envworker" was not found on PATH/],
    ['program path not executable', { command: ['/etc/passwd'] }, /command\[0\] "\/etc\/passwd" is not an executable file/],
    ['shell with two elements', { command: ['echo', 'hi'], shell: true }, /command must have exactly one element, the script, when shell is set/],
    ['relative shell', { command: ['echo'], shell: 'sh' }, /shell must be true or the absolute path of a shell/],
    ['unknown option', { command: ['/bin/sh'], maxRuntimeMs: 5 }, /unknown options: maxRuntimeMs/],
    ['inheritEnv not an array', { command: ['/bin/sh'], inheritEnv: 'PATH' }, /inheritEnv must be an array/],
    ['inheritEnv bad name', { command: ['/bin/sh'], inheritEnv: ['PATH', 'A-B'] }, /inheritEnv\[1\] must be a variable name/],
    ['inheritEnv on-work name', { command: ['/bin/sh'], inheritEnv: ['ANTHROPIC_WORK_SECRET'] }, /inheritEnv\[0\] names ANTHROPIC_WORK_SECRET/],
    ['stopSignal unknown', { command: ['/bin/sh'], stopSignal: 'SIGNOPE' }, /stopSignal must be a signal name/],
    ['stopSignal SIGKILL', { command: ['/bin/sh'], stopSignal: 'SIGKILL' }, /stopSignal must be a signal a program can handle/],
    ['keepWorkdir not boolean', { command: ['/bin/sh'], keepWorkdir: 'yes' }, /keepWorkdir must be a boolean/],
    ['maxRunMs zero', { command: ['/bin/sh'], maxRunMs: 0 }, /maxRunMs must be a number of milliseconds/],
    ['limitGraceMs negative', { command: ['/bin/sh'], limitGraceMs: -1 }, /limitGraceMs must be a number of milliseconds/],
    ['maxOutputBytes fraction', { command: ['/bin/sh'], maxOutputBytes: 1.5 }, /maxOutputBytes must be a whole number/],
    ['maxLineBytes too small', { command: ['/bin/sh'], maxLineBytes: 10 }, /maxLineBytes must be a whole number between 256/],
    ['outputDir relative', { command: ['/bin/sh'], outputDir: 'out' }, /outputDir must be an absolute path/],
    ['stateDir relative', { command: ['/bin/sh'], stateDir: 'state' }, /stateDir must be an absolute path/],
    ['name empty', { command: ['/bin/sh'], name: '' }, /name must be a non-empty string/],
    ['nice negative', { command: ['/bin/sh'], nice: -1 }, /nice must be a whole number between 0 and 19/],
    ['nice above 19', { command: ['/bin/sh'], nice: 20 }, /nice must be a whole number between 0 and 19/],
    ['nice fraction', { command: ['/bin/sh'], nice: 2.5 }, /nice must be a whole number between 0 and 19/],
    ['nice a string', { command: ['/bin/sh'], nice: '19' }, /nice must be a whole number between 0 and 19/],
    ['clock not a clock', { command: ['/bin/sh'], clock: {} }, /clock must be a Clock/],
    ['limits empty', { command: ['/bin/sh'], limits: {} }, /limits must set at least one of/],
    ['limits unknown field', { command: ['/bin/sh'], limits: { memory: 5 } }, /limits has unknown fields: memory/],
    ['limits zero', { command: ['/bin/sh'], limits: { openFiles: 0 } }, /limits\.openFiles must be a whole number >= 1/],
    ['user malformed', { command: ['/bin/sh'], user: 42 }, process.geteuid?.() === 0 ? /user must be a user name or \{ uid, gid \}/ : /run as root/],
    ['user.uid negative', { command: ['/bin/sh'], user: { uid: -1, gid: 0 } }, process.geteuid?.() === 0 ? /user\.uid must be an integer/ : /run as root/],
  ];

  it.each(bad)('%s: refused at creation with an error naming the option', (_name, options, message) => {
    expect(() => processRuntime(options as unknown as ProcessRuntimeOptions)).toThrow(message);
    expect(() => processRuntime(options as unknown as ProcessRuntimeOptions)).toThrow(/^processRuntime: /);
  });

  it('resolves a bare command name on the host PATH and a relative one against the working directory, when made', async () => {
    const dir = root.path('bin');
    await mkdir(dir);
    await writeFile(join(dir, 'on-work-test'), '#!/bin/sh\necho "ran $0"\n', { mode: 0o755 });
    const path = process.env['PATH'];
    process.env['PATH'] = `${dir}:${path ?? ''}`;
    let runtime: ReturnType<typeof processRuntime>;
    try {
      runtime = processRuntime({ command: ['on-work-test'], stateDir });
    } finally {
      process.env['PATH'] = path;
    }
    const relativeRuntime = processRuntime({ command: [relative(process.cwd(), join(dir, 'on-work-test'))], stateDir });
    for (const made of [runtime, relativeRuntime]) {
      const { spec, sandbox } = await run(made);
      await exitOf(sandbox);
      expect(stdout(spec)).toEqual([`ran ${join(dir, 'on-work-test')}`]);
    }
  });
});
