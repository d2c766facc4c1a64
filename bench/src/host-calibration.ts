/**
 * How fast this host starts processes, with nothing of envworker's running: loops of bash that
 * each start `/bin/bash -c 'cat <file>'` back to back, one loop alone and then two at once. A bash
 * session's tool call costs about one such start (its shell, and the `cat` the shell starts), and
 * on a virtual machine the cost of a start moves with the host's load, so a run's figure for the
 * sessions with bash is read beside this one. Two loops on two idle cores should start about twice
 * as many a second as one; how far a host falls short of that is part of what the figures say.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** One loop: `$1` starts of a bash that copies `$2` to /dev/null with `cat`. */
const LOOP = 'for ((i = 0; i < $1; i += 1)); do /bin/bash --noprofile --norc -c \'cat -- "$0" > /dev/null\' "$2"; done';

/** Runs one loop; resolves once it exits 0, rejects naming its exit otherwise. */
function loop(starts: number, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/bash', ['--noprofile', '--norc', '-c', LOOP, 'host-calibration', String(starts), file], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`host calibration: the bash loop exited with ${signal ?? `code ${code}`}`))));
  });
}

/**
 * Starts per second of `/bin/bash -c 'cat a.txt'` (a small file of its own, removed after) with
 * `atOnce` loops of `startsPerLoop` each running at the same time, from the first loop's spawn to
 * the last one's exit.
 */
export async function bashStartsPerSecond(atOnce: number, startsPerLoop: number): Promise<number> {
  if (!Number.isInteger(atOnce) || atOnce < 1) throw new RangeError('atOnce must be a whole number of at least 1');
  if (!Number.isInteger(startsPerLoop) || startsPerLoop < 1) throw new RangeError('startsPerLoop must be a whole number of at least 1');
  const dir = await mkdtemp(join(tmpdir(), 'envworker-bench-calibration-'));
  try {
    const file = join(dir, 'a.txt');
    await writeFile(file, 'alpha\ngamma\n');
    const startedAt = performance.now();
    await Promise.all(Array.from({ length: atOnce }, () => loop(startsPerLoop, file)));
    return (atOnce * startsPerLoop) / ((performance.now() - startedAt) / 1000);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
