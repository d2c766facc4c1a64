/**
 * The embedded host as a real process, started with its `start` script: it serves a local control
 * plane's items (or a given Work API's), prints each item's proof and a summary, drains on the
 * first signal and stops on the second, and refuses bad flags by name.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startControlPlane } from '@envworker/control-plane';
import { matching, startHost, type HostProcess } from './support/host-process.js';

const CLAIMED = /^claimed (work_\w+) \(session (sesn_\w+)\)$/;
const PROOF = /^ {2}(work_\w+) \| proof (sesn_\w+):(\d+) sha256=([0-9a-f]{64}) \((\d+) hashes, n=(\d+)\)$/;
const STOPPED = /^stopped (work_\w+): (\w+) \(exit (\w+), \d+ ms\) \[\d+(?:\/\d+)? ended\]$/;
const SUMMARY = /^summary: (\d+) claimed, (\d+) completed, (\d+) failed, (\d+) ended otherwise; (\d+) left in the queue$/;

const started: HostProcess[] = [];
function host(args: readonly string[], env: Record<string, string | undefined> = {}): HostProcess {
  const run = startHost(args, env);
  started.push(run);
  return run;
}

afterEach(() => {
  // A test that failed half-way must not leave its host running.
  for (const run of started.splice(0)) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
});

describe('the embedded host', () => {
  it('serves every item of its local control plane, prints a checkable proof for each and a summary, and exits 0', async () => {
    const { code, stdout, stderr } = await host(['--items', '5', '--concurrency', '3', '--difficulty', '2']).exited();
    expect(stderr).toBe('');
    expect(code).toBe(0);

    const sessions = new Map(matching(stdout, CLAIMED).map((match) => [match[1], match[2]]));
    expect(sessions.size).toBe(5);
    const proofs = matching(stdout, PROOF);
    expect(proofs).toHaveLength(5);
    for (const [, workId, subject, nonce, hash] of proofs) {
      // The work read its session id from the --on-work environment of its own item.
      expect(subject).toBe(sessions.get(workId));
      expect(createHash('sha256').update(`${subject}:${nonce}`).digest('hex')).toBe(hash);
      expect(hash).toMatch(/^00/);
    }
    expect(new Set(proofs.map((match) => match[6]))).toEqual(new Set(['0', '1', '2', '3', '4']));

    const stopped = matching(stdout, STOPPED);
    expect(stopped.map((match) => [match[2], match[3]])).toEqual(Array(5).fill(['completed', '0']));
    expect(new Set(stopped.map((match) => match[1]))).toEqual(new Set(sessions.keys()));
    expect(stdout.at(-1)).toMatch(SUMMARY);
    expect(SUMMARY.exec(stdout.at(-1) ?? '')?.slice(1)).toEqual(['5', '5', '0', '0', '0']);
  });

  it('drains on SIGTERM mid-run: the items running finish, nothing more is claimed, and it exits 0', async () => {
    const run = host(['--items', '20', '--concurrency', '2', '--item-ms', '1500']);
    // Both slots are busy once two items have started, so no poll is in flight when the signal comes;
    // each item then runs for 1.5 s more, well past the signal.
    await run.line(/^started work_\w+/, 'second started line', 2);
    run.child.kill('SIGTERM');
    const { code, stdout } = await run.exited();
    expect(code).toBe(0);

    const draining = matching(stdout, /^host: SIGTERM: draining (\d+) item\(s\), no new claims/);
    expect(draining).toHaveLength(1);
    const inFlight = Number(draining[0]?.[1]);
    expect(inFlight).toBeGreaterThanOrEqual(1);
    const stopped = matching(stdout, STOPPED);
    expect(stopped.map((match) => match[2])).toEqual(Array(inFlight).fill('completed'));
    const summary = SUMMARY.exec(stdout.at(-1) ?? '');
    expect(summary?.slice(1)).toEqual([String(inFlight), String(inFlight), '0', '0', String(20 - inFlight)]);
  });

  it('stops every item at once on a second signal, and still exits 0', async () => {
    const run = host(['--items', '4', '--concurrency', '2', '--item-ms', '60000']);
    await run.line(/^ {2}work_\w+ \| proof /, 'proof line');
    run.child.kill('SIGTERM');
    await run.line(/^host: SIGTERM: draining/, 'draining line');
    run.child.kill('SIGINT');
    const { code, stdout } = await run.exited();
    expect(code).toBe(0);
    expect(stdout).toContain('host: SIGINT again: stopping every item now');
    const outcomes = matching(stdout, STOPPED).map((match) => match[2]);
    expect(outcomes.length).toBeGreaterThanOrEqual(1);
    expect(outcomes.every((outcome) => outcome === 'shutdown')).toBe(true);
    expect(SUMMARY.exec(stdout.at(-1) ?? '')?.[2]).toBe('0');
  });

  it('serves a Work API given with --base-url, with the key taken from the environment and never printed', async () => {
    const controlPlane = await startControlPlane();
    try {
      const [environment] = controlPlane.environments;
      if (environment === undefined) throw new Error('no environment');
      for (let n = 0; n < 3; n += 1) await controlPlane.enqueue({ metadata: { n: String(n) } });
      const { code, stdout, stderr } = await host(['--base-url', controlPlane.url, '--items', '3'], {
        ANTHROPIC_ENVIRONMENT_ID: environment.id,
        ANTHROPIC_ENVIRONMENT_KEY: environment.key,
      }).exited();
      expect(code).toBe(0);
      expect(stdout[0]).toBe(`host: serving ${controlPlane.url}, environment ${environment.id}`);
      expect(matching(stdout, STOPPED).map((match) => match[2])).toEqual(['completed', 'completed', 'completed']);
      expect(SUMMARY.exec(stdout.at(-1) ?? '')?.slice(1)).toEqual(['3', '3', '0', '0', '0']);
      expect(`${stdout.join('\n')}${stderr}`).not.toContain(environment.key);
      expect((await controlPlane.store.stats(environment.id)).depth).toBe(0);
    } finally {
      await controlPlane.close();
    }
  });

  it('exits 2 for a bad flag, with one line on stderr naming it and nothing on stdout', async () => {
    const { code, stdout, stderr } = await host(['--concurrency', '0']).exited();
    expect(code).toBe(2);
    expect(stdout).toEqual([]);
    expect(stderr).toBe('host: --concurrency: must be an integer between 1 and 64\n');
  });
});
