/**
 * `reap` case by case, on state files written as a crashed worker leaves them and on real process
 * groups that this test starts: which groups it kills, which it spares, what it removes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processRuntime } from '../src/index.js';
import { isLive, processGroupMembers, readProcStatSync } from '@envworker/core';
import { ensurePrivateDir, workerStateDir, writeState, type SandboxState } from '../src/state-files.js';
import { TempRoot, exists, processRunning, until, within } from './support/harness.js';

const root = new TempRoot();
let stateDir: string;
const groups: ChildProcess[] = [];

beforeEach(async () => {
  await root.create('reap');
  stateDir = root.path('state');
});

afterEach(async () => {
  for (const child of groups.splice(0)) {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // Already gone: the test reaped it.
    }
  }
  await root.remove();
});

/** Starts a process group as a sandbox would be: a shell leading its group, with a `sleep` grandchild. */
async function orphanGroup(): Promise<{ pid: number; grandchild: number; startTime: number }> {
  const child = spawn('/bin/sh', ['-c', 'sleep 300 & echo $!; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  groups.push(child);
  const pid = child.pid as number;
  const startTime = readProcStatSync(pid)?.startTime as number;
  const line = await within(
    new Promise<string>((resolve) => createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve)),
    5000,
    'the grandchild pid',
  );
  return { pid, grandchild: Number(line), startTime };
}

async function record(workerId: string, state: Omit<SandboxState, 'version' | 'pgid' | 'workId'>): Promise<string> {
  const dir = workerStateDir(stateDir, workerId);
  await ensurePrivateDir(stateDir);
  await ensurePrivateDir(dir);
  return writeState(dir, { version: 1, pgid: state.pid, workId: 'work_reaptest', ...state });
}

async function workdir(): Promise<string> {
  const path = root.path('workdir');
  await mkdir(path);
  await writeFile(join(path, 'left.txt'), 'left behind');
  return path;
}

async function groupGone(pgid: number): Promise<boolean> {
  return !(await processGroupMembers(pgid)).some(isLive);
}

function runtime(options: { keepWorkdir?: boolean } = {}): ReturnType<typeof processRuntime> {
  return processRuntime({ command: ['/bin/sh'], stateDir, ...options });
}

describe('reap', () => {
  it('kills a left-behind group whose leader still runs, grandchild included, and removes its work directory and state file', async () => {
    const group = await orphanGroup();
    const path = await workdir();
    await record('w1', { pid: group.pid, startTime: group.startTime, workdir: path });
    expect(await runtime().reap('w1')).toBe(1);
    await until('the group gone', () => groupGone(group.pid));
    expect(await processRunning(group.grandchild)).toBe(false);
    expect(await exists(path)).toBe(false);
    expect(await exists(workerStateDir(stateDir, 'w1'))).toBe(false);
  });

  it('kills the members of a group whose leader already died, since none of them started before it', async () => {
    const group = await orphanGroup();
    await record('w2', { pid: group.pid, startTime: group.startTime, workdir: root.path('never-made') });
    process.kill(group.pid, 'SIGKILL');
    await until('the leader gone', async () => !(await processRunning(group.pid)));
    expect(await processRunning(group.grandchild)).toBe(true);
    expect(await runtime().reap('w2')).toBe(1);
    expect(await processRunning(group.grandchild)).toBe(false);
  });

  it('spares a process whose pid a state file names with another start time (a recycled pid), and still removes the work directory', async () => {
    const bystander = await orphanGroup();
    const path = await workdir();
    await record('w3', { pid: bystander.pid, startTime: bystander.startTime + 1, workdir: path });
    expect(await runtime().reap('w3')).toBe(1);
    expect(await processRunning(bystander.pid)).toBe(true);
    expect(await processRunning(bystander.grandchild)).toBe(true);
    expect(await exists(path)).toBe(false);
    expect(await exists(workerStateDir(stateDir, 'w3'))).toBe(false);
  });

  it('spares a group that has a member older than the recorded leader: the group id was reused', async () => {
    const older = await orphanGroup();
    // The record says the group's leader started after every process of the group that now holds the id.
    await record('w4', { pid: older.pid, startTime: older.startTime + 1000, workdir: root.path('none') });
    process.kill(older.pid, 'SIGKILL');
    await until('the leader gone', async () => !(await processRunning(older.pid)));
    expect(await runtime().reap('w4')).toBe(0);
    expect(await processRunning(older.grandchild)).toBe(true);
  });

  it('removes the work directory of a sandbox whose processes are all gone, and files that are not state files', async () => {
    const path = await workdir();
    const gone = spawn('/bin/true');
    await within(new Promise((resolve) => gone.once('exit', resolve)), 5000, 'exit');
    await record('w5', { pid: gone.pid as number, startTime: 1, workdir: path });
    const dir = workerStateDir(stateDir, 'w5');
    await writeFile(join(dir, '.123.json.interrupted.tmp'), '{');
    await writeFile(join(dir, '456.json'), 'not json');
    expect(await runtime().reap('w5')).toBe(1);
    expect(await exists(path)).toBe(false);
    expect(await exists(dir)).toBe(false);
  });

  it('keepWorkdir: kills the group but leaves the work directory', async () => {
    const group = await orphanGroup();
    const path = await workdir();
    await record('w6', { pid: group.pid, startTime: group.startTime, workdir: path });
    expect(await runtime({ keepWorkdir: true }).reap('w6')).toBe(1);
    await until('the group gone', () => groupGone(group.pid));
    expect(await exists(join(path, 'left.txt'))).toBe(true);
  });

  it('leaves alone the sandboxes the runtime itself is running', async () => {
    const own = processRuntime({ command: ['sleep 300'], shell: true, stateDir, inheritEnv: ['PATH'] });
    const spec = root.spec({ workerId: 'w7' });
    const sandbox = await own.start(spec, new AbortController().signal);
    expect(await own.reap('w7')).toBe(0);
    expect(await processRunning(Number(sandbox.id))).toBe(true);
    expect(await readdir(workerStateDir(stateDir, 'w7'))).toEqual([`${sandbox.id}.json`]);
    expect(await within(sandbox.kill(), 5000, 'kill()')).toMatchObject({ reason: 'killed' });
    expect(await readdir(workerStateDir(stateDir, 'w7'))).toEqual([]);
  });

  it('finds nothing for a worker id it has no state of, or when there is no state directory at all', async () => {
    expect(await runtime().reap('never-ran')).toBe(0);
    await ensurePrivateDir(stateDir);
    expect(await runtime().reap('never-ran')).toBe(0);
  });

  it('refuses a state directory that others can write to, and kills nothing; a new runtime is refused at creation', async () => {
    const group = await orphanGroup();
    await record('w8', { pid: group.pid, startTime: group.startTime, workdir: root.path('none') });
    const made = runtime();
    await chmod(stateDir, 0o777);
    await expect(made.reap('w8')).rejects.toThrow(/is writable by group or others \(mode 777\); refusing to use it/);
    expect(await processRunning(group.pid)).toBe(true);
    expect(() => runtime()).toThrow(/^processRuntime: stateDir: .* is writable by group or others \(mode 777\)/);
    await chmod(stateDir, 0o700);
    const dir = workerStateDir(stateDir, 'w8');
    await chmod(dir, 0o770);
    await expect(made.reap('w8')).rejects.toThrow(/is writable by group or others \(mode 770\)/);
    expect(await processRunning(group.pid)).toBe(true);
  });
});
