/**
 * The two shell spawners against real processes: each starts bash leading its own group, in the
 * directory, with exactly the variables and niceness asked for (quotes, newlines and non-ASCII
 * text too, and the locale its LANG names), and says why when it cannot. The helper spawner
 * also: many shells at once each reach their own caller; an abort leaves no shell behind; a
 * connection that names no request is closed; a helper killed mid-way leaves its shells running
 * and the next request starts a new helper; once closed it stops listening.
 */
import { mkdir, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { groupRunning, signalGroup } from '@envworker/core';
import { helperShellSpawner, inProcessShellSpawner, type ShellProcess, type ShellSpawner } from '../src/index.js';

const DEADLINE_MS = 10_000;
let dir: string;
const started: ShellProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'envworker-spawn-'));
});

afterEach(async () => {
  for (const shell of started.splice(0)) {
    shell.destroy();
    signalGroup(shell.pid, 'SIGKILL');
  }
  await rm(dir, { recursive: true, force: true });
});

async function spawnIn(spawner: ShellSpawner, cwd: string, env: Record<string, string> = { PATH: '/usr/bin:/bin' }, nice = 19): Promise<ShellProcess> {
  const shell = await spawner.spawn({ cwd, env, nice }, new AbortController().signal);
  started.push(shell);
  return shell;
}

/** The process group, session and nice value of `pid`, from /proc. */
async function statFields(pid: number): Promise<[number, number, number]> {
  // Fields after the command's name: state, ppid, pgrp, session, …; nice is the 17th.
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return [Number(fields[2]), Number(fields[3]), Number(fields[16])];
}

/** The parent of `pid`. */
async function parentOf(pid: number): Promise<number> {
  return Number(/^PPid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

/** Runs `script` in the shell, which then exits; resolves with all it printed. */
async function runToEnd(shell: ShellProcess, script: string): Promise<string> {
  let out = '';
  shell.onOutput((chunk) => (out += chunk));
  shell.write(`${script}\nexit\n`);
  await within(shell.outputClosed, 'the shell to close its output');
  return out;
}

async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), DEADLINE_MS)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `check` holds, polling, or fails after the deadline naming `what`. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + DEADLINE_MS;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Pids of the processes whose working directory is `cwd`. */
async function processesIn(cwd: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const where = await readlink(`/proc/${entry}/cwd`).catch(() => null);
    if (where === cwd) pids.push(Number(entry));
  }
  return pids;
}

/** The helper that started `shell` (its parent), and the loopback port on its command line. */
async function helperOf(shell: ShellProcess): Promise<{ pid: number; port: number }> {
  const pid = await parentOf(shell.pid);
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
  const at = argv.indexOf('envworker-shell-helper');
  if (at < 0) throw new Error(`shell ${shell.pid} was not started by a shell helper`);
  return { pid, port: Number(argv[at + 1]) };
}

/** Resolves once a connection to `port` on loopback closes (or is refused), with whether it was refused. */
async function closedBy(port: number, send: string): Promise<'closed' | 'refused'> {
  return await within(
    new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED' ? 'refused' : 'closed'));
      socket.once('connect', () => socket.write(send));
      socket.once('close', () => resolve('closed'));
    }),
    `the connection to port ${port} to close`,
  );
}

const helper = helperShellSpawner();
afterAll(() => helper.close());

