/**
 * The Docker sandbox launcher as a real process, started with its `start` script: every item runs
 * in its own container, which sees its item on standard input, its `--on-work` environment, no
 * network and the memory and process limits; at most `--concurrency` run at once; a SIGTERM drains
 * and leaves no container behind.
 */
import { afterEach, expect, it } from 'vitest';
import { sandboxRuntime, TEST_IMAGE } from '../src/sandbox.js';
import { describeDocker } from './support/docker-available.js';
import { matching, startLauncher, type LauncherProcess } from './support/launcher-process.js';

const SAW = /^ {2}(work_\w+) \| item n=(\d+) work=(work_\w+) bytes=(\d+) network=\[(.*)\] memory=(\d+) pids=(\d+) cwd=(\S+)$/;
const STOPPED = /^stopped (work_\w+): (\w+) \(exit (\w+), \d+ ms\) \[\d+\/\d+\]$/;
const SUMMARY = /^summary: (\d+) of (\d+) completed, (\d+) failed; at most (\d+) containers at once$/;

const started: LauncherProcess[] = [];
function launcher(args: readonly string[]): LauncherProcess {
  const run = startLauncher(args, { ENVWORKER_IMAGE: undefined });
  started.push(run);
  return run;
}

afterEach(() => {
  // A test that failed half-way must not leave its launcher running.
  for (const run of started.splice(0)) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
});

/** How many containers of this worker are left: `reap` removes and counts them (0 when it cleaned up after itself). */
async function leftBehind(workerId: string): Promise<number> {
  const runtime = sandboxRuntime(TEST_IMAGE);
  try {
    return await runtime.reap(workerId);
  } finally {
    await runtime.close();
  }
}

describeDocker('the Docker sandbox launcher', () => {
  it('runs each item in its own limited, networkless container, three at a time, and exits 0', async () => {
    const { code, stdout, stderr } = await launcher(['--items', '6', '--concurrency', '3']).exited();
    expect(stderr).toBe('');
    expect(code).toBe(0);

    const saw = matching(stdout, SAW);
    expect(saw).toHaveLength(6);
    for (const [, loggedAs, , workFromEnv, bytes, network, memory, pids, cwd] of saw) {
      expect(workFromEnv).toBe(loggedAs); // ANTHROPIC_WORK_ID is the item's own id
      expect(Number(bytes)).toBeGreaterThan(100); // the whole item JSON came on standard input
      expect(network).toBe('lo');
      expect(Number(memory)).toBe(64 * 1024 * 1024);
      expect(Number(pids)).toBe(32);
      expect(cwd).toBe('/work');
    }
    // metadata.n, read from the JSON on standard input, is each enqueued item's once.
    expect(saw.map((match) => Number(match[2])).sort()).toEqual([0, 1, 2, 3, 4, 5]);

    const stopped = matching(stdout, STOPPED);
    expect(stopped.map((match) => [match[2], match[3]])).toEqual(Array(6).fill(['completed', '0']));
    const summary = SUMMARY.exec(stdout.at(-1) ?? '');
    expect(summary?.slice(1, 4)).toEqual(['6', '6', '0']);
    expect(Number(summary?.[4])).toBeGreaterThanOrEqual(1);
    expect(Number(summary?.[4])).toBeLessThanOrEqual(3);

    const workerId = /^launch: worker (\S+) started$/.exec(stdout.find((line) => line.startsWith('launch: worker ')) ?? '')?.[1];
    expect(await leftBehind(workerId ?? '')).toBe(0);
  });

  it('drains on SIGTERM: the running containers finish, no new item starts, none is left behind, exit 0', async () => {
    const run = launcher(['--items', '60', '--concurrency', '2']);
    const [, workerId] = await run.line(/^launch: worker (\S+) started$/, 'started line');
    await run.line(STOPPED, 'first stopped line');
    run.child.kill('SIGTERM');
    const { code, stdout } = await run.exited();
    expect(code).toBe(0);
    expect(stdout).toContain('launch: SIGTERM: draining, no new items');

    const stopped = matching(stdout, STOPPED);
    expect(stopped.length).toBeLessThan(60);
    expect(stopped.every((match) => match[2] === 'completed')).toBe(true);
    expect(matching(stdout, SAW)).toHaveLength(stopped.length);
    expect(SUMMARY.exec(stdout.at(-1) ?? '')?.slice(1, 4)).toEqual([String(stopped.length), '60', '0']);
    expect(await leftBehind(workerId ?? '')).toBe(0);
  });
});

it('exits 2 for a bad flag, naming it on one line, before touching Docker', async () => {
  const { code, stdout, stderr } = await launcher(['--concurrency', '9']).exited();
  expect(code).toBe(2);
  expect(stdout).toEqual([]);
  expect(stderr).toBe('launch: --concurrency: must be an integer between 1 and 8\n');
});
