/**
 * `envworker run -- <command…>` as a real process against a real control plane: the test claims
 * and acks an item as a launcher would, then `run` holds its lease (with the item's sessions
 * token) while the command runs, and stops the item when the command ends, exactly once. A stop
 * request reaches the command as SIGTERM; an item stopped on the server kills the command and
 * gets no stop call.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '@envworker/control-plane';
import { WorkClient, type Work } from '@envworker/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, runInProcess, TempDir, within } from './support/harness.js';
import { parsePrometheus } from './support/prometheus.js';

const STOP_ROUTE = '/v1/environments/:environmentId/work/:workId/stop';
const TTL_SECONDS = 2;
/**
 * The start of a `while` that gives up after 60 s: a test that fails while `run` is killed
 * leaves no command looping forever (its command is `run`'s child, not the test's).
 */
const BOUNDED_LOOP = 'n=0; while [ $((n += 1)) -le 1200 ] &&';

let cp: ControlPlane;
let client: WorkClient;
const temp = new TempDir();
const processes: CliProcess[] = [];

beforeAll(async () => {
  // The default TTL covers the CLI's start-up after the ack, even on a loaded machine; `run` then
  // asks for 2 s leases.
  cp = await startControlPlane({ lease: { minTtlSeconds: 1, defaultTtlSeconds: 30, maxTtlSeconds: 60 } });
  const environment = cp.environments[0];
  if (environment === undefined) throw new Error('no environment');
  client = new WorkClient({ baseUrl: cp.url, environmentId: environment.id, environmentKey: environment.key, apiKey: cp.adminKey });
  await temp.create('run');
});

afterEach(async () => {
  for (const cli of processes.splice(0)) if (cli.child.exitCode === null) cli.kill('SIGKILL');
  // Each test starts from an empty queue, whatever the one before left.
  for await (const work of client.listAll()) if (work.state !== 'stopped') await client.stop(work.id, { force: true });
});

afterAll(async () => {
  await client.close();
  await cp.close();
  await temp.remove();
});

/** Enqueues, polls and acks an item, as the launcher of a sandbox-per-session image does. */
async function claimOne(): Promise<Work> {
  const queued = await cp.enqueue();
  const work = await client.poll({ workerId: 'run-test-launcher', blockMs: 500 });
  if (work === null || work.id !== queued.id) throw new Error('the poll did not return the item just enqueued');
  await client.ack(work.id);
  return work;
}

/** `envworker run` for `work`, with the `ant beta:worker run` variables. */
function run(work: Work, command: readonly string[], extra: Record<string, string> = {}): CliProcess {
  const environment = cp.environments[0];
  if (environment === undefined || work.secret === null || work.data.type !== 'session') throw new Error('a session item with a secret is needed');
  const cli = new CliProcess(['run', '--lease-ttl', `${TTL_SECONDS}s`, '--log-level', 'debug', '--', ...command], {
    env: {
      ANTHROPIC_WORK_ID: work.id,
      ANTHROPIC_ENVIRONMENT_ID: environment.id,
      ANTHROPIC_ENVIRONMENT_KEY: environment.key,
      ANTHROPIC_BASE_URL: cp.url,
      ANTHROPIC_SESSION_ID: work.data.id,
      ANTHROPIC_WORK_SECRET: work.secret,
      ...extra,
    },
  });
  processes.push(cli);
  return cli;
}

/** Stop calls the control plane answered 200, for every item so far. */
async function stopCalls(): Promise<number> {
  const text = await (await fetch(`${cp.url}/metrics`)).text();
  return parsePrometheus(text).value('envworker_control_plane_requests_total', { route: STOP_ROUTE, method: 'POST', status: '200' }) ?? 0;
}

