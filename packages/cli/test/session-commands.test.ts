/**
 * The CLI serving sessions against a real control plane's session simulator: `poll` with no
 * command serves sessions in process, `run` with no command serves the one session of the
 * ANTHROPIC_* variables in its directory, `enqueue --script` scripts an item's agent, and
 * `session show` prints what the simulator received.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '@envworker/control-plane';
import { WorkClient, type Work } from '@envworker/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProcess, runInProcess, within } from './support/harness.js';

let cp: ControlPlane;
let client: WorkClient;
let dir: string;
let admin: Record<string, string>;

beforeAll(async () => {
  cp = await startControlPlane({ lease: { minTtlSeconds: 1, defaultTtlSeconds: 30, maxTtlSeconds: 60 } });
  const environment = cp.environments[0];
  if (environment === undefined) throw new Error('no environment');
  client = new WorkClient({ baseUrl: cp.url, environmentId: environment.id, environmentKey: environment.key, apiKey: cp.adminKey });
  dir = await mkdtemp(join(tmpdir(), 'envworker-cli-sessions-'));
  admin = { ANTHROPIC_BASE_URL: cp.url, ANTHROPIC_ENVIRONMENT_ID: environment.id, ENVWORKER_API_KEY: cp.adminKey };
});

afterAll(async () => {
  await client.close();
  await cp.close();
  await rm(dir, { recursive: true, force: true });
});

async function sessionOf(work: Work): Promise<string> {
  if (work.data.type !== 'session') throw new Error('a session item was expected');
  return work.data.id;
}

describe('sessions from the command line', () => {
  it('enqueue --script scripts the agent, poll with no command serves it, session show prints the results', async () => {
    const script = join(dir, 'script.yaml');
    await writeFile(script, '- tool: bash\n  input: { command: "echo from-poll > out.txt && cat out.txt" }\n- tool: read\n  input: { file_path: out.txt }\n');
    const enqueued = runInProcess(['enqueue', '--script', script, '--json'], admin);
    expect(await enqueued.exit).toBe(0);
    const [work] = JSON.parse(enqueued.stdout.text) as Work[];
    if (work === undefined) throw new Error('nothing enqueued');
    const environment = cp.environments[0];
    const poll = new CliProcess(['poll', '--max-idle', '100ms', '--poll-idle-delay', '0-50ms', '--no-live', '--workdir', join(dir, 'items')], {
      env: { ANTHROPIC_BASE_URL: cp.url, ANTHROPIC_ENVIRONMENT_ID: environment?.id, ANTHROPIC_ENVIRONMENT_KEY: environment?.key },
    });
    try {
      await poll.until('the item to be served and stopped', async () => (await client.get(work.id)).state === 'stopped', 30_000);
    } finally {
      poll.kill('SIGTERM');
      await within(poll.exit, 20_000, 'poll to exit');
    }
    expect(poll.records().some((record) => record['msg'] === 'tool call' || String(record['msg']).startsWith('tool call'))).toBe(true);
    expect(poll.stdout).not.toContain(environment?.key);

    const shown = runInProcess(['session', 'show', await sessionOf(work)], admin);
    expect(await shown.exit).toBe(0);
    const lines = shown.stdout.text.split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^script +2 of 2 steps, done$/));
    expect(lines).toContainEqual(expect.stringMatching(/^0 +bash +answered +ok +- +from-poll$/));
    expect(lines).toContainEqual(expect.stringMatching(/^1 +read +answered +ok +- +from-poll\\n$/));
    const json = runInProcess(['session', 'show', await sessionOf(work), '--json'], admin);
    expect(await json.exit).toBe(0);
    expect(JSON.parse(json.stdout.text)).toMatchObject({ type: 'session_transcript', work_id: work.id, done: true });
  }, 60_000);

  it('run with no command serves the one session in --workdir at --nice, holds the lease and stops the item', async () => {
    const environment = cp.environments[0];
    if (environment === undefined) throw new Error('no environment');
    const queued = await cp.enqueue({ session: { script: [{ tool: 'write', input: { file_path: 'note.txt', content: 'served by run' } }, { tool: 'bash', input: { command: 'pwd' } }, { tool: 'bash', input: { command: 'nice' } }] } });
    const work = await client.poll({ workerId: 'cli-session-launcher', blockMs: 500 });
    if (work === null || work.id !== queued.id || work.secret === null) throw new Error('the poll did not return the item just enqueued');
    await client.ack(work.id);
    const workdir = await mkdtemp(join(dir, 'run-'));
    const run = new CliProcess(['run', '--workdir', workdir, '--max-idle', '100ms', '--lease-ttl', '2s', '--nice', '7'], {
      env: {
        ANTHROPIC_WORK_ID: work.id,
        ANTHROPIC_ENVIRONMENT_ID: environment.id,
        ANTHROPIC_BASE_URL: cp.url,
        ANTHROPIC_SESSION_ID: await sessionOf(work),
        ANTHROPIC_WORK_SECRET: work.secret,
      },
    });
    const exit = await within(run.exit, 30_000, 'run to exit');
    expect(exit.code, run.stderr).toBe(0);
    expect(await readFile(join(workdir, 'note.txt'), 'utf8')).toBe('served by run');
    expect((await client.get(work.id)).state).toBe('stopped');
    const transcript = await cp.transcript(await sessionOf(work));
    expect(transcript.calls.map((call) => call.result?.content[0]?.text)).toEqual(['wrote 13 bytes to note.txt', workdir, '7']);
    // The session was served with the item's sessions token: nothing refused; no credential logged.
    expect(transcript.requests.refused).toBe(0);
    expect(run.stderr).not.toContain(work.secret);
  }, 60_000);

  it('refuses what does not fit: a session flag with a command, no session id, a bad script file', async () => {
    const base = { ANTHROPIC_WORK_ID: 'work_x', ANTHROPIC_ENVIRONMENT_ID: 'env_x', ANTHROPIC_ENVIRONMENT_KEY: 'ek_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' };
    const withCommand = runInProcess(['run', '--max-idle', '5s', '--', 'true'], base);
    expect(await withCommand.exit).toBe(2);
    expect(withCommand.stderr.text).toBe('envworker run: --max-idle applies only when run serves the session itself (no command after --)\n');
    const niceWithCommand = runInProcess(['run', '--nice', '5', '--', 'true'], base);
    expect(await niceWithCommand.exit).toBe(2);
    expect(niceWithCommand.stderr.text).toBe('envworker run: --nice applies only when run serves the session itself (no command after --)\n');
    const badNice = runInProcess(['run', '--nice', '20'], base);
    expect(await badNice.exit).toBe(2);
    expect(badNice.stderr.text).toMatch(/^envworker run: --nice: /);
    const noSession = runInProcess(['run'], base);
    expect(await noSession.exit).toBe(2);
    expect(noSession.stderr.text).toBe('envworker run: missing the session to serve: set --session-id or ANTHROPIC_SESSION_ID, or give a command after --\n');
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, '- tool: bash\n  input: [1]\n');
    const refused = runInProcess(['enqueue', '--script', bad], admin);
    expect(await refused.exit).toBe(1);
    expect(refused.stderr.text).toMatch(/^envworker enqueue: failed: .*session\.script\[0\]\.input: /);
    const missing = runInProcess(['enqueue', '--script', join(dir, 'none.yaml')], admin);
    expect(await missing.exit).toBe(2);
    expect(missing.stderr.text).toBe(`envworker enqueue: --script: cannot read ${join(dir, 'none.yaml')}: no such file\n`);
  });
});
