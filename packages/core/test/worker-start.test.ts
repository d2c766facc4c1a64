/**
 * A worker checks its runtime and reaps before it claims: `start()` calls the runtime's
 * `prepare`, then asks it to remove what a crashed worker with the same id left behind, and
 * refuses to start when either fails.
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

async function workerWith(reap: SandboxRuntime['reap'], prepare?: SandboxRuntime['prepare']) {
  const workdirRoot = await mkdtemp(join(tmpdir(), 'envworker-reap-'));
  dirs.push(workdirRoot);
  const runtime: SandboxRuntime = {
    ...functionRuntime(() => undefined),
    ...(reap === undefined ? {} : { reap }),
    ...(prepare === undefined ? {} : { prepare }),
  };
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

  it('prepares the runtime before reaping, and refuses to start, naming the runtime, when it is not ready', async () => {
    const calls: string[] = [];
    const ready = await workerWith(
      async () => {
        calls.push('reap');
        return 0;
      },
      async () => {
        calls.push('prepare');
      },
    );
    await ready.start();
    expect(calls).toEqual(['prepare', 'reap']);
    await ready.shutdown({ mode: 'stop' });

    const broken = await workerWith(
      async () => {
        calls.push('reap after a failed prepare');
        return 0;
      },
      async () => {
        throw new Error('no image envworker/missing:1 (image policy never)');
      },
    );
    await expect(broken.start()).rejects.toThrow(/function runtime is not ready: .*no image envworker\/missing:1/);
    expect(calls).not.toContain('reap after a failed prepare');
    await broken.shutdown({ mode: 'stop' });
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
