/**
 * What the worker-thread runtime adds beyond the conformance suite: a thread that runs out of its
 * heap limit ends with reason `limit`, and a program that throws ends with code 1, its error on
 * stderr (through the log sink, which the worker's logger scrubs) and only its kind in the exit.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSpec } from '@envworker/core/conformance';
import { workerThreadRuntime } from '../src/worker-thread-runtime.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'envworker-thread-limits-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the worker-thread runtime', () => {
  it('ends a thread that exceeds its heap limit with reason limit, and removes its workdir', async () => {
    const runtime = workerThreadRuntime({
      program: new URL('./fixtures/allocate.mjs', import.meta.url),
      resourceLimits: { maxOldGenerationSizeMb: 16 },
    });
    const spec = makeSpec({ workdir: join(root, 'allocate') });
    const sandbox = await runtime.start(spec, new AbortController().signal);
    expect(await sandbox.exit).toMatchObject({ code: null, signal: null, reason: 'limit', detail: 'out of memory (resourceLimits)' });
    await expect(stat(spec.workdir)).rejects.toThrow();
  });

  it('reports a program that throws as exit code 1, with its message on stderr and only its kind in the exit', async () => {
    const runtime = workerThreadRuntime({ program: new URL('./fixtures/missing-program.mjs', import.meta.url) });
    const spec = makeSpec({ workdir: join(root, 'missing') });
    const sandbox = await runtime.start(spec, new AbortController().signal);
    expect(await sandbox.exit).toMatchObject({ code: 1, signal: null, reason: 'exited', detail: 'uncaught ERR_MODULE_NOT_FOUND' });
    expect(spec.log.lines).toContainEqual({ stream: 'stderr', text: expect.stringContaining('missing-program.mjs') });
  });

  it('refuses a program that is not a file: URL, naming the option', () => {
    expect(() => workerThreadRuntime({ program: new URL('https://example.test/program.mjs') })).toThrow(/program must be a file: URL/);
  });
});
