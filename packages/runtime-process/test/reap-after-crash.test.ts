/**
 * `reap` after a real crash: a worker process running sandboxes is SIGKILLed, which leaves its
 * process groups running as orphans; a new worker process with the same id reaps them on start.
 * Nothing else is touched: not an unrelated process, not one whose pid a state file names but
 * whose start time differs (a recycled pid).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '@envworker/control-plane';
import { isLive, processGroupMembers, readProcStatSync } from '@envworker/core';
import { workerStateDir } from '../src/state-files.js';
import { TempRoot, exists, processRunning, until, within } from './support/harness.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const crashWorker = fileURLToPath(new URL('./fixtures/crash-worker.ts', import.meta.url));

/** A worker process and the JSON events it printed. */
interface WorkerProcess {
  readonly child: ChildProcess;
  readonly events: Array<Record<string, unknown>>;
  /** Resolves with the first event (printed or to come) that matches; rejects after `ms`. */
  waitFor(what: string, match: (event: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const root = new TempRoot();
let cp: ControlPlane;
const started: ChildProcess[] = [];
const unrelated: ChildProcess[] = [];

beforeEach(async () => {
  await root.create('reap-crash');
  cp = await startControlPlane();
});

afterEach(async () => {
  for (const child of [...started.splice(0), ...unrelated.splice(0)]) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) child.kill('SIGKILL');
  }
  await cp.close();
  await root.remove();
});

function startWorker(settings: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--conditions=@envworker/source', '--import', 'tsx', crashWorker], {
    cwd: repoRoot,
    env: { ...process.env, ENVWORKER_CRASH_WORKER: JSON.stringify(settings) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  started.push(child);
  const events: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    events.push(JSON.parse(line) as Record<string, unknown>);
    for (const waiter of [...waiters]) waiter();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    events,
    exited,
    waitFor(what, match, ms = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the worker process printed no ${what} within ${ms} ms: ${JSON.stringify(events)}`));
        }, ms);
        const check = (): void => {
          const found = events.find(match);
          if (found === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** The live processes of a group (zombies are left out: this host's init may never collect them). */
async function liveMembers(pgid: number): Promise<number[]> {
  return (await processGroupMembers(pgid)).filter(isLive).map((member) => member.pid);
}

it('a worker SIGKILLed mid-run leaves orphans; the next worker with its id reaps them and touches nothing else', async () => {
  const environment = cp.environments[0];
  if (environment === undefined) throw new Error('no environment');
  const stateDir = root.path('state');
  const workdirRoot = root.path('workdirs');
  const settings = {
    baseUrl: cp.url,
    environmentId: environment.id,
    environmentKey: environment.key,
    workerId: 'crash-test-worker',
    stateDir,
    workdirRoot,
  };
  const items = await Promise.all([cp.enqueue(), cp.enqueue(), cp.enqueue()]);

  const first = startWorker(settings);
  expect((await first.waitFor('reaped', (event) => event.type === 'reaped'))['count']).toBe(0);
  await first.waitFor('three started items', () => first.events.filter((event) => event.type === 'started').length === 3);
  const pgids = first.events.filter((event) => event.type === 'started').map((event) => Number(event['sandbox_id']));
  expect(new Set(first.events.filter((event) => event.type === 'started').map((event) => event['work_id']))).toEqual(
    new Set(items.map((work) => work.id)),
  );
  // Each sandbox is a shell and its `sleep` grandchild.
  for (const pgid of pgids) await until(`group ${pgid} at full strength`, async () => (await liveMembers(pgid)).length === 2, 5000);
  const orphans = (await Promise.all(pgids.map(liveMembers))).flat();
  const workdirs = (await readdir(workdirRoot)).map((name) => join(workdirRoot, name));
  expect(workdirs).toHaveLength(3);

  first.child.kill('SIGKILL');
  expect(await within(first.exited, 5000, 'the first worker exit')).toEqual({ code: null, signal: 'SIGKILL' });
  // The crash left them behind: every process of every sandbox still runs, with its work directory and state file.
  for (const pid of orphans) expect(await processRunning(pid), `orphan ${pid}`).toBe(true);
  for (const workdir of workdirs) expect(await exists(workdir)).toBe(true);
  const workerDir = workerStateDir(stateDir, settings.workerId);
  expect((await readdir(workerDir)).sort()).toEqual(pgids.map((pid) => `${pid}.json`).sort());

  // An unrelated process, and a state file that names it with another start time: a pid recycled since.
  const bystander = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  unrelated.push(bystander);
  const bystanderPid = bystander.pid as number;
  const bystanderStart = readProcStatSync(bystanderPid)?.startTime as number;
  const recycledWorkdir = root.path('recycled-workdir');
  await mkdir(recycledWorkdir);
  await writeFile(
    join(workerDir, `${bystanderPid}.json`),
    JSON.stringify({ version: 1, pid: bystanderPid, pgid: bystanderPid, startTime: bystanderStart - 1, workdir: recycledWorkdir, workId: 'work_recycled' }),
  );

  const second = startWorker(settings);
  const reaped = await second.waitFor('reaped', (event) => event.type === 'reaped');
  // Three crashed sandboxes, plus the recycled record's leftover work directory (its process is spared).
  expect(reaped['count']).toBe(4);
  for (const pgid of pgids) expect(await liveMembers(pgid), `group ${pgid}`).toEqual([]);
  for (const workdir of [...workdirs, recycledWorkdir]) expect(await exists(workdir), workdir).toBe(false);
  expect(await exists(workerDir)).toBe(false);
  expect(await processRunning(bystanderPid)).toBe(true);
  expect(await processRunning(process.pid)).toBe(true);

  await second.waitFor('polling', (event) => event.type === 'polling');
  second.child.kill('SIGTERM');
  expect(await within(second.exited, 10_000, 'the second worker exit')).toEqual({ code: 0, signal: null });
});
