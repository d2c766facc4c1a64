/**
 * The sandbox-per-session launcher end to end, as the README runs it: the package's `start` script
 * as a real process, a real control plane, real containers (the image build-image.sh builds) whose
 * `envworker run` holds each lease. Without Docker or the image the end-to-end test is skipped with
 * one printed reason, unless ENVWORKER_REQUIRE_DOCKER=1 (as .ci/run sets), which fails the file.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dockerUnavailableReason } from '../src/docker-check.js';
import { SESSION_IMAGE } from '../src/launch-options.js';

const PACKAGE_DIR = fileURLToPath(new URL('../', import.meta.url));
/** Four items, two containers at a time, about 2 s each (node and the CLI start in each container). */
const DEADLINE_MS = 60_000;

const reason = await dockerUnavailableReason(SESSION_IMAGE);
if (reason !== null) {
  if (process.env['ENVWORKER_REQUIRE_DOCKER'] === '1') throw new Error(`ENVWORKER_REQUIRE_DOCKER=1, but ${reason}`);
  console.warn(`@envworker/example-sandbox-per-session: Docker tests skipped: ${reason}`);
}

/** The `start` script's argv, with `node` replaced by this Node binary. */
function startCommand(): string[] {
  const manifest = JSON.parse(readFileSync(`${PACKAGE_DIR}package.json`, 'utf8')) as { scripts: { start: string } };
  const [node, ...args] = manifest.scripts.start.split(' ');
  if (node !== 'node') throw new Error(`the start script should run node, not ${String(node)}`);
  return args;
}

/** Runs the launcher with `args`; resolves with its exit status and output, rejects after the deadline. */
function runLauncher(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...startCommand(), ...args], { cwd: PACKAGE_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`the launcher did not end within ${DEADLINE_MS} ms; stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, DEADLINE_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe.runIf(reason === null)('the sandbox-per-session launcher (Docker)', () => {
  it("serves every item's session in its own container, where envworker run holds the lease, runs the tool calls and stops the item; exit 0", async () => {
    const run = await runLauncher(['--items', '4', '--concurrency', '2']);
    expect(run.code, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
    const lines = run.stdout.split('\n');
    const handedOver = lines.map((line) => /^handed over (work_\w+) \(session (sesn_\w+)\)/.exec(line)).filter((match) => match !== null);
    expect(handedOver).toHaveLength(4);
    for (const [, workId] of handedOver) {
      // `envworker run` served the session inside the container (node is its pid 1, the tools ran in /workspace)…
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^ {2}${workId} \\| \\[[\\d:.]+\\] INFO: serving the session`)));
      // …held its lease (the item reached active: the handover poller never heartbeats) and stopped it.
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^ {2}${workId} \\| \\[[\\d:.]+\\] INFO: stopped the work item$`)));
      expect(lines).toContain(`on-work.sh for ${workId} exited 0`);
      expect(lines).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^ {2}${workId} {2}stopped {3}active at \\S+Z {2}stopped at \\S+Z {2}on-work exit 0 {2}lease held and item stopped by envworker run: yes {2}tool results as scripted: 4/4$`,
          ),
        ),
      );
    }
    // The simulator received each result as the script expects: the bash call saw the container.
    expect(lines.filter((line) => /^ {4}result: "item \d: pid 1 is node, cwd \/workspace"$/.test(line))).toHaveLength(4);
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}4\/4 items served in their own container and stopped by their holder; queue depth 0; /));
  }, DEADLINE_MS + 5_000);
});

describe('the launcher command line', () => {
  it('refuses a bad flag with one line naming it and exit 2, before starting anything', async () => {
    const run = await runLauncher(['--concurrency', '9']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('launch: --concurrency: must be an integer between 1 and 8 (see --help)');
    expect(run.stdout).toBe('');
  });
});
