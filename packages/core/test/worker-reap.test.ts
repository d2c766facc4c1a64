/**
 * A worker reaps before it claims: `start()` asks the runtime to remove what a crashed worker
 * with the same id left behind, and refuses to start when that fails.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorker, functionRuntime, VirtualClock, type SandboxRuntime } from '../src/index.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function workerWith(reap: SandboxRuntime['reap']) {
  const workdirRoot = await mkdtemp(join(tmpdir(), 'envworker-reap-'));
  dirs.push(workdirRoot);
  const runtime: SandboxRuntime = { ...functionRuntime(() => undefined), ...(reap === undefined ? {} : { reap }) };
  // Port 9 on loopback refuses connections: the worker only ever gets as far as polling.
  return createWorker({
    baseUrl: 'http://127.0.0.1:9',
    environmentId: 'env_000000000000000000000000',
    environmentKey: 'ek_reap_test_key_000000000000',
    workerId: 'reap-test-worker',
    runtime,
    workdirRoot,
    clock: new VirtualClock(0),
    logger: { level: 'silent' },
  });
}

describe('worker start reaps', () => {
  it("calls the runtime's reap with the worker id before polling", async () => {
    const calls: string[] = [];
    const worker = await workerWith(async (workerId) => {
      calls.push(workerId);
      expect(worker.status().slots.polling).toBe(0);
      return 2;
    });
    await worker.start();
    expect(calls).toEqual(['reap-test-worker']);
    await worker.shutdown({ mode: 'stop' });
  });

  it('refuses to start, saying why, when reaping fails', async () => {
    const worker = await workerWith(async () => {
      throw new Error('state directory is not ours');
    });
    await expect(worker.start()).rejects.toThrow(/could not reap .*reap-test-worker.*state directory is not ours/);
    expect(worker.status().lifecycle).toBe('idle');
    await worker.shutdown({ mode: 'stop' });
  });
});
