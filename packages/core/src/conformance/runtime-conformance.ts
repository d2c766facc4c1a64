/**
 * The shared adapter test suite: every `SandboxRuntime` runs it against a program that obeys the
 * conformance behaviours (see `behaviour.ts`). It checks the runtime contract, not an adapter's
 * internals: exit codes, stop with grace, kill, one exit, abort during start, the `--on-work`
 * environment and standard input, and that nothing is left behind.
 *
 * It waits on events with deadlines only. Real processes take real time, so the one timing check
 * (a sandbox that ignores the polite signal is not killed before the grace) asserts a lower bound.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox, SandboxRuntime } from '../runtime/sandbox-runtime.js';
import {
  CONFORMANCE_CANARY_VARIABLE,
  CONFORMANCE_READY_LINE,
  parseConformanceEchoLine,
  type ConformanceEcho,
} from './behaviour.js';
import { makeSpec, type MakeSpecOptions, type TestSandboxSpec } from './make-spec.js';
import { within } from './within.js';

/** Options of {@link runtimeConformance}. */
export interface RuntimeConformanceOptions {
  /** Names the suite (`runtime conformance: <name>`). */
  readonly name: string;
  /** Makes the runtime under test, configured to run a program that obeys `metadata.conformance`. */
  makeRuntime(): SandboxRuntime | Promise<SandboxRuntime>;
  /** Whether anything of this sandbox still runs (its process, container, …); checked after every test. */
  isRunning?(sandbox: Sandbox): Promise<boolean>;
  /** Deadline of every wait (start, ready line, exit); default 5000. Raise it for slow adapters. */
  readonly timeoutMs?: number;
  /** The grace period used where the grace matters; default 300. */
  readonly graceMs?: number;
}

/** How much earlier than the grace a timer may fire and still count as on time. */
const GRACE_TOLERANCE_MS = 25;

/**
 * Declares the conformance suite for one runtime adapter (call it at the top level of a test file).
 *
 * @example
 * ```ts
 * import { runtimeConformance } from '@envworker/core/conformance';
 * runtimeConformance({
 *   name: 'process',
 *   makeRuntime: () => processRuntime({ command: ['node', conformanceProgram] }),
 *   isRunning: (sandbox) => pidAlive(Number(sandbox.id)),
 *   timeoutMs: 10_000,
 * });
 * ```
 */
