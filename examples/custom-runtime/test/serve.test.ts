/**
 * The example's launcher as a real process, started with its `start` script: a worker on the
 * worker-thread runtime serves a local control plane's items, and every printed hash chain checks.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const PACKAGE_DIR = fileURLToPath(new URL('../', import.meta.url));
const run = promisify(execFile);

/** The `start` script's arguments after `node`, so the test runs what the README says. */
function startArgs(): string[] {
  const manifest = JSON.parse(readFileSync(`${PACKAGE_DIR}package.json`, 'utf8')) as { scripts: { start: string } };
  const [node, ...args] = manifest.scripts.start.split(' ');
  if (node !== 'node') throw new Error(`the start script should run node, not ${String(node)}`);
  return args;
}

function chain(session: string, rounds: number): string {
  let digest = session;
  for (let round = 0; round < rounds; round += 1) digest = createHash('sha256').update(digest).digest('hex');
  return digest;
}

describe('the custom-runtime launcher', () => {
  it('serves three items in worker threads, each printing a hash chain that checks, and exits 0', async () => {
    const { stdout, stderr } = await run(process.execPath, [...startArgs(), '--items', '3', '--rounds', '5000'], {
      cwd: PACKAGE_DIR,
      timeout: 15_000,
    });
    expect(stderr).toBe('');
    const lines = stdout.trimEnd().split('\n');
    const chains = lines.map((line) => /^ {2}(work_\w+) \| chain (sesn_\w+) x5000 = ([0-9a-f]{64})$/.exec(line)).filter((match) => match !== null);
    expect(chains).toHaveLength(3);
    for (const [, , session, digest] of chains) expect(digest).toBe(chain(session ?? '', 5000));
    const stopped = lines.filter((line) => /^stopped work_\w+: completed \(exited, \d+ ms\)$/.test(line));
    expect(stopped).toHaveLength(3);
    expect(lines.at(-1)).toBe('summary: 3 of 3 items completed');
  });

  it('exits 2 for a bad flag, naming it on one line', async () => {
    const failed = await run(process.execPath, [...startArgs(), '--rounds', '0'], { cwd: PACKAGE_DIR, timeout: 15_000 }).then(
      () => null,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failed).toMatchObject({ code: 2, stdout: '', stderr: 'serve: --rounds: must be an integer between 1 and 10000000\n' });
  });
});
