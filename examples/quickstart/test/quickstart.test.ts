/**
 * The quickstart end to end, exactly as the README runs it: the root `quickstart` script as a real
 * process with no terminal (so plain progress lines), a real control plane with its session
 * simulator, real sessions served by the session runtime, real bash shells and files.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The whole run (20 sessions, 4 at a time, well under a second each) takes about 5 s. */
const DEADLINE_MS = 50_000;

/** The root `quickstart` script's argv, with `node` replaced by this Node binary. */
function quickstartCommand(): string[] {
  const manifest = JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> };
  const script = manifest.scripts['quickstart'];
  if (script === undefined) throw new Error('the root package.json has no quickstart script');
  const [node, ...args] = script.split(' ');
  if (node !== 'node') throw new Error(`the quickstart script should run node, not ${String(node)}`);
  return args;
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the quickstart with `args`, stdout and stderr piped (not a terminal); rejects after the deadline. */
function runQuickstart(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...quickstartCommand(), ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the quickstart did not end within ${DEADLINE_MS} ms; stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, DEADLINE_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('pnpm quickstart', () => {
  it('serves 20 scripted sessions, 19 completed and 1 stopped by the operator mid bash call, checks every tool result and exits 0', async () => {
    const run = await runQuickstart([]);
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
    const lines = run.stdout.split('\n');

    expect(lines).toContainEqual(expect.stringMatching(/^ {2}completed +19$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}stopped_by_control_plane +1$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}total +20$/));
    // The simulator received every result the scripts expect: one call of each tool per session, the stopped bash as an error.
    for (const tool of ['write', 'edit', 'read', 'glob', 'grep']) expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^ {4}${tool} +19 +0 +19$`)));
    expect(lines).toContainEqual(expect.stringMatching(/^ {4}bash +20 +1 +20$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {4}error result of work_\w+'s bash: bash: cancelled: the work item is being stopped$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}claim → start +p50 \d+ ms, p95 \d+ ms \(20 items\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}total time +\d+\.\d s$/));
    expect(lines).toContain('result: every item ended as expected, every tool result as its script expects');

    // Plain progress (no terminal): every item's start and end, and each tool call as it ended.
    expect(lines.filter((line) => line.startsWith('started  work_'))).toHaveLength(20);
    expect(lines.filter((line) => /^stopped  work_\w+: completed \(exit 0,/.test(line))).toHaveLength(19);
    const stopped = lines.find((line) => /^stopped  work_\w+: stopped_by_control_plane/.test(line));
    const stoppedId = /work_\w+/.exec(stopped ?? '')?.[0];
    expect(stoppedId).toBeDefined();
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^operator: stop \\{force: false\\} sent for ${stoppedId} during its bash call`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^ {2}${stoppedId} \\| #1 bash cancelled \\d+ms$`)));
    expect(lines.filter((line) => /^ {2}work_\w+ \| #6 grep ok \d+ms$/.test(line))).toHaveLength(19);
    // The credentials stay out of the output.
    expect(run.stdout).not.toMatch(/\bek_\w{20,}|\bwst_\w{20,}|\badm_\w{20,}/);
  }, DEADLINE_MS + 5_000);

  it('refuses a bad flag with one line naming it and exit 2, before starting anything', async () => {
    const run = await runQuickstart(['--concurrency', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('quickstart: --concurrency: must be an integer between 1 and 32 (see --help)');
    expect(run.stdout).toBe('');
  });
});
