/**
 * The worker's own client keeps a bounded pool of kept-alive connections: a burst of calls (100
 * items starting, beating and stopping at once) queues on the pool instead of opening a socket
 * per call. Connections are counted by a pass-through TCP relay in front of the real control
 * plane: an observer, not a fake (it forwards every byte unchanged).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorker, functionRuntime, type Worker } from '@envworker/core';
import { startControlPlane, type ControlPlane } from '../src/index.js';

/** A TCP relay to `target` that counts the connections it accepted and the most open at once. */
async function countingRelay(target: URL): Promise<{ url: string; accepted: () => number; peak: () => number; close: () => Promise<void> }> {
  let accepted = 0;
  let open = 0;
  let peak = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    accepted += 1;
    open += 1;
    peak = Math.max(peak, open);
    const outbound = connect(Number(target.port), target.hostname);
    sockets.add(inbound).add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    const end = (): void => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.once('close', () => {
      open -= 1;
      end();
    });
    inbound.on('error', end);
    outbound.on('error', end).once('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('relay has no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    accepted: () => accepted,
    peak: () => peak,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let cp: ControlPlane | undefined;
let worker: Worker | undefined;
afterEach(async () => {
  await worker?.shutdown({ mode: 'stop', deadlineMs: 5000 });
  await cp?.close();
});

describe("the worker's connections", () => {
  it('stays within one per long poll plus 32 for short calls when 100 items start and stop at once', async () => {
    cp = await startControlPlane();
    const relay = await countingRelay(new URL(cp.url));
    try {
      const environment = cp.environments[0]!;
      const items = 100;
      for (let i = 0; i < items; i += 1) await cp.enqueue({ metadata: { i: String(i) } });
      let release: () => void = () => undefined;
      const released = new Promise<void>((resolve) => (release = resolve));
      let started = 0;
      let stopped = 0;
      const allStarted = new Promise<void>((resolve) => {
        worker = createWorker({
          baseUrl: relay.url,
          environmentId: environment.id,
          environmentKey: environment.key,
          maxConcurrency: items,
          pollers: 4,
          pollIdleDelayMs: [0, 0],
          logger: { level: 'silent' },
          runtime: functionRuntime(async () => {
            started += 1;
            if (started === items) resolve();
            await released;
          }),
        });
      });
      const allStopped = new Promise<void>((resolve) =>
        worker!.events$.subscribe((event) => {
          if (event.type === 'stopped' && ++stopped === items) resolve();
        }),
      );
      await worker!.start();
      await allStarted;
      release();
      await allStopped;
      expect(relay.peak()).toBeLessThanOrEqual(4 + 32);
      expect(relay.accepted()).toBeLessThanOrEqual(4 + 32);
      expect((await cp.store.stats(environment.id)).depth).toBe(0);
    } finally {
      await relay.close();
    }
  }, 30_000);
});
