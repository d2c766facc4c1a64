/**
 * The three-signal shutdown of `envworker poll`, with a real worker process, real on-work
 * processes and a real control plane: the first SIGTERM drains (nothing new is claimed, running
 * items finish, exit 0), the shutdown grace ends a drain by stopping what still runs, the second
 * signal stops every item with its grace, and the third exits at once.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '@envworker/control-plane';
import { WorkClient } from '@envworker/core';
import { processRuntime } from '@envworker/runtime-process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, TempDir, until, within } from './support/harness.js';
import { parsePrometheus } from './support/prometheus.js';

/**
 * Each item: its JSON on stdin; `mode` in its metadata says how it meets SIGTERM. It writes
 * `<work id>.ready` once its trap is set, then runs until `release` exists (or forever).
 */
const ON_WORK = `
IFS= read -r item
case "$item" in
  *'"mode":"stubborn"'*) trap 'echo "ignoring TERM"' TERM ;;
  *) trap 'echo "saw TERM"; exit 0' TERM ;;
esac
touch "$E2E_DIR/$ANTHROPIC_WORK_ID.ready"
while [ ! -e "$E2E_DIR/release" ]; do sleep 0.05; done
echo "finished"
`;

let cp: ControlPlane;
let client: WorkClient;
const temp = new TempDir();
const processes: CliProcess[] = [];
const workers: { dir: string; workerId: string }[] = [];
let workerCount = 0;

beforeAll(async () => {
  cp = await startControlPlane({ lease: { minTtlSeconds: 1, defaultTtlSeconds: 10, maxTtlSeconds: 60 } });
  const environment = cp.environments[0];
  if (environment === undefined) throw new Error('no environment');
  client = new WorkClient({ baseUrl: cp.url, environmentId: environment.id, environmentKey: environment.key, apiKey: cp.adminKey });
  await temp.create('signals');
});

afterEach(async () => {
  for (const cli of processes.splice(0)) if (cli.child.exitCode === null) cli.kill('SIGKILL');
  // A worker killed by a failing test leaves its items' process groups behind: end them.
  for (const { dir, workerId } of workers.splice(0)) await processRuntime({ command: ['true'], stateDir: join(dir, 'envworker-state') }).reap(workerId);
  // Each test starts from an empty queue, whatever the one before left.
  for await (const work of client.listAll()) if (work.state !== 'stopped') await client.stop(work.id, { force: true });
});

afterAll(async () => {
  await client.close();
  await cp.close();
  await temp.remove();
});

/** A worker process with its own directory (its TMPDIR: work directories and the runtime's state go there). */
async function startWorker(extraArgs: readonly string[]): Promise<{ cli: CliProcess; dir: string; workerId: string }> {
  const environment = cp.environments[0];
  if (environment === undefined) throw new Error('no environment');
  workerCount += 1;
  const workerId = `signals-test-${workerCount}`;
  const dir = join(temp.path, workerId);
  await mkdir(dir);
  const cli = new CliProcess(
    ['poll', '--worker-id', workerId, '--poll-idle-delay', '0-0', '--inherit-env', 'PATH,E2E_DIR', '--lease-ttl', '3s', ...extraArgs, '--', 'sh', '-c', ON_WORK],
    {
      env: {
        ANTHROPIC_BASE_URL: cp.url,
        ANTHROPIC_ENVIRONMENT_ID: environment.id,
        ANTHROPIC_ENVIRONMENT_KEY: environment.key,
        E2E_DIR: dir,
        TMPDIR: dir,
      },
    },
  );
  processes.push(cli);
  workers.push({ dir, workerId });
  return { cli, dir, workerId };
}

async function waitingPolls(): Promise<number | undefined> {
  return parsePrometheus(await (await fetch(`${cp.url}/metrics`)).text()).value('envworker_control_plane_waiting_polls');
}

const message = (text: string) => (record: Record<string, unknown>) => record['msg'] === text;
const itemMessage = (workId: string, text: string) => (record: Record<string, unknown>) => record['work_id'] === workId && record['msg'] === text;

async function readyItems(dir: string, ids: readonly string[]): Promise<void> {
  await until('every item to set its trap', () => ids.every((id) => existsSync(join(dir, `${id}.ready`))), 15_000);
}