/** The JSON log lines `run` wrote on standard error. */
function logRecords(cli: CliProcess): Record<string, unknown>[] {
  return cli.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('envworker run', () => {
  it('holds the lease past two TTLs while the command runs, then stops the item once and exits 0', async () => {
    const release = join(temp.path, 'release');
    const work = await claimOne();
    const stopsBefore = await stopCalls();
    const cli = run(work, ['sh', '-c', `${BOUNDED_LOOP} [ ! -e "$RELEASE" ]; do sleep 0.05; done; echo done-by-command`], { RELEASE: release });

    // The first beat makes the item active with a 2 s lease.
    await cli.until('the first heartbeat', async () => (await client.get(work.id)).state === 'active', 30_000);
    const firstBeat = (await client.get(work.id)).latest_heartbeat_at;
    const activeSince = performance.now();
    // Past two TTLs the item is still active (never re-queued), and its lease has been renewed since.
    await cli.until(
      'two TTLs with the item active',
      async () => {
        const item = await client.get(work.id);
        expect(item.state).toBe('active');
        return performance.now() - activeSince > 2 * TTL_SECONDS * 1000 + 500;
      },
      15_000,
    );
    const current = await client.get(work.id);
    expect(current.state).toBe('active');
    expect(current.latest_heartbeat_at).not.toBe(firstBeat);
    expect(current.stopped_at).toBeNull();

    await writeFile(release, '');
    const exit = await within(cli.exit, 15_000, 'run to exit');
    expect(exit.code).toBe(0);
    expect(cli.stdout).toContain('done-by-command');
    const stopped = await client.get(work.id);
    expect(stopped.state).toBe('stopped');
    expect(await stopCalls()).toBe(stopsBefore + 1);
    // Renewals were logged at debug; no credential ever was.
    const records = logRecords(cli);
    expect(records.filter((record) => record['msg'] === 'lease renewed').length).toBeGreaterThanOrEqual(4);
    expect(cli.stderr).not.toContain(cp.environments[0]?.key);
    expect(cli.stderr).not.toContain(work.secret);
  }, 60_000);

  it('passes a stop request on to the command as SIGTERM, stops the item, and exits with the command status', async () => {
    const ready = join(temp.path, 'trap-ready');
    const work = await claimOne();
    const cli = run(work, ['sh', '-c', `trap "echo saw-sigterm; exit 3" TERM; touch "$READY"; ${BOUNDED_LOOP} :; do sleep 0.05; done`], { READY: ready });
    await cli.until('the command to set its trap', async () => existsSync(ready) && (await client.get(work.id)).state === 'active');
    await client.stop(work.id, { force: false });
    const exit = await within(cli.exit, 15_000, 'run to exit');
    expect(exit.code).toBe(3);
    expect(cli.stdout).toContain('saw-sigterm');
    expect((await client.get(work.id)).state).toBe('stopped');
    expect(logRecords(cli).some((record) => record['msg'] === 'the control plane asked to stop; sending SIGTERM to the command')).toBe(true);
  });

  it('kills the command when the item is stopped on the server, and posts no stop of its own', async () => {
    const work = await claimOne();
    const cli = run(work, ['sh', '-c', `trap "" TERM; ${BOUNDED_LOOP} :; do sleep 0.05; done`]);
    await cli.until('the first heartbeat', async () => (await client.get(work.id)).state === 'active');
    const stopsBefore = await stopCalls();
    await client.stop(work.id, { force: true });
    const exit = await within(cli.exit, 15_000, 'run to exit');
    // SIGKILL: 128 + 9, as a shell reports it.
    expect(exit.code).toBe(137);
    expect(await stopCalls()).toBe(stopsBefore + 1);
    expect(logRecords(cli).some((record) => record['msg'] === 'the item was stopped on the server; killing the command')).toBe(true);
  });

  it.each([
    [{}, 'missing the work item: set --work-id or ANTHROPIC_WORK_ID'],
    [{ ANTHROPIC_WORK_ID: 'work_x' }, 'missing the environment id: set --environment-id or ANTHROPIC_ENVIRONMENT_ID'],
    [
      { ANTHROPIC_WORK_ID: 'work_x', ANTHROPIC_ENVIRONMENT_ID: 'env_x' },
      "missing a credential: set ANTHROPIC_WORK_SECRET (the item's secret) or --environment-key or ANTHROPIC_ENVIRONMENT_KEY",
    ],
    [{ ANTHROPIC_WORK_ID: 'work_x', ANTHROPIC_ENVIRONMENT_ID: 'env_x', ANTHROPIC_WORK_SECRET: 'not*base64url-secret-value' }, 'ANTHROPIC_WORK_SECRET: secret is not base64url'],
  ])('exits 2 with one line when the variables are incomplete: %j', async (env, message) => {
    const attempt = runInProcess(['run', '--', 'true'], env);
    expect(await attempt.exit).toBe(2);
    expect(attempt.stderr.text.trimEnd().split('\n')).toEqual([`envworker run: ${message}`]);
    expect(attempt.stderr.text).not.toContain('not*base64url-secret-value');
  });

  it('refuses to start when the control plane is not there, or the item is not acked or is stopped', async () => {
    const environment = cp.environments[0];
    if (environment === undefined) throw new Error('no environment');
    const gone = await startControlPlane();
    const goneUrl = gone.url;
    await gone.close();
    const env = { ANTHROPIC_WORK_ID: 'work_x', ANTHROPIC_ENVIRONMENT_ID: environment.id, ANTHROPIC_ENVIRONMENT_KEY: environment.key };
    const unreachable = runInProcess(['run', '--', 'true'], { ...env, ANTHROPIC_BASE_URL: goneUrl });
    expect(await unreachable.exit).toBe(2);
    expect(unreachable.stderr.text).toBe(`envworker run: cannot reach ${goneUrl}: connection refused; is the control plane running?\n`);

    const queued = await cp.enqueue();
    const notAcked = runInProcess(['run', '--', 'true'], { ...env, ANTHROPIC_BASE_URL: cp.url, ANTHROPIC_WORK_ID: queued.id });
    expect(await notAcked.exit).toBe(2);
    expect(notAcked.stderr.text).toBe(`envworker run: ${queued.id} is queued: whoever claimed it must ack it before run serves it\n`);

    await client.stop(queued.id, { force: true });
    const stopped = runInProcess(['run', '--', 'true'], { ...env, ANTHROPIC_BASE_URL: cp.url, ANTHROPIC_WORK_ID: queued.id });
    expect(await stopped.exit).toBe(1);
    expect(stopped.stderr.text).toBe(`envworker run: ${queued.id} is stopped already: there is nothing to serve\n`);
  });

  it('without a command serves the session, so it needs the session id', async () => {
    const attempt = runInProcess(['run'], { ANTHROPIC_WORK_ID: 'work_x', ANTHROPIC_ENVIRONMENT_ID: 'env_x', ANTHROPIC_ENVIRONMENT_KEY: 'ek_xxxxxxxxxxxxxxxxxxxxxxxx' });
    expect(await attempt.exit).toBe(2);
    expect(attempt.stderr.text).toBe('envworker run: missing the session to serve: set --session-id or ANTHROPIC_SESSION_ID, or give a command after --\n');
  });
});