export function runtimeConformance(options: RuntimeConformanceOptions): void {
  const timeoutMs = options.timeoutMs ?? 5000;
  const graceMs = options.graceMs ?? 300;

  describe(`runtime conformance: ${options.name}`, () => {
    let runtime: SandboxRuntime;
    let root: string;
    let count = 0;
    /** What this test started or tried to start, checked and cleaned up after it. */
    let sandboxes: Sandbox[] = [];
    let specs: TestSandboxSpec[] = [];

    beforeAll(async () => {
      runtime = await options.makeRuntime();
      root = await mkdtemp(join(tmpdir(), 'envworker-conformance-'));
      process.env[CONFORMANCE_CANARY_VARIABLE] = 'a host variable no sandbox may see';
    });

    afterAll(async () => {
      delete process.env[CONFORMANCE_CANARY_VARIABLE];
      await rm(root, { recursive: true, force: true });
    });

    afterEach(async () => {
      const started = sandboxes;
      const tried = specs;
      sandboxes = [];
      specs = [];
      // A test that failed half-way may have left a sandbox running: end it before checking.
      await Promise.all(started.map((sandbox) => within(sandbox.kill(), timeoutMs, 'kill() in clean-up')));
      for (const sandbox of started) {
        if (options.isRunning) expect(await options.isRunning(sandbox), `sandbox ${sandbox.id} still running`).toBe(false);
      }
      for (const spec of tried) {
        expect(await exists(spec.workdir), `workdir ${spec.workdir} left behind`).toBe(false);
        if (runtime.reap) expect(await runtime.reap(spec.workerId), 'sandboxes left for reap()').toBe(0);
      }
    });

    function spec(conformance: string, extra: Omit<MakeSpecOptions, 'workdir' | 'conformance'> = {}): TestSandboxSpec {
      count += 1;
      const made = makeSpec({ ...extra, workdir: join(root, `item-${count}`), conformance });
      specs.push(made);
      return made;
    }

    async function launch(
      conformance: string,
      extra: Omit<MakeSpecOptions, 'workdir' | 'conformance'> = {},
    ): Promise<{ spec: TestSandboxSpec; sandbox: Sandbox }> {
      const made = spec(conformance, extra);
      const sandbox = await within(runtime.start(made, new AbortController().signal), timeoutMs, 'start()');
      sandboxes.push(sandbox);
      return { spec: made, sandbox };
    }

    function ready(made: TestSandboxSpec): Promise<unknown> {
      return made.log.waitFor((line) => line.stream === 'stdout' && line.text === CONFORMANCE_READY_LINE, timeoutMs, 'ready');
    }

    /** Whether a start was refused; a sandbox it started after all is tracked for clean-up. */
    async function startRefused(start: Promise<Sandbox>): Promise<boolean> {
      try {
        sandboxes.push(await within(start, timeoutMs, 'start()'));
        return false;
      } catch {
        return true;
      }
    }

    async function echoOf(made: TestSandboxSpec): Promise<ConformanceEcho> {
      const line = await made.log.waitFor(
        (candidate) => candidate.stream === 'stdout' && parseConformanceEchoLine(candidate.text) !== null,
        timeoutMs,
        'echo',
      );
      const echo = parseConformanceEchoLine(line.text);
      if (echo === null) throw new Error('the echo line did not parse');
      return echo;
    }

    it('exits with code 0 when the program succeeds', async () => {
      const { sandbox } = await launch('exit:0');
      const exit = await within(sandbox.exit, timeoutMs, 'exit');
      expect(exit).toMatchObject({ code: 0, signal: null, reason: 'exited' });
      expect(exit.durationMs).toBeGreaterThanOrEqual(0);
    });

    it('reports a non-zero exit code as exited with that code', async () => {
      const { sandbox } = await launch('exit:7');
      expect(await within(sandbox.exit, timeoutMs, 'exit')).toMatchObject({ code: 7, signal: null, reason: 'exited' });
    });

    it('stop() ends a sandbox that traps the polite signal within the grace, as stopped with its code', async () => {
      const { spec: made, sandbox } = await launch('trap:3');
      await ready(made);
      const began = performance.now();
      const exit = await within(sandbox.stop(timeoutMs), 2 * timeoutMs, 'stop()');
      expect(exit).toMatchObject({ code: 3, signal: null, reason: 'stopped' });
      expect(performance.now() - began).toBeLessThan(timeoutMs);
    });

    it('stop() ends a sandbox that keeps the default handling of the polite signal, as stopped', async () => {
      const { spec: made, sandbox } = await launch('sleep');
      await ready(made);
      expect(await within(sandbox.stop(timeoutMs), 2 * timeoutMs, 'stop()')).toMatchObject({ reason: 'stopped' });
    });

    it('stop() kills a sandbox that ignores the polite signal once the grace has run out, not before', async () => {
      const { spec: made, sandbox } = await launch('ignore');
      await ready(made);
      const began = performance.now();
      const exit = await within(sandbox.stop(graceMs), graceMs + timeoutMs, 'stop()');
      const elapsed = performance.now() - began;
      expect(exit).toMatchObject({ code: null, signal: 'SIGKILL', reason: 'killed' });
      expect(elapsed).toBeGreaterThanOrEqual(graceMs - GRACE_TOLERANCE_MS);
    });

    it('kill() ends at once even a sandbox that ignores the polite signal', async () => {
      const { spec: made, sandbox } = await launch('ignore');
      await ready(made);
      const exit = await within(sandbox.kill(), timeoutMs, 'kill()');
      expect(exit).toMatchObject({ code: null, signal: 'SIGKILL', reason: 'killed' });
      expect(await within(sandbox.exit, timeoutMs, 'exit')).toEqual(exit);
    });

    it('settles exit once: concurrent stop(), kill() and exit all give the one value, and so do later calls', async () => {
      const { spec: made, sandbox } = await launch('ignore');
      await ready(made);
      const [stopped, killed, exited] = await within(
        Promise.all([sandbox.stop(timeoutMs), sandbox.kill(), sandbox.exit]),
        timeoutMs,
        'stop(), kill() and exit',
      );
      expect(exited.reason).toBe('killed');
      expect(stopped).toEqual(exited);
      expect(killed).toEqual(exited);
      expect(await within(sandbox.stop(0), timeoutMs, 'stop() after the exit')).toEqual(exited);
      expect(await within(sandbox.kill(), timeoutMs, 'kill() after the exit')).toEqual(exited);
    });

    it('stop() and kill() after a natural exit change nothing', async () => {
      const { sandbox } = await launch('exit:4');
      const exit = await within(sandbox.exit, timeoutMs, 'exit');
      expect(await within(sandbox.stop(graceMs), timeoutMs, 'stop() after the exit')).toEqual(exit);
      expect(await within(sandbox.kill(), timeoutMs, 'kill() after the exit')).toEqual(exit);
      expect(await sandbox.exit).toMatchObject({ code: 4, reason: 'exited' });
    });

    it('rejects a start whose signal is already aborted, and leaves nothing behind', async () => {
      const made = spec('sleep');
      const controller = new AbortController();
      controller.abort();
      expect(await startRefused(runtime.start(made, controller.signal))).toBe(true);
      expect(await exists(made.workdir)).toBe(false);
    });

    it('rejects a start aborted while starting, and leaves nothing behind', async () => {
      const made = spec('sleep');
      const controller = new AbortController();
      const start = runtime.start(made, controller.signal);
      controller.abort();
      expect(await startRefused(start)).toBe(true);
      expect(await exists(made.workdir)).toBe(false);
    });

    it('refuses a workdir that already holds files, and leaves them alone', async () => {
      count += 1;
      const workdir = join(root, `item-${count}`);
      await mkdir(workdir, { recursive: true });
      await writeFile(join(workdir, 'keep.txt'), 'not yours');
      const made = makeSpec({ workdir, conformance: 'exit:0' });
      expect(await startRefused(runtime.start(made, new AbortController().signal))).toBe(true);
      expect(await readFile(join(workdir, 'keep.txt'), 'utf8')).toBe('not yours');
      await rm(workdir, { recursive: true });
    });

    it('creates the workdir fresh for the sandbox and removes it by the time exit resolves', async () => {
      const { spec: made, sandbox } = await launch('sleep');
      await ready(made);
      expect((await stat(made.workdir)).isDirectory()).toBe(true);
      await within(sandbox.kill(), timeoutMs, 'kill()');
      expect(await exists(made.workdir)).toBe(false);
    });

    it('delivers the on-work environment with the secret, and the work item on standard input, exactly', async () => {
      const { spec: made, sandbox } = await launch('echo', { secret: { sessions_token: 'sesstok-conformance-0123456789' } });
      const echo = await echoOf(made);
      expect(await within(sandbox.exit, timeoutMs, 'exit')).toMatchObject({ code: 0, reason: 'exited' });
      expect(made.env.ANTHROPIC_WORK_SECRET).toBe(made.work.secret);
      expect(echo.env).toEqual({ ...made.env });
      expect(echo.stdin).toBe(made.stdin);
      expect(JSON.parse(echo.stdin)).toEqual(made.work);
      expect(echo.otherAnthropicVariables).toEqual([]);
      expect(echo.canaryVisible).toBe(false);
    });

    it('passes no ANTHROPIC_WORK_SECRET when the item has no secret', async () => {
      const { spec: made, sandbox } = await launch('echo');
      const echo = await echoOf(made);
      await within(sandbox.exit, timeoutMs, 'exit');
      expect(made.work.secret).toBeNull();
      expect(echo.env).toEqual({ ...made.env });
      expect(Object.keys(echo.env)).not.toContain('ANTHROPIC_WORK_SECRET');
      expect(echo.stdin).toBe(made.stdin);
      expect(echo.canaryVisible).toBe(false);
    });
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
