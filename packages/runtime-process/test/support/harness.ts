/**
 * What the process runtime's tests share: temporary directories, specs built the way the worker
 * builds them, and waits on events or on the process table with deadlines (never a fixed sleep).
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { makeSpec, type MakeSpecOptions, type TestSandboxSpec } from '@envworker/core/conformance';
import { isLive, readProcStat } from '@envworker/core';

export { within } from '@envworker/core/conformance';

/** The conformance program (see fixtures/conformance-program.mjs). */
export const CONFORMANCE_PROGRAM = fileURLToPath(new URL('../fixtures/conformance-program.mjs', import.meta.url));

/** A temporary directory for one test file, with work directories and state directories below it. */
export class TempRoot {
  #root = '';
  #count = 0;

  async create(prefix: string): Promise<void> {
    this.#root = await mkdtemp(join(tmpdir(), `envworker-${prefix}-`));
  }

  async remove(): Promise<void> {
    await rm(this.#root, { recursive: true, force: true });
  }

  /** A fresh path below the root (not created). */
  path(name: string): string {
    this.#count += 1;
    return join(this.#root, `${name}-${this.#count}`);
  }

  /** A spec whose work directory is a fresh path below the root. */
  spec(options: Omit<MakeSpecOptions, 'workdir'> = {}): TestSandboxSpec {
    return makeSpec({ ...options, workdir: this.path('item') });
  }
}


/** Whether process `pid` runs (exists and is not a zombie: this host's init may never collect orphans). */
export async function processRunning(pid: number): Promise<boolean> {
  const found = await readProcStat(pid);
  return found !== null && isLive(found);
}

/**
 * Resolves once `check` holds, looking again every few milliseconds; rejects naming `what` after
 * `deadlineMs`. For the process table, which offers no event to wait on for processes that are
 * not one's own children.
 */
export async function until(what: string, check: () => Promise<boolean> | boolean, deadlineMs = 3000): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The numbers printed after `prefix` on stdout lines (`grandchild 1234` → 1234). */
export function numbersAfter(spec: TestSandboxSpec, prefix: string): number[] {
  return spec.log.lines
    .filter((line) => line.stream === 'stdout' && line.text.startsWith(`${prefix} `))
    .map((line) => Number(line.text.slice(prefix.length + 1)));
}
