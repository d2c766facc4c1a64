/**
 * The README's example runs as written: its `## Example` shell block, run with bash from the
 * repository root, starts a control plane, enqueues three items, serves them with a worker,
 * drains it, and prints the queue's statistics.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT, within } from './support/harness.js';

function example(): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.split(/^## Example\s*$/m)[1] ?? '')?.[1];
  if (block === undefined) throw new Error('README.md has no sh block under "## Example"');
  return block;
}

describe('README example', () => {
  it('serves three items with a worker that drains on SIGTERM', async () => {
    // Its own process group, so that whatever it started can be ended with it if it fails.
    const child = spawn('bash', ['-c', example()], {
      cwd: REPOSITORY_ROOT,
      env: { PATH: process.env['PATH'], HOME: process.env['HOME'] },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    let code: number | null;
    try {
      code = await within(closed, 45_000, 'the example to finish');
    } finally {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // The group is gone: the example ended everything it started.
      }
    }
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const lines = stdout.trimEnd().split('\n');
    // The enqueue table (a header and three rows), then the statistics.
    expect(lines.slice(1, 4).every((line) => /^work_\w{24}\s+queued\s+session\s+.*origin=readme$/.test(line))).toBe(true);
    expect(stdout).toMatch(/\ndepth\s+0\npending\s+0\n/);
  }, 60_000);
});
