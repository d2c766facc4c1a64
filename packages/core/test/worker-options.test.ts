import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createWorker } from '../src/worker/create-worker.js';
import { defaultWorkerId, resolveWorkerOptions, type WorkerOptions } from '../src/worker/worker-options.js';
import { functionRuntime } from '../src/runtime/function-runtime.js';
import { ENV_ID, ENV_KEY } from './support/fixtures.js';

const valid: WorkerOptions = {
  baseUrl: 'http://127.0.0.1:1',
  environmentId: ENV_ID,
  environmentKey: ENV_KEY,
  runtime: functionRuntime(() => undefined),
};

/** The options with one field replaced by an arbitrary (possibly ill-typed) value. */
function withField(field: string, value: unknown): WorkerOptions {
  return { ...valid, [field]: value } as unknown as WorkerOptions;
}

describe('createWorker options', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['baseUrl', 'ftp://example.com', /baseUrl/],
    ['baseUrl', 'not a url', /baseUrl/],
    ['environmentId', '', /environmentId/],
    ['environmentKey', 'has space', /environmentKey/],
    ['runtime', {}, /runtime/],
    ['client', { poll: () => null }, /client/],
    ['maxConcurrency', 0, /maxConcurrency/],
    ['maxConcurrency', 1.5, /maxConcurrency/],
    ['pollers', 0, /pollers/],
    ['workerId', 'two words', /workerId/],
    ['leaseTtlSeconds', 0, /leaseTtlSeconds/],
    ['stopGraceMs', -1, /stopGraceMs/],
    ['logger', 'debug', /logger/],
    ['clock', { now: () => 0 }, /clock/],
    ['pollIdleDelayMs', [3000, 1000], /pollIdleDelayMs/],
    ['pollIdleDelayMs', [0], /pollIdleDelayMs/],
    ['pollIdleDelayMs', [-1, 0], /pollIdleDelayMs/],
    ['workdirRoot', 'relative/dir', /workdirRoot/],
    ['random', 0.5, /random/],
  ];
  for (const [field, value, pattern] of bad) {
    it(`rejects a bad ${field} (${JSON.stringify(value)}) with an error naming it`, () => {
      expect(() => createWorker(withField(field, value))).toThrow(pattern);
    });
  }

  it('never repeats the environment key in an error', () => {
    const key = 'secret key with spaces 123456';
    expect(() => createWorker(withField('environmentKey', key))).toThrow(/environmentKey/);
    try {
      createWorker(withField('environmentKey', key));
    } catch (error) {
      expect((error as Error).message).not.toContain(key);
    }
  });

  it('needs pollers <= maxConcurrency: a poll needs a free slot', () => {
    expect(() => createWorker({ ...valid, maxConcurrency: 2, pollers: 3 })).toThrow(/pollers \(3\) must not exceed maxConcurrency \(2\)/);
  });

  it('fills in the defaults', () => {
    const resolved = resolveWorkerOptions(valid);
    expect(resolved).toMatchObject({
      maxConcurrency: 1,
      pollers: 1,
      stopGraceMs: 10_000,
      pollIdleDelayMs: [1000, 3000],
      leaseTtlSeconds: undefined,
      client: null,
      ownsWorkdirRoot: true,
    });
    expect(resolved.workerId).toMatch(/^[\x21-\x7e]+-[0-9a-f-]{36}$/);
    expect(resolved.workdirRoot).toBe(join(tmpdir(), 'envworker', resolved.workerId));
  });

  it('default worker ids are unique per worker', () => {
    expect(defaultWorkerId()).not.toBe(defaultWorkerId());
  });

  it('a worker never started shuts down at once, and start() afterwards is refused', async () => {
    const worker = createWorker(valid);
    await worker.shutdown();
    await expect(worker.done).resolves.toBeUndefined();
    expect(worker.status().lifecycle).toBe('stopped');
    await expect(worker.start()).rejects.toThrow(/already started/);
  });

  it('refuses a second start', async () => {
    const worker = createWorker({ ...valid, pollIdleDelayMs: [0, 0], logger: { level: 'silent' } });
    await worker.start();
    await expect(worker.start()).rejects.toThrow(/already started/);
    await worker.shutdown({ mode: 'stop' });
    expect(worker.status().lifecycle).toBe('stopped');
    // Shutting down again is harmless and changes nothing.
    await worker.shutdown({ mode: 'stop' });
    expect(worker.status().lifecycle).toBe('stopped');
  });

  it('rejects bad shutdown options by name', async () => {
    const worker = createWorker(valid);
    await expect(worker.shutdown({ mode: 'later' as 'drain' })).rejects.toThrow(/mode/);
    await expect(worker.shutdown({ deadlineMs: -5 })).rejects.toThrow(/deadlineMs/);
  });
});