describe('envworker poll: the three signals', () => {
  it('first signal drains: nothing new is claimed, running items finish, exit 0', async () => {
    const items = [await cp.enqueue(), await cp.enqueue()];
    // Three slots for two items: one is free and polling when the signal comes.
    const { cli, dir } = await startWorker(['--max-concurrency', '3']);
    await readyItems(dir, items.map((item) => item.id));

    cli.kill('SIGTERM');
    await cli.record('the drain', message('draining'));
    // The poll the drain aborted is gone from the control plane too (an item enqueued before the
    // server saw the connection close would go to that dead poll, to be redelivered later).
    await until('no poll waiting', async () => (await waitingPolls()) === 0);
    const late = await cp.enqueue();
    // A heartbeat round after the enqueue shows the worker alive with a free slot: a poller still
    // running would have taken the late item by then.
    const first = items[0]?.id as string;
    const beatBefore = (await client.get(first)).latest_heartbeat_at;
    await until('a heartbeat after the late enqueue', async () => (await client.get(first)).latest_heartbeat_at !== beatBefore, 10_000);
    expect(existsSync(join(dir, `${items[0]?.id}.ready`))).toBe(true);

    await writeFile(join(dir, 'release'), '');
    const exit = await within(cli.exit, 15_000, 'the worker to exit');
    expect(exit.code).toBe(0);
    for (const item of items) {
      const stopped = cli.records().find(itemMessage(item.id, 'stopped'));
      expect(stopped).toMatchObject({ outcome: 'completed', exit_code: 0 });
      expect((await client.get(item.id)).state).toBe('stopped');
    }
    expect(cli.records().some((record) => record['msg'] === 'saw TERM')).toBe(false);
    expect((await client.get(late.id)).state).toBe('queued');
    expect(await client.stats()).toMatchObject({ depth: 1, pending: 0 });
  });

  it('a drain that outlasts --shutdown-grace stops what still runs, then exits 0', async () => {
    const item = await cp.enqueue();
    const { cli, dir } = await startWorker(['--shutdown-grace', '1s', '--stop-grace', '10s']);
    await readyItems(dir, [item.id]);
    cli.kill('SIGTERM');
    const exit = await within(cli.exit, 15_000, 'the worker to exit');
    expect(exit.code).toBe(0);
    expect(cli.records().find(itemMessage(item.id, 'saw TERM'))).toBeDefined();
    expect(cli.records().find(itemMessage(item.id, 'stopped'))).toMatchObject({ outcome: 'shutdown' });
    expect((await client.get(item.id)).state).toBe('stopped');
  });

  it('second signal stops every item with its grace; the third exits at once, leaving the rest to their leases', async () => {
    const polite = await cp.enqueue({ metadata: { mode: 'polite' } });
    const stubborn = await cp.enqueue({ metadata: { mode: 'stubborn' } });
    const { cli, dir, workerId } = await startWorker(['--max-concurrency', '2', '--stop-grace', '30s', '--shutdown-grace', '60s']);
    await readyItems(dir, [polite.id, stubborn.id]);

    cli.kill('SIGTERM');
    await cli.record('the drain', message('draining'));
    cli.kill('SIGTERM');
    await cli.record('the polite item to stop', itemMessage(polite.id, 'stopped'));
    await cli.record('the stubborn item to see TERM', itemMessage(stubborn.id, 'ignoring TERM'));
    expect(cli.records().find(itemMessage(polite.id, 'stopped'))).toMatchObject({ outcome: 'shutdown' });
    expect((await client.get(polite.id)).state).toBe('stopped');
    expect(cli.child.exitCode).toBeNull();

    const signalledAt = performance.now();
    cli.kill('SIGTERM');
    const exit = await within(cli.exit, 10_000, 'the worker to exit');
    expect(exit.code).toBe(143);
    // At once: far inside the stubborn item's 30 s grace.
    expect(performance.now() - signalledAt).toBeLessThan(5_000);
    expect(cli.records().some(message('exiting at once; items still running are left to their leases'))).toBe(true);
    // No stop call was made for it: the item is still the worker's on the server, until its lease ends.
    expect((await client.get(stubborn.id)).state).toBe('active');

    // What the exited worker left running is what `reap` is for; it also ends this test's process.
    const reaped = await processRuntime({ command: ['true'], stateDir: join(dir, 'envworker-state') }).reap(workerId);
    expect(reaped).toBe(1);
  });
});
