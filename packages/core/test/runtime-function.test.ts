import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceFunction, makeSpec, runtimeConformance, type TestSandboxSpec } from '../src/conformance/index.js';
import { functionRuntime, type WorkContext, type WorkFunction } from '../src/runtime/function-runtime.js';
import type { Sandbox } from '../src/runtime/sandbox-runtime.js';
import { VirtualClock } from '../src/time/virtual-clock.js';

runtimeConformance({ name: 'function', makeRuntime: () => functionRuntime(conformanceFunction) });

/** A promise settled from outside, so a test decides when a work function returns. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** A work function that hands its context to the test and returns when the test says so. */
function controlled(): { fn: WorkFunction; ctx: Promise<WorkContext>; finish: ReturnType<typeof deferred<number | void>> } {
  const ctx = deferred<WorkContext>();
  const finish = deferred<number | void>();
  return {
    fn: (_work, context) => {
      ctx.resolve(context);
      return finish.promise;
    },
    ctx: ctx.promise,
    finish,
  };
}

describe('functionRuntime', () => {
  let root: string;
  let count = 0;
  const secret = { sessions_token: 'sesstok-function-runtime-4f9a2c' };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'envworker-function-runtime-'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  function spec(): TestSandboxSpec {
    count += 1;
    return makeSpec({ workdir: join(root, `item-${count}`), secret });
  }

  function start(fn: WorkFunction, made: TestSandboxSpec, clock?: VirtualClock, maxRunMs?: number): Promise<Sandbox> {
    const runtime = functionRuntime(fn, {
      ...(clock ? { clock } : {}),
      ...(maxRunMs === undefined ? {} : { maxRunMs, limitGraceMs: 200 }),
    });
    return runtime.start(made, new AbortController().signal);
  }

  it('sends ctx.logger lines to the log sink with worker, work and session ids bound and credentials scrubbed', async () => {
    const made = spec();
    const sandbox = await start((_work, ctx) => {
      ctx.logger.info({ step: 'clone' }, `using ${ctx.env.ANTHROPIC_ENVIRONMENT_KEY} and ${secret.sessions_token}`);
    }, made);
    expect(await sandbox.exit).toMatchObject({ code: 0, reason: 'exited' });
    expect(made.log.lines).toHaveLength(1);
    const [line] = made.log.lines;
    expect(line?.stream).toBe('stdout');
    const record = JSON.parse(line?.text ?? '') as Record<string, unknown>;
    expect(record).toMatchObject({
      worker_id: made.workerId,
      work_id: made.work.id,
      session_id: made.work.data.id,
      step: 'clone',
      msg: 'using [redacted] and [redacted]',
    });
    expect(line?.text).not.toContain(made.env.ANTHROPIC_ENVIRONMENT_KEY);
    expect(line?.text).not.toContain(secret.sessions_token);
  });

  it('splits ctx.write output into lines on the chosen stream', async () => {
    const made = spec();
    const sandbox = await start((_work, ctx) => {
      ctx.write('one\ntwo\n');
      ctx.write('three', 'stderr');
    }, made);
    await sandbox.exit;
    expect(made.log.lines).toEqual([
      { stream: 'stdout', text: 'one' },
      { stream: 'stdout', text: 'two' },
      { stream: 'stderr', text: 'three' },
    ]);
  });

  it('exits 1 with the error message as detail when the function throws, credentials scrubbed', async () => {
    const made = spec();
    const sandbox = await start(async (_work, ctx) => {
      throw new Error(`clone failed with key ${ctx.env.ANTHROPIC_ENVIRONMENT_KEY} and secret ${ctx.env.ANTHROPIC_WORK_SECRET}`);
    }, made);
    const exit = await sandbox.exit;
    expect(exit).toMatchObject({ code: 1, signal: null, reason: 'exited' });
    expect(exit.detail).toBe('clone failed with key [redacted] and secret [redacted]');
  });

  it('exits 1 when the function throws synchronously', async () => {
    const sandbox = await start(() => {
      throw new Error('bad input');
    }, spec());
    expect(await sandbox.exit).toMatchObject({ code: 1, reason: 'exited', detail: 'bad input' });
  });

  it('exits with the code the function resolves with, and 1 for a code outside 0-255', async () => {
    expect(await (await start(() => 12, spec())).exit).toMatchObject({ code: 12, reason: 'exited' });
    const invalid = await (await start(() => 256, spec())).exit;
    expect(invalid).toMatchObject({ code: 1, reason: 'exited' });
    expect(invalid.detail).toContain('invalid exit code');
  });

  it('reports stopped when the function returns after stop(), even if it never looked at the signal', async () => {
    const { fn, ctx, finish } = controlled();
    const sandbox = await start(fn, spec());
    const context = await ctx;
    const stopping = sandbox.stop(60_000);
    expect(context.signal.aborted).toBe(true);
    finish.resolve();
    expect(await stopping).toMatchObject({ code: 0, signal: null, reason: 'stopped' });
  });

  it('reports stopped with code 1 when the function throws after stop()', async () => {
    const { fn, finish } = controlled();
    const sandbox = await start(fn, spec());
    const stopping = sandbox.stop(60_000);
    finish.reject(new Error('interrupted'));
    expect(await stopping).toMatchObject({ code: 1, reason: 'stopped', detail: 'interrupted' });
  });

  it('kills only once the grace has passed on the clock, and drops what the function does afterwards', async () => {
    const clock = new VirtualClock();
    const { fn, ctx, finish } = controlled();
    const made = spec();
    const sandbox = await start(fn, made, clock);
    const context = await ctx;
    const stopping = sandbox.stop(1000);
    clock.advance(999);
    context.write('still running');
    clock.advance(1);
    context.write('abandoned');
    finish.resolve(0);
    expect(await stopping).toMatchObject({ code: null, signal: 'SIGKILL', reason: 'killed', durationMs: 1000 });
    expect(made.log.lines.map((line) => line.text)).toEqual(['still running']);
  });

  it('kill() fires the polite signal and ignores the later result', async () => {
    const { fn, ctx, finish } = controlled();
    const sandbox = await start(fn, spec());
    const context = await ctx;
    const exit = await sandbox.kill();
    expect(context.signal.aborted).toBe(true);
    finish.resolve(0);
    expect(exit).toMatchObject({ code: null, signal: 'SIGKILL', reason: 'killed' });
    expect(await sandbox.exit).toBe(exit);
  });

  it('maxRunMs: fires the polite signal at the limit, not before, and a function that then returns ends as limit', async () => {
    const clock = new VirtualClock();
    const { fn, ctx, finish } = controlled();
    const sandbox = await start(fn, spec(), clock, 5000);
    const context = await ctx;
    clock.advance(4999);
    expect(context.signal.aborted).toBe(false);
    clock.advance(1);
    expect(context.signal.aborted).toBe(true);
    finish.resolve();
    const exit = await sandbox.exit;
    expect(exit).toMatchObject({ code: 0, signal: null, reason: 'limit', durationMs: 5000 });
    expect(exit.detail).toContain('maxRunMs');
  });

  it('maxRunMs: a function that ignores the limit is abandoned after the limit grace, as limit', async () => {
    const clock = new VirtualClock();
    const { fn, ctx } = controlled();
    const made = spec();
    const sandbox = await start(fn, made, clock, 5000);
    const context = await ctx;
    clock.advance(5000);
    clock.advance(199);
    context.write('within the limit grace');
    clock.advance(1);
    context.write('abandoned');
    const exit = await sandbox.exit;
    expect(exit).toMatchObject({ code: null, signal: 'SIGKILL', reason: 'limit', durationMs: 5200 });
    expect(made.log.lines.map((line) => line.text)).toEqual(['within the limit grace']);
  });

  it('creates the workdir before the function runs and removes it with its files after the exit', async () => {
    const made = spec();
    const sandbox = await start(async (_work, ctx) => {
      expect((await stat(ctx.workdir)).isDirectory()).toBe(true);
      await writeFile(join(ctx.workdir, 'output.txt'), 'result');
    }, made);
    expect(await sandbox.exit).toMatchObject({ code: 0, reason: 'exited' });
    expect(await exists(made.workdir)).toBe(false);
  });

  it('keeps the workdir and its files with keepWorkdir', async () => {
    const made = spec();
    const runtime = functionRuntime(
      async (_work, ctx) => {
        await writeFile(join(ctx.workdir, 'output.txt'), 'result');
      },
      { keepWorkdir: true },
    );
    const sandbox = await runtime.start(made, new AbortController().signal);
    await sandbox.exit;
    expect(await readFile(join(made.workdir, 'output.txt'), 'utf8')).toBe('result');
    await rm(made.workdir, { recursive: true });
  });

  it('never calls the function when the start is aborted', async () => {
    let calls = 0;
    const runtime = functionRuntime(() => {
      calls += 1;
    });
    const made = spec();
    const controller = new AbortController();
    const starting = runtime.start(made, controller.signal);
    controller.abort();
    await expect(starting).rejects.toThrow();
    expect(calls).toBe(0);
    expect(await exists(made.workdir)).toBe(false);
  });

  it('rejects bad options and a bad grace, naming the field', async () => {
    expect(() => functionRuntime(conformanceFunction, { maxRunMs: 0 })).toThrow(/maxRunMs/);
    expect(() => functionRuntime(conformanceFunction, { limitGraceMs: -1 })).toThrow(/limitGraceMs/);
    expect(() => functionRuntime(conformanceFunction, { logLevel: 'loud' as 'info' })).toThrow(/logLevel/);
    expect(() => functionRuntime('not a function' as unknown as WorkFunction)).toThrow(/fn/);
    const { fn } = controlled();
    const sandbox = await start(fn, spec());
    await expect(sandbox.stop(-1)).rejects.toThrow(/graceMs/);
    expect((await sandbox.kill()).reason).toBe('killed');
  });
});