describe.each([
  ['in-process', inProcessShellSpawner],
  ['helper', helper],
] as const)('the %s spawner', (_kind, spawner) => {
  it('starts bash leading its own group in this session, in the directory, with exactly the given variables and niceness', async () => {
    const shell = await spawnIn(spawner, dir, { PATH: '/usr/bin:/bin', GREETING: 'hi' }, 7);
    const [pgrp, session, nice] = await statFields(shell.pid);
    expect(pgrp).toBe(shell.pid);
    // The worker's session, so the shells share its scheduling autogroup (see shell-spawner.ts).
    expect(session).toBe((await statFields(process.pid))[1]);
    expect(nice).toBe(7);
    const out = await runToEnd(shell, 'pwd; env | sort; echo err >&2');
    expect(out).toBe(`${dir}\nGREETING=hi\nPATH=/usr/bin:/bin\nPWD=${dir}\nSHLVL=1\n_=/usr/bin/env\nerr\n`);
    await within(shell.exited, 'the shell to exit');
    expect(await groupRunning(shell.pid)).toBe(false);
  });

  it('hands over any variable value and directory name byte for byte', async () => {
    // Quotes, backslashes, `$`, newlines and non-ASCII: everything a framing or a quoting could get wrong.
    const text = fc.string({ unit: fc.constantFrom("'", '"', '\\', '$', '`', '\n', ' ', '=', '(', ')', 'a', 'é', '日', '😀'), maxLength: 24 });
    await fc.assert(
      fc.asyncProperty(fc.array(text, { minLength: 1, maxLength: 4 }), text, async (values, name) => {
        const cwd = join(dir, `d${name}`);
        await mkdir(cwd, { recursive: true });
        const env = Object.fromEntries(values.map((value, index) => [`V${index}`, value]));
        const shell = await spawnIn(spawner, cwd, env);
        const out = await runToEnd(shell, `printf '%s\\0' "$PWD" ${values.map((_, index) => `"$V${index}"`).join(' ')}`);
        expect(out.split('\0').slice(0, -1)).toEqual([cwd, ...values]);
      }),
      { numRuns: 25 },
    );
  });

  it('runs the shell in the locale its LANG names', async () => {
    const shell = await spawnIn(spawner, dir, { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' });
    // One character in UTF-8, two bytes in the C locale.
    expect(await runToEnd(shell, "s='é'; echo ${#s}")).toBe('1\n');
  });

  it('rejects with the reason when the directory does not exist, or when already aborted', async () => {
    await expect(spawner.spawn({ cwd: join(dir, 'gone'), env: {}, nice: 19 }, new AbortController().signal)).rejects.toThrow('cannot enter the working directory');
    const aborted = AbortSignal.abort(new Error('stopping'));
    await expect(spawner.spawn({ cwd: dir, env: {}, nice: 19 }, aborted)).rejects.toThrow('stopping');
  });

  it('lets a shell see end of input once destroyed: it exits', async () => {
    const shell = await spawnIn(spawner, dir);
    shell.destroy();
    await within(shell.exited, 'the shell to exit on end of input');
  });
});

describe('the helper spawner', () => {
  it('hands 32 shells started at once each to its own caller', async () => {
    const dirs = await Promise.all(Array.from({ length: 32 }, (_, index) => mkdtemp(join(dir, `s${index}-`))));
    const shells = await Promise.all(dirs.map((cwd) => spawnIn(helper, cwd)));
    expect(new Set(shells.map((shell) => shell.pid)).size).toBe(32);
    const outs = await Promise.all(shells.map((shell) => runToEnd(shell, 'pwd')));
    expect(outs).toEqual(dirs.map((cwd) => `${cwd}\n`));
  });

  it('leaves no shell behind when a request is aborted in flight', async () => {
    const controller = new AbortController();
    const spawning = helper.spawn({ cwd: dir, env: {}, nice: 19 }, controller.signal);
    controller.abort(new Error('the call was cancelled'));
    await expect(spawning).rejects.toThrow('the call was cancelled');
    await until(async () => (await processesIn(dir)).length === 0, 'no process left in the directory');
  });

  it('closes a connection to its port that names no request', async () => {
    const { port } = await helperOf(await spawnIn(helper, dir));
    expect(await closedBy(port, 'not-a-request-id\n')).toBe('closed');
  });

  it('survives its helper being killed: shells live on, the next request starts a new helper', async () => {
    const spawner = helperShellSpawner();
    try {
      const before = await spawnIn(spawner, dir);
      const killed = await helperOf(before);
      process.kill(killed.pid, 'SIGKILL');
      await until(async () => (await readFile(`/proc/${killed.pid}/stat`, 'utf8').catch(() => ') Z')).includes(') Z'), 'the helper to die');
      const after = await spawnIn(spawner, dir);
      expect((await helperOf(after)).pid).not.toBe(killed.pid);
      expect(await runToEnd(before, 'echo still here')).toBe('still here\n');
      expect(await runToEnd(after, 'echo new')).toBe('new\n');
    } finally {
      await spawner.close();
    }
  });

  it('refuses requests once closed, and stops listening', async () => {
    const spawner = helperShellSpawner();
    const shell = await spawnIn(spawner, dir);
    const { port } = await helperOf(shell);
    await spawner.close();
    await expect(spawner.spawn({ cwd: dir, env: {}, nice: 19 }, new AbortController().signal)).rejects.toThrow('the shell spawner is closed');
    expect(await closedBy(port, '')).toBe('refused');
    expect(await runToEnd(shell, 'echo started shells are their owners to close')).toBe('started shells are their owners to close\n');
  });
});
